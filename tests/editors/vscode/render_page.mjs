// Open an HTML page in Debian's Chromium (headless, no network) and say what rendered:
// node render_page.mjs PAGE SCREENSHOT light|dark → JSON on stdout.
import { chromium } from "playwright-core";

const [page_, screenshot, scheme] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1200, height: 900 } });
  await context.route(/^(?!file:)/, (route) => route.abort()); // no CDN, no network
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto("file://" + page_);
  await page.waitForFunction(() => document.body.dataset.charts !== "0", null, { timeout: 15000 }).catch(() => {});
  const seen = await page.evaluate(() => {
    const canvases = [...document.querySelectorAll("canvas")];
    // a canvas that drew something has pixels that are not fully transparent
    const inked = canvases.filter((c) => {
      const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
      return false;
    });
    const style = getComputedStyle(document.body);
    return {
      charts: Number(document.body.dataset.charts),
      canvases: canvases.length,
      inked: inked.map((c) => c.id),
      color: style.color,
      background: style.backgroundColor,
      text: document.body.innerText.slice(0, 2000),
    };
  });
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ ...seen, errors }));
} finally {
  await browser.close();
}
