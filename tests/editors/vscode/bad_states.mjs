// The extension's bad states in code-server, each a clear message: tinyml-lsp not installed in
// the interpreter, a server that keeps crashing, no board chosen, no LLM endpoint, a command
// the server lacks, no folder open. Settings change between steps as a user changes them (the
// settings JSON edited and saved). Environment: TINYML_URL, TINYML_WORKSPACE, TINYML_ARTIFACTS,
// TINYML_BASE_SETTINGS and TINYML_SETTINGS (each step's settings, JSON).
import { chromium } from "playwright-core";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ui } from "./ui.mjs";

const env = process.env;
const seen = { steps: {}, texts: [], at: {} };
const started = Date.now();
let page;
let ui;

// Edit the user settings as a user does: the settings JSON in the editor, saved.
async function settingsStep(name) {
  const settings = JSON.parse(env.TINYML_SETTINGS)[name];
  await ui.palette("Preferences: Open User Settings (JSON)");
  await page.locator(".tabs-container .tab", { hasText: "settings.json" }).waitFor();
  const editor = page.locator(".editor-instance .monaco-editor").last();
  await editor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(JSON.stringify({ ...JSON.parse(env.TINYML_BASE_SETTINGS), ...settings }));
  await page.keyboard.press("Control+S");
  await page.waitForTimeout(500);
  await page.keyboard.press("Control+W");
}

// Run a command whose first step needs the running server; retried while it is starting.
async function untilServerAnswers(command, placeholder) {
  const deadline = Date.now() + 90000;
  for (;;) {
    await ui.clearNotifications();
    await ui.palette(command);
    const picker = page.locator(`.quick-input-widget input[placeholder="${placeholder}"]`);
    const down = page.locator(".notifications-toasts .notification-toast", { hasText: "is not running" });
    const which = await Promise.race([
      picker.waitFor({ timeout: 60000 }).then(() => "picker"),
      down.first().waitFor({ timeout: 60000 }).then(() => "down"),
    ]);
    if (which === "picker") return;
    if (Date.now() > deadline) throw new Error("the server did not start");
    await page.waitForTimeout(2000);
  }
}

async function main() {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  page.setDefaultTimeout(30000);
  ui = new Ui(page, seen, env.TINYML_ARTIFACTS);
  try {
    await page.goto(`${env.TINYML_URL}/?folder=${encodeURIComponent(env.TINYML_WORKSPACE)}`);
    await page.locator(".explorer-folders-view").waitFor({ timeout: 120000 });

    // 1. an interpreter without tinyml-lsp: which one, why, and the install command
    await ui.openFile("script.py");
    seen.steps.not_installed = await ui.notification("is not installed in", 60000);
    seen.at.not_installed = (Date.now() - started) / 1000;
    await ui.shot("bad-01-not-installed");
    await ui.clearNotifications();

    // 2. a server that dies at every start: restarted a bounded number of times, then said
    await settingsStep("crashing");
    seen.steps.crashing = await ui.notificationAnywhere("not restarted again", 10000);
    seen.at.crashing = (Date.now() - started) / 1000;
    await ui.shot("bad-02-crashing");
    await ui.clearNotifications();

    // 3. the real server: no board chosen (the pick dismissed) says what to do
    await settingsStep("working");
    await untilServerAnswers("TinyML: Generate Inference Sketch", "Board for the inference sketch");
    await page.keyboard.press("Escape");
    seen.steps.no_board = await ui.notification("no board selected", 15000);
    seen.at.no_board = (Date.now() - started) / 1000;
    await ui.shot("bad-03-no-board");
    await ui.clearNotifications();

    // 4. no LLM endpoint: Customize with LLM says so (the deterministic actions still work)
    await ui.openFile("fw/src/main.c");
    await ui.palette("TinyML: Customize with LLM");
    await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
    await page.locator(".quick-input-widget input").fill("print ALERT when the score is above 0.8");
    await page.keyboard.press("Enter");
    seen.steps.no_llm = await ui.notification("LLM endpoint", 60000);
    seen.at.no_llm = (Date.now() - started) / 1000;
    await ui.shot("bad-04-no-llm");
    await ui.clearNotifications();

    // 5. Check Sketch on a server without tinyml.check: said, not silent
    await ui.palette("TinyML: Check Sketch");
    seen.steps.check = await ui.notification(/tinyml\.check|Check sketch|check/i, 60000);
    seen.at.check = (Date.now() - started) / 1000;
    await ui.shot("bad-05-check");
    await ui.clearNotifications();

    // 6. no folder open: the commands that work on a workspace say so
    await page.goto(`${env.TINYML_URL}/?ew=true`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 120000 });
    await ui.palette("TinyML: Build");
    seen.steps.no_workspace = await ui.notification("open a folder first", 60000);
    seen.at.no_workspace = (Date.now() - started) / 1000;
    await ui.shot("bad-06-no-workspace");
  } catch (err) {
    seen.failure = String(err && err.stack ? err.stack : err);
    await ui.shot("bad-failure").catch(() => {});
  } finally {
    await browser.close();
  }
  writeFileSync(join(env.TINYML_ARTIFACTS, "seen.json"), JSON.stringify(seen, null, 2));
  process.exit(seen.failure ? 1 : 0);
}

await main();
