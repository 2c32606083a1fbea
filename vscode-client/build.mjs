// Bundle the extension with esbuild (one file, vscode-languageclient inside) and ship Chart.js's
// browser build beside it: the report page inlines it, nothing is fetched at view time.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
mkdirSync("dist", { recursive: true });
await esbuild.build({
  entryPoints: ["src/extension.ts"],
  bundle: true,
  outfile: "dist/extension.js",
  external: ["vscode"],
  format: "cjs",
  platform: "node",
  target: "node20",
  sourcemap: true,
  minify: true,
  logLevel: "warning",
});
const chart = join(dirname(require.resolve("chart.js")), "chart.umd.js");
copyFileSync(chart, "dist/chart.umd.js");
