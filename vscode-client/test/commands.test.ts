import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import {
  CrashCounter,
  defaultRuntime,
  defaultProject,
  fileUri,
  monitorArgs,
  projectOf,
  quantizeArgs,
  reportArgs,
  sketchArgs,
  unsupported,
} from "../src/logic/commands";

test("quantize sends the training script's file URI, percent-encoded like VS Code", () => {
  assert.deepEqual(quantizeArgs("/w/my project/train.py"), { uri: "file:///w/my%20project/train.py" });
  assert.deepEqual(quantizeArgs("/w/train.py", 12), { uri: "file:///w/train.py", line: 12 });
  assert.equal(fileUri("/w/a#b.py"), "file:///w/a%23b.py");
});

test("the sketch's default project follows the server's rule: <Keras stem>_firmware", () => {
  assert.equal(defaultProject("/w/fruit_model_int8.tflite"), "/w/fruit_model_firmware");
  assert.equal(defaultProject("/w/kws.tflite"), "/w/kws_firmware");
});

test("sketch arguments: the board and the runtime chosen, the script's URI for its data", () => {
  assert.deepEqual(sketchArgs({ model: "/w/m_int8.tflite", board: "tinyml-qemu-m4", runtime: "standalone", script: "/w/train.py" }), {
    model: "/w/m_int8.tflite",
    project: "/w/m_firmware",
    board: "tinyml-qemu-m4",
    uri: "file:///w/train.py",
    runtime: "standalone",
  });
  assert.equal(sketchArgs({ model: "/w/m_int8.tflite", board: "nano33ble", runtime: "tflm" }).runtime, "tflm");
});

test("the weights budget goes with the standalone runtime only, when set", () => {
  const base = { model: "/w/m_int8.tflite", board: "tinyml-qemu-m4" };
  assert.equal(sketchArgs({ ...base, runtime: "standalone", weightsBudget: 2.1 }).weights_budget, 2.1);
  assert.equal(sketchArgs({ ...base, runtime: "standalone", weightsBudget: null }).weights_budget, undefined);
  assert.equal(sketchArgs({ ...base, runtime: "tflm", weightsBudget: 2.1 }).weights_budget, undefined);
});

test("the runtime offered first: the setting, else the server's default for the board", () => {
  assert.equal(defaultRuntime("tinyml-qemu-m4"), "standalone");
  assert.equal(defaultRuntime("nano33ble", ""), "tflm");
  assert.equal(defaultRuntime("nano33ble", "standalone"), "standalone");
  assert.equal(defaultRuntime("tinyml-qemu-m4", "tflm"), "tflm");
});

test("a file's project is the nearest folder with a platformio.ini", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tinyml-proj-"));
  const src = path.join(root, "fw", "src");
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(root, "fw", "platformio.ini"), "[env:x]\n");
  fs.writeFileSync(path.join(src, "main.c"), "");
  assert.equal(projectOf(path.join(src, "main.c"), fs.existsSync), path.join(root, "fw"));
  assert.equal(projectOf(path.join(root, "fw"), fs.existsSync), path.join(root, "fw"));
  assert.equal(projectOf(path.join(root, "other.py"), fs.existsSync), undefined);
});

test("monitor and report arguments", () => {
  assert.deepEqual(monitorArgs("/w/fw"), { project: "/w/fw", until_done: true });
  assert.deepEqual(reportArgs("/w/m.tflite", "/ext/dist/chart.umd.js"), {
    model: "/w/m.tflite",
    html: true,
    chart_js: "/ext/dist/chart.umd.js",
  });
});

test("a command the server does not list is refused with the reason", () => {
  assert.equal(unsupported("tinyml.quantize", ["tinyml.quantize"]), undefined);
  assert.match(unsupported("tinyml.check", ["tinyml.quantize"]) ?? "", /has no command tinyml.check/);
  assert.equal(unsupported("tinyml.check", undefined), undefined); // unknown: let the server say
});

test("crashes are restarted up to the limit within the window, then not", () => {
  let now = 0;
  const counter = new CrashCounter(2, 1000, () => now);
  assert.equal(counter.crashed(), true);
  assert.equal(counter.crashed(), true);
  assert.equal(counter.crashed(), false);
  now = 5000; // old crashes leave the window
  assert.equal(counter.crashed(), true);
  counter.reset();
  assert.equal(counter.count, 0);
});
