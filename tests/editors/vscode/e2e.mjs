// The extension in a real VS Code (code-server), driven through its UI in headless Chromium as
// a user would: the command palette, quick picks, the refactor preview, the terminal, the
// webview. Run by test_code_server.py, which starts code-server and checks what this reports.
// Environment: TINYML_URL, TINYML_WORKSPACE, TINYML_ARTIFACTS, TINYML_API_KEY.
// Prints one JSON object: the steps' timings and what was seen; exits 1 on the first failure.
import { chromium } from "playwright-core";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ui } from "./ui.mjs";

const env = process.env;
const seen = { steps: {}, texts: [] };
const started = Date.now();
let page;

function note(step, value) {
  seen.steps[step] = { seconds: (Date.now() - started) / 1000, ...value };
}

let ui;
const shot = (name) => ui.shot(name);
const palette = (title) => ui.palette(title);
const notification = (pattern, timeout) => ui.notification(pattern, timeout);
const quickPickFirst = (placeholder) => ui.quickPickFirst(placeholder);

// Tick every file of the refactor preview. Its tree is virtual and re-renders at will, so
// each round reads and ticks the rows in one step in the page, then scrolls on.
async function tickAll() {
  const panel = () =>
    page.locator(".monaco-list", { has: page.locator('.monaco-list-row[aria-level="1"] input.edit-checkbox') }).last();
  const ticked = new Set();
  let last;
  for (let round = 0; round < 40; round++) {
    const state = await panel()
      .evaluate((list) => {
        const rows = [...list.querySelectorAll('.monaco-list-row[aria-level="1"]')];
        for (const row of rows) {
          const box = row.querySelector("input.edit-checkbox");
          if (box && !box.checked) box.click();
        }
        return {
          rows: rows.map((r) => [r.getAttribute("aria-label"), r.querySelector("input.edit-checkbox")?.checked]),
          top: list.querySelector(".monaco-scrollable-element")?.scrollTop ?? 0,
        };
      })
      .catch(() => undefined); // re-rendered under us: read it again
    if (!state) continue;
    const unticked = state.rows.filter(([, checked]) => !checked);
    for (const [label, checked] of state.rows) if (checked) ticked.add(label);
    if (unticked.length) continue; // the click's effect shows in the next round
    const first = state.rows[0]?.[0];
    if (round > 0 && first === last) break; // scrolling moved nothing: the end
    last = first;
    await panel().hover();
    await page.mouse.wheel(0, 300);
    await page.waitForTimeout(300);
  }
  return [...ticked];
}

