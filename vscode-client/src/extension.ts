// The VS Code face of tinyml-lsp: start the Python language server, and give every lifecycle
// task a command (palette, explorer and editor menus) mapped onto the server's commands. The
// work and the facts are the server's; the client owns what an editor must: pickers, the
// status bar, the serial terminal, the report webview and the API key in the secret storage.
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  EMULATED_BOARD,
  RUNTIMES,
  Runtime,
  defaultRuntime,
  monitorArgs,
  projectOf,
  quantizeArgs,
  reportArgs,
  sketchArgs,
} from "./logic/commands";
import { SerialTerminal, openSerialTerminal } from "./monitor";
import { RedactingChannel } from "./output";
import { showReport } from "./report";
import { KEY_SECRET, Server, onPythonInterpreterChange } from "./server";

let server: Server;
let context: vscode.ExtensionContext;

interface BoardRow {
  id: string;
  name: string;
  core: string;
  flash_bytes: number;
  ram_bytes: number;
  emulated: boolean;
}

// --- where a command's input comes from: the explorer's selection, else the active editor ---

// A command's subject: the explorer's or editor's Uri, a URI string (a hover's command link),
// else the active editor's file.
function target(uri?: vscode.Uri | string): string | undefined {
  const given = typeof uri === "string" ? vscode.Uri.parse(uri) : uri;
  const file = given instanceof vscode.Uri ? given : vscode.window.activeTextEditor?.document.uri;
  return file?.scheme === "file" ? file.fsPath : undefined;
}

function needWorkspace(): boolean {
  if (!vscode.workspace.workspaceFolders?.length) {
    void vscode.window.showErrorMessage("TinyML: open a folder first (File → Open Folder): its commands work on a workspace.");
    return false;
  }
  return true;
}

async function pickFile(glob: string, what: string, near?: string): Promise<string | undefined> {
  const base = near ? new vscode.RelativePattern(near, glob) : glob;
  let found = await vscode.workspace.findFiles(base, "**/node_modules/**", 50);
  if (!found.length && near) {
    found = await vscode.workspace.findFiles(glob, "**/node_modules/**", 50);
  }
  if (!found.length) {
    void vscode.window.showErrorMessage(`TinyML: no ${what} in the workspace.`);
    return undefined;
  }
  if (found.length === 1) {
    return found[0].fsPath;
  }
  const pick = await vscode.window.showQuickPick(
    found.map((u) => ({ label: vscode.workspace.asRelativePath(u), file: u.fsPath })),
    { placeHolder: `Which ${what}?` },
  );
  return pick?.file;
}

async function modelOf(uri?: vscode.Uri | string): Promise<string | undefined> {
  const file = target(uri);
  if (file?.endsWith(".tflite")) {
    return file;
  }
  return pickFile("**/*_int8.tflite", "int8 model (.tflite): quantize one first", file && path.dirname(file));
}

async function projectFor(uri?: vscode.Uri | string): Promise<string | undefined> {
  const file = target(uri);
  const project = file && projectOf(file, fs.existsSync);
  if (project) {
    return project;
  }
  const ini = await pickFile("**/platformio.ini", "PlatformIO project (platformio.ini): generate an inference sketch first");
  return ini && path.dirname(ini);
}

async function pickBoard(title: string): Promise<string | undefined> {
  const rows = await server.run<BoardRow[]>("tinyml.boards", {}, "Boards", false);
  if (!rows) {
    return undefined;
  }
  const current = vscode.workspace.getConfiguration("tinyml").get<string>("board") || EMULATED_BOARD;
  const items = rows
    .map((b) => ({
      label: b.id,
      description: b.name + (b.emulated ? " (runs here, no hardware)" : ""),
      detail: `${b.core}, flash ${Math.round(b.flash_bytes / 1024)} KB, RAM ${Math.round(b.ram_bytes / 1024)} KB`,
    }))
    .sort((a, b) => Number(b.label === current) - Number(a.label === current));
  const pick = await vscode.window.showQuickPick(items, { placeHolder: title, ignoreFocusOut: true });
  if (!pick) {
    void vscode.window.showWarningMessage("TinyML: no board selected, nothing done. Choose one with TinyML: Select Board.");
  }
  return pick?.label;
}

async function pickRuntime(board: string): Promise<Runtime | undefined> {
  const first = defaultRuntime(board, vscode.workspace.getConfiguration("tinyml").get<string>("runtime"));
  const items = [...RUNTIMES]
    .sort((a, b) => Number(b === first) - Number(a === first))
    .map((r) => ({
      label: r,
      description: r === "standalone" ? "dependency-free C generated for this model" : "TensorFlow Lite Micro (Arduino sketch)",
    }));
  const pick = await vscode.window.showQuickPick(items, { placeHolder: "Runtime", ignoreFocusOut: true });
  return pick?.label as Runtime | undefined;
}

// --- the serial terminal ---

const terminals = new Map<string, SerialTerminal>();

