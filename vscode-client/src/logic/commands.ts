// The client's commands and the server command each maps onto, with the argument object it
// sends (the server's typed arguments: server/tinyml_lsp/lsp/arguments.py and
// editor_commands.py). Pure: paths in, argument objects out.
import * as path from "node:path";

export const EMULATED_BOARD = "tinyml-qemu-m4";
export const RUNTIMES = ["standalone", "tflm"] as const;
export type Runtime = (typeof RUNTIMES)[number];

// client command id → server command (see package.json's contributes.commands)
export const SERVER_COMMANDS: Record<string, string> = {
  "tinyml.quantizeModel": "tinyml.quantize",
  "tinyml.verifyModel": "tinyml.verify",
  "tinyml.showModelReport": "tinyml.report",
  "tinyml.generateSketch": "tinyml.sketch",
  "tinyml.buildFirmware": "tinyml.build",
  "tinyml.flashBoard": "tinyml.flash",
  "tinyml.openSerialMonitor": "tinyml.monitor",
  "tinyml.stopBoard": "tinyml.stop",
  "tinyml.checkSketch": "tinyml.check",
  "tinyml.customizeWithLlm": "tinyml.customize",
  "tinyml.fixBuildErrors": "tinyml.fixBuild",
  "tinyml.summarizeDataset": "tinyml.summarizeData",
  "tinyml.prepareDataset": "tinyml.prepareData",
  "tinyml.selectBoard": "tinyml.boards",
};

// The runtime offered first: the setting, else the server's own default for the board
// (the standalone C on the emulated board, TensorFlow Lite Micro on a real one).
export function defaultRuntime(board: string, setting?: string): Runtime {
  if (setting === "standalone" || setting === "tflm") {
    return setting;
  }
  return board === EMULATED_BOARD ? "standalone" : "tflm";
}

export function fileUri(file: string): string {
  // the server compares URIs as VS Code writes them (percent-encoded path)
  const resolved = path.resolve(file).split(path.sep).join("/");
  return "file://" + (resolved.startsWith("/") ? "" : "/") + encodeURI(resolved).replace(/[?#]/g, encodeURIComponent);
}

export function quantizeArgs(script: string, line?: number): { uri: string; line?: number } {
  return line === undefined ? { uri: fileUri(script) } : { uri: fileUri(script), line };
}

// The firmware project's default folder: `<Keras stem>_firmware` beside the model, the same
// rule as the server's artifacts.firmware_project (`fruit_model_int8.tflite` → fruit_model).
export function defaultProject(model: string): string {
  const stem = path.basename(model, ".tflite").replace(/_(int8|float32)$/, "");
  return path.join(path.dirname(model), `${stem}_firmware`);
}

export interface SketchChoice {
  model: string;
  board: string;
  runtime: Runtime;
  project?: string;
  script?: string; // the training script: its data gives the test vectors
  weightsBudget?: number | null; // standalone: the flash its weights may take (× the model's)
}

export function sketchArgs(choice: SketchChoice): Record<string, string | number> {
  const args: Record<string, string | number> = {
    model: choice.model,
    project: choice.project ?? defaultProject(choice.model),
    board: choice.board,
  };
  if (choice.script) {
    args.uri = fileUri(choice.script);
  }
  args.runtime = choice.runtime; // chosen in the pick: sent, whatever the server's default
  if (choice.runtime === "standalone" && typeof choice.weightsBudget === "number") {
    args.weights_budget = choice.weightsBudget;
  }
  return args;
}

// The PlatformIO project a file belongs to: the nearest folder upwards with a platformio.ini.
export function projectOf(file: string, exists: (f: string) => boolean): string | undefined {
  let dir = path.extname(file) ? path.dirname(file) : file;
  for (;;) {
    if (exists(path.join(dir, "platformio.ini"))) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      return undefined;
    }
    dir = parent;
  }
}

export function monitorArgs(project: string): { project: string; until_done: boolean } {
  return { project, until_done: true };
}

export function reportArgs(model: string, chartJs: string): Record<string, string | boolean> {
  return { model, html: true, chart_js: chartJs };
}

// Why a command cannot run on this server, or undefined: the server lists what it executes.
export function unsupported(command: string, serverCommands: string[] | undefined): string | undefined {
  if (serverCommands === undefined || serverCommands.includes(command)) {
    return undefined;
  }
  return (
    `This tinyml-lsp server has no command ${command}: update tinyml-lsp in the server's ` +
    "interpreter (pip install -U tinyml-lsp)."
  );
}

// How many crashes in a row the client restarts the server after.
export class CrashCounter {
  private times: number[] = [];
  constructor(
    public limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  // Record a crash; true if the server may be restarted once more.
  crashed(): boolean {
    const t = this.now();
    this.times = this.times.filter((x) => t - x < this.windowMs);
    this.times.push(t);
    return this.times.length <= this.limit;
  }

  reset(): void {
    this.times = [];
  }

  get count(): number {
    return this.times.length;
  }
}