async function main() {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  ui = new Ui(page, seen, env.TINYML_ARTIFACTS);
  page.setDefaultTimeout(30000);
  try {
    await page.goto(`${env.TINYML_URL}/?folder=${encodeURIComponent(env.TINYML_WORKSPACE)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 120000 });
    await page.locator(".explorer-folders-view").waitFor({ timeout: 60000 });
    note("workbench", {});

    // the key, through the extension's own command, into the secret storage
    await palette("TinyML: Set LLM API Key");
    const keyBox = page.locator('.quick-input-widget input[type="password"]');
    await keyBox.waitFor();
    await keyBox.fill(env.TINYML_API_KEY);
    await page.keyboard.press("Enter");
    await notification("LLM API key stored", 15000);
    await shot("01-api-key-stored");

    // the training script, and the server up (the status bar shows the board)
    await ui.openFile("train.py");
    await page.locator(".statusbar-item", { hasText: "tinyml-qemu-m4" }).waitFor({ timeout: 60000 });
    note("opened", {});

    // the status bar shows the running job, and a click on it cancels the job: nothing written
    await palette("TinyML: Quantize Model");
    const running = page.locator(".statusbar-item", { hasText: "tinyml-qemu-m4" }).filter({ hasText: "Quantize model" });
    await running.waitFor({ timeout: 60000 });
    await shot("02-status-bar-job");
    await running.click();
    await page.locator(".statusbar-item", { hasText: "tinyml-qemu-m4" }).filter({ hasNotText: "Quantize model" }).waitFor({ timeout: 60000 });
    await page.waitForTimeout(2000); // a cancelled quantize that still wrote would show by now
    note("cancel", { written: existsSync(join(env.TINYML_WORKSPACE, "fruit_model_int8.tflite")) });
    await ui.clearNotifications();

    // Quantize Model: a progress notification, then the files
    const t0 = Date.now();
    await palette("TinyML: Quantize Model");
    await notification("Quantize model", 60000);
    await shot("02-quantize-progress");
    const quantized = await notification("Quantized fruit_model.keras", 300000);
    await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "fruit_model_int8.tflite" }).waitFor();
    await shot("03-quantized");
    note("quantize", { message: quantized, seconds_taken: (Date.now() - t0) / 1000 });
    await page.keyboard.press("Escape");

    // Generate Inference Sketch: board and runtime quick picks, the refactor preview, accept
    const t1 = Date.now();
    await palette("TinyML: Generate Inference Sketch");
    const board = await quickPickFirst("Board for the inference sketch");
    const runtime = await quickPickFirst("Runtime");
    const apply = page.locator(".monaco-button", { hasText: /^Apply$/ }).first();
    await apply.waitFor({ timeout: 120000 });
    await page.locator(".refactor-preview, .monaco-list-row", { hasText: "main.c" }).first().waitFor();
    await shot("04-sketch-preview");
    // edits that ask for confirmation arrive unchecked: the user ticks each file, then Apply
    const checked = await tickAll();
    await apply.click();
    const written = await notification("Inference sketch in", 60000);
    await shot("05-sketch-written");
    note("sketch", { board, runtime, checked, message: written, seconds_taken: (Date.now() - t1) / 1000 });

    // Flash to Board: the build, the emulated board, its predictions in the serial terminal
    const t2 = Date.now();
    await palette("TinyML: Flash to Board");
    await notification("Flashed", 400000);
    const terminal = page.locator(".terminal-wrapper.active .xterm-rows, .xterm-rows").last();
    await terminal.waitFor({ timeout: 30000 });
    await page.waitForFunction(
      () => [...document.querySelectorAll(".xterm-rows")].some((t) => t.textContent.includes("-- monitor closed")),
      null,
      { timeout: 300000 },
    );
    const serial = await page.evaluate(() => [...document.querySelectorAll(".xterm-rows")].map((t) =>
      [...t.children].map((row) => row.textContent).join("\n")).join("\n"));
    await shot("06-serial-terminal");
    note("flash", { terminal: serial, seconds_taken: (Date.now() - t2) / 1000 });

    // Show Model Report: the webview, its charts drawn
    const t3 = Date.now();
    // from the explorer's context menu on the model, as a user would
    await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "fruit_model_int8.tflite" }).click({ button: "right" });
    const menuItem = page.locator(".monaco-menu .action-item", { hasText: "Show Model Report" }).first();
    await menuItem.waitFor({ timeout: 15000 });
    seen.menu = (await page.locator(".monaco-menu .action-item").allInnerTexts()).filter((t) => t.trim());
    await shot("07-explorer-menu");
    await menuItem.click();
    let report;
    const deadline = Date.now() + 180000;
    while (!report && Date.now() < deadline) {
      for (const frame of page.frames()) {
        try {
          const r = await frame.evaluate(() => {
            const canvases = [...document.querySelectorAll("canvas")];
            if (!document.getElementById("chart-fit")) return null;
            const inked = canvases.filter((c) => {
              const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
              for (let i = 3; i < d.length; i += 4) if (d[i]) return true;
              return false;
            });
            return { charts: Number(document.body.dataset.charts), canvases: canvases.length,
                     inked: inked.map((c) => c.id), title: document.title,
                     text: document.body.innerText.slice(0, 3000) };
          });
          if (r && r.charts > 0) report = r;
        } catch {
          // not the report's frame, or not ready
        }
      }
      if (!report) await page.waitForTimeout(500);
    }
    if (!report) throw new Error("the model report did not render its charts");
    await shot("07-model-report");
    note("menu", { items: seen.menu });
    note("report", { ...report, seconds_taken: (Date.now() - t3) / 1000 });

    // Customize with LLM (the scripted endpoint): validated on the emulated board, then shown
    // as a diff in the refactor preview; accepted file by file
    const t4 = Date.now();
    await ui.openFile("fruit_model_firmware/src/main.c");
    await palette("TinyML: Customize with LLM");
    const instruction = page.locator(".quick-input-widget input");
    await instruction.waitFor({ state: "visible" });
    await instruction.fill("say that this firmware was customized");
    await page.keyboard.press("Enter");
    const applyLlm = page.locator(".monaco-button", { hasText: /^Apply$/ }).first();
    await applyLlm.waitFor({ timeout: 240000 });
    await shot("08-llm-diff");
    const llmTicked = await tickAll();
    await applyLlm.click();
    const applied = await notification("Customize: applied", 60000);
    await shot("09-llm-applied");
    note("customize", { ticked: llmTicked, message: applied, seconds_taken: (Date.now() - t4) / 1000 });

    // the output channel, for the key check (the trace shows the settings the server got)
    await palette("TinyML: Show Log");
    await page.waitForTimeout(1500);
    await shot("10-log");
  } catch (err) {
    seen.failure = String(err && err.stack ? err.stack : err);
    try {
      await shot("failure");
    } catch {
      // the page is gone
    }
  } finally {
    await browser.close();
  }
  seen.seconds = (Date.now() - started) / 1000;
  writeFileSync(join(env.TINYML_ARTIFACTS, "seen.json"), JSON.stringify(seen, null, 2));
  console.log(JSON.stringify({ failure: seen.failure ?? null, seconds: seen.seconds }));
  process.exit(seen.failure ? 1 : 0);
}

await main();