async function monitor(project: string): Promise<void> {
  const existing = terminals.get(project);
  if (existing?.terminal && existing.terminal.exitStatus === undefined) {
    existing.terminal.show(true);
    return;
  }
  let cancel = () => {};
  const pty = openSerialTerminal(project, () => cancel());
  terminals.set(project, pty);
  const listener = server.onSerialLine.event((e) => {
    if (path.resolve(e.project) === path.resolve(project)) {
      pty.line(e.line);
    }
  });
  const run = server.run<{ ok?: boolean; lines?: number }>("tinyml.monitor", monitorArgs(project), "Serial monitor");
  cancel = () => {
    for (const job of server.jobs) {
      if (job.title === "Serial monitor") {
        job.cancel();
      }
    }
  };
  const summary = await run;
  listener.dispose();
  pty.end(summary ? `-- monitor closed: ${summary.ok ? "the board agrees with the host" : "see the message"} --` : "-- monitor closed --");
}

// --- the commands ---

type Handler = (uri?: vscode.Uri | string) => Promise<unknown>; // a string: a hover's command link

const handlers: Record<string, Handler> = {
  "tinyml.quantizeModel": async (uri) => {
    const file = target(uri);
    if (!file?.endsWith(".py")) {
      void vscode.window.showErrorMessage("TinyML: Quantize Model works on a training script: open the .py file that trains and saves the Keras model.");
      return;
    }
    return server.run("tinyml.quantize", quantizeArgs(file), "Quantize model");
  },
  "tinyml.verifyModel": async (uri) => {
    if (!needWorkspace()) {
      return;
    }
    const model = await modelOf(uri);
    return model && server.run("tinyml.verify", { model }, "Verify model");
  },
  "tinyml.showModelReport": async (uri) => {
    if (!needWorkspace()) {
      return;
    }
    const model = await modelOf(uri);
    if (!model) {
      return;
    }
    const chartJs = context.asAbsolutePath(path.join("dist", "chart.umd.js"));
    const result = await server.run<{ html: string }>("tinyml.report", reportArgs(model, chartJs), "Model report");
    return result?.html && showReport(model, result.html);
  },
  "tinyml.generateSketch": async (uri) => {
    if (!needWorkspace()) {
      return;
    }
    const file = target(uri);
    const model = await modelOf(uri);
    if (!model) {
      return;
    }
    const board = await pickBoard("Board for the inference sketch");
    const runtime = board && (await pickRuntime(board));
    if (!board || !runtime) {
      return;
    }
    const script = file?.endsWith(".py") ? file : undefined;
    const weightsBudget = vscode.workspace.getConfiguration("tinyml").get<number | null>("standalone.weightsBudget");
    return server.run("tinyml.sketch", sketchArgs({ model, board, runtime, script, weightsBudget }), "Generate inference sketch");
  },
  "tinyml.buildFirmware": async (uri) => {
    if (!needWorkspace()) {
      return;
    }
    const project = await projectFor(uri);
    return project && server.run("tinyml.build", { project }, "Build firmware");
  },
  "tinyml.flashBoard": async (uri) => {
    if (!needWorkspace()) {
      return;
    }
    const project = await projectFor(uri);
    if (!project) {
      return;
    }
    const flashed = await server.run("tinyml.flash", { project }, "Flash to board");
    if (flashed) {
      await monitor(project); // the board's predictions, in its terminal
    }
  },
  "tinyml.openSerialMonitor": async (uri) => {
    if (!needWorkspace()) {
      return;
    }
    const project = await projectFor(uri);
    return project && monitor(project);
  },
  "tinyml.stopBoard": async (uri) => {
    if (!needWorkspace()) {
      return;
    }
    const project = await projectFor(uri);
    return project && server.run("tinyml.stop", { project }, "Stop board");
  },
  "tinyml.checkSketch": async (uri) => {
    const file = target(uri);
    if (!file) {
      void vscode.window.showErrorMessage("TinyML: Check Sketch needs a sketch open (.ino, .cpp, .c) or chosen in the explorer.");
      return;
    }
    return server.run("tinyml.check", { uri: vscode.Uri.file(file).toString() }, "Check sketch");
  },
  "tinyml.customizeWithLlm": async (uri) => {
    const file = target(uri);
    if (!file || !/\.(c|cpp|ino|h)$/.test(file)) {
      void vscode.window.showErrorMessage("TinyML: Customize with LLM works on a firmware source (e.g. src/main.c): open it first.");
      return;
    }
    const instruction = await vscode.window.showInputBox({
      prompt: "Customize the firmware: what should change?",
      placeHolder: "print ALERT when the score is above 0.8",
      ignoreFocusOut: true,
    });
    return instruction && server.run("tinyml.customize", { uri: vscode.Uri.file(file).toString(), instruction }, "Customize with LLM");
  },
  "tinyml.fixBuildErrors": async (uri) => {
    if (!needWorkspace()) {
      return;
    }
    const project = await projectFor(uri);
    return project && server.run("tinyml.fixBuild", { project }, "Fix build errors");
  },
  "tinyml.summarizeDataset": async (uri) => {
    const data = target(uri);
    if (!data) {
      void vscode.window.showErrorMessage("TinyML: choose a dataset (CSV, image folder, .npy/.npz) in the explorer.");
      return;
    }
    const result = await server.run<{ text: string }>("tinyml.summarizeData", { path: data }, "Summarize dataset");
    if (result) {
      const doc = await vscode.workspace.openTextDocument({ content: result.text, language: "markdown" });
      await vscode.window.showTextDocument(doc, { preview: true });
    }
  },
  "tinyml.prepareDataset": async (uri) => {
    const data = target(uri);
    if (!data) {
      void vscode.window.showErrorMessage("TinyML: choose a dataset in the explorer.");
      return;
    }
    const purpose = await vscode.window.showInputBox({
      prompt: "Prepare the dataset: what is it for? (an LLM writes the script)",
      placeHolder: "normalise, grayscale 32x32, keep 20% for validation",
      ignoreFocusOut: true,
    });
    return purpose && server.run("tinyml.prepareData", { path: data, purpose }, "Prepare dataset");
  },
  "tinyml.selectBoard": async () => {
    const board = await pickBoard("Board for sketches and fit");
    if (board) {
      await vscode.workspace.getConfiguration("tinyml").update("board", board, vscode.ConfigurationTarget.Workspace);
    }
  },
  "tinyml.setLlmApiKey": async () => {
    const key = await vscode.window.showInputBox({
      prompt: "API key of the OpenAI-compatible endpoint (kept in VS Code's secret storage, never in settings)",
      password: true,
      ignoreFocusOut: true,
    });
    if (key) {
      await context.secrets.store(KEY_SECRET, key);
      void vscode.window.showInformationMessage("TinyML: LLM API key stored in the secret storage.");
    }
  },
  "tinyml.clearLlmApiKey": async () => {
    await context.secrets.delete(KEY_SECRET);
    void vscode.window.showInformationMessage("TinyML: LLM API key removed.");
  },
  "tinyml.restartServer": async () => {
    if (await server.restart()) {
      void vscode.window.showInformationMessage("TinyML: server restarted.");
    }
  },
  "tinyml.showLog": async () => vscode.commands.executeCommand("workbench.action.output.show.tinyml-lsp"),
  "tinyml.cancelJob": async () => {
    const jobs = [...server.jobs];
    if (!jobs.length) {
      return vscode.commands.executeCommand("tinyml.selectBoard");
    }
    const job =
      jobs.length === 1
        ? jobs[0]
        : (await vscode.window.showQuickPick(jobs.map((j) => ({ label: j.title, job: j })), { placeHolder: "Cancel which job?" }))?.job;
    job?.cancel();
  },
};

