import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { installCommand, missingServerMessage, resolveInterpreter, venvPython } from "../src/logic/interpreter";

const none = () => false;

test("the setting wins over the Python extension and a .venv", () => {
  const r = resolveInterpreter({
    setting: " /opt/py/bin/python ",
    pythonExtension: "/usr/bin/python3.11",
    workspaceFolders: ["/w"],
    exists: () => true,
  });
  assert.deepEqual(r, { python: "/opt/py/bin/python", source: "setting" });
});

test("without the setting, the Python extension's interpreter", () => {
  const r = resolveInterpreter({ setting: "", pythonExtension: "/e/bin/python", workspaceFolders: ["/w"], exists: () => true });
  assert.deepEqual(r, { python: "/e/bin/python", source: "python-extension" });
});

test("then the first workspace folder with a .venv, on disk", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tinyml-interp-"));
  const a = path.join(root, "a");
  const b = path.join(root, "b");
  fs.mkdirSync(path.join(b, ".venv", "bin"), { recursive: true });
  fs.writeFileSync(path.join(b, ".venv", "bin", "python"), "");
  const r = resolveInterpreter({ workspaceFolders: [a, b], exists: fs.existsSync, platform: "linux" });
  assert.deepEqual(r, { python: path.join(b, ".venv", "bin", "python"), source: "workspace-venv" });
});

test("Windows venvs live in Scripts", () => {
  assert.equal(venvPython("/w", "win32"), path.join("/w", ".venv", "Scripts", "python.exe"));
});

test("last, python3 on PATH", () => {
  assert.deepEqual(resolveInterpreter({ workspaceFolders: ["/nowhere"], exists: none, platform: "linux" }), {
    python: "python3",
    source: "path",
  });
});

test("a missing server is named with the interpreter and the command that installs it", () => {
  // the real failure, from an interpreter without tinyml-lsp
  let detail = "";
  try {
    execFileSync("python3", ["-I", "-c", "import tinyml_lsp_not_installed"], { stdio: "pipe" });
  } catch (err) {
    detail = String((err as { stderr: Buffer }).stderr);
  }
  assert.match(detail, /ModuleNotFoundError/);
  const text = missingServerMessage({ python: "/usr/bin/python3", source: "path" }, detail);
  assert.match(text, /not installed in \/usr\/bin\/python3 \(python3 on PATH\)/);
  assert.match(text, /ModuleNotFoundError: No module named 'tinyml_lsp_not_installed'/);
  assert.ok(text.includes(installCommand("/usr/bin/python3")));
  assert.equal(installCommand("/usr/bin/python3"), "/usr/bin/python3 -m pip install tinyml-lsp");
});