function statusBar(): vscode.StatusBarItem {
  const item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  item.command = "tinyml.cancelJob";
  const update = () => {
    const board = vscode.workspace.getConfiguration("tinyml").get<string>("board") || EMULATED_BOARD;
    const jobs = [...server.jobs].filter((j) => j.title !== "Boards");
    item.text = `$(circuit-board) ${board}` + (jobs.length ? `  $(sync~spin) ${jobs.map((j) => j.title).join(", ")}` : "");
    item.tooltip = jobs.length ? "TinyML: click to cancel the running job" : "TinyML: click to select the board";
  };
  update();
  item.show();
  context.subscriptions.push(
    item,
    server.onJobsChanged.event(update),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration("tinyml.board") && update()),
  );
  return item;
}

export async function activate(ctx: vscode.ExtensionContext): Promise<void> {
  context = ctx;
  const output = new RedactingChannel(vscode.window.createOutputChannel("tinyml-lsp"));
  server = new Server(output, ctx.secrets);
  ctx.subscriptions.push(output);
  for (const [id, handler] of Object.entries(handlers)) {
    ctx.subscriptions.push(vscode.commands.registerCommand(id, handler));
  }
  statusBar();
  ctx.subscriptions.push(
    ctx.secrets.onDidChange((e) => (e.key === KEY_SECRET ? server.sendSettings() : undefined)),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration("tinyml.server.python") || e.affectsConfiguration("tinyml.server.stateDir")) {
        await server.restart();
      } else if (e.affectsConfiguration("tinyml")) {
        await server.sendSettings();
      }
    }),
  );
  const pythonChange = await onPythonInterpreterChange(() => void server.restart());
  if (pythonChange) {
    ctx.subscriptions.push(pythonChange);
  }
  try {
    await server.start();
  } catch (err) {
    void vscode.window.showErrorMessage(`tinyml-lsp could not start: ${err}. See the "tinyml-lsp" output.`);
  }
}

export async function deactivate(): Promise<void> {
  await server?.stop();
}
