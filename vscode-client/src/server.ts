// The language client's life: which Python, whether tinyml-lsp is in it, start, stop, bounded
// restarts after crashes, and the server commands run as jobs the status bar can cancel.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as vscode from "vscode";
import {
  CancellationTokenSource,
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  State,
} from "vscode-languageclient/node";
import { CrashCounter, unsupported } from "./logic/commands";
import {
  Interpreter,
  describeSource,
  installCommand,
  missingServerMessage,
  resolveInterpreter,
} from "./logic/interpreter";
import { Json, serverEnvironment, serverSettings } from "./logic/settings";
import { RedactingChannel } from "./output";

const REPORT_COMMAND = "tinyml.showModelReport";

export const KEY_SECRET = "tinyml.llm.apiKey";
const CRASH_WINDOW_MS = 3 * 60 * 1000;

// What each LLM command asks for when its code action does not carry it.
const ASKED: Record<string, { field: string; prompt: string; placeHolder: string }> = {
  "tinyml.customize": {
    field: "instruction",
    prompt: "Customize the firmware: what should change?",
    placeHolder: "print ALERT when the score is above 0.8",
  },
  "tinyml.prepareData": {
    field: "purpose",
    prompt: "Prepare the dataset: what is it for?",
    placeHolder: "normalise, grayscale 32x32, keep 20% for validation",
  },
};

export interface Job {
  title: string;
  cancel: () => void;
}

export class Server {
  client: LanguageClient | undefined;
  interpreter: Interpreter | undefined;
  readonly jobs = new Set<Job>();
  readonly onJobsChanged = new vscode.EventEmitter<void>();
  readonly onSerialLine = new vscode.EventEmitter<{ project: string; line: string }>();
  private crashes: CrashCounter;

  constructor(
    private readonly output: RedactingChannel,
    private readonly secrets: vscode.SecretStorage,
  ) {
    this.crashes = new CrashCounter(this.config().get<number>("server.maxRestarts", 3), CRASH_WINDOW_MS);
  }

  config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration("tinyml");
  }

  async settings(): Promise<{ tinyml: { [key: string]: Json } }> {
    const key = await this.secrets.get(KEY_SECRET);
    this.output.secrets = [key];
    return serverSettings(JSON.parse(JSON.stringify(this.config())), key);
  }

  async interpreterChoice(): Promise<Interpreter> {
    return resolveInterpreter({
      setting: this.config().get<string>("server.python"),
      pythonExtension: await pythonExtensionInterpreter(),
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
      exists: (f) => fs.existsSync(f),
    });
  }

  async start(): Promise<boolean> {
    const interp = await this.interpreterChoice();
    this.interpreter = interp;
    this.output.appendLine(`interpreter: ${interp.python} (${describeSource(interp.source)})`);
    const problem = await importProblem(interp.python);
    if (problem !== undefined) {
      const text = problem.startsWith("cannot run")
        ? `tinyml-lsp cannot start: ${problem}. Choose an interpreter in the Python extension or ` +
          `set tinyml.server.python; then ${installCommand(interp.python)}.`
        : missingServerMessage(interp, problem);
      this.output.appendLine(text);
      void vscode.window.showErrorMessage(text, "Copy install command", "Open settings").then((pick) => {
        if (pick === "Copy install command") {
          void vscode.env.clipboard.writeText(installCommand(interp.python));
        } else if (pick === "Open settings") {
          void vscode.commands.executeCommand("workbench.action.openSettings", "tinyml.server.python");
        }
      });
      return false;
    }
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: "file", language: "python" },
        { scheme: "file", pattern: "**/platformio.ini" },
        { scheme: "file", language: "c" },
        { scheme: "file", language: "cpp" },
        { scheme: "file", pattern: "**/*.ino" },
      ],
      outputChannel: this.output,
      traceOutputChannel: this.output,
      // settings (and the key) go to the server here and in sendSettings(), not through
      // `synchronize`, which would send them without the key
      initializationOptions: await this.settings(),
      // a server that dies while starting is counted by `closed` below, not shown twice
      initializationFailedHandler: (error) => {
        this.output.appendLine(`the server failed to start: ${error instanceof Error ? error.message : error}`);
        return false;
      },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => {
          this.crashes.limit = this.config().get<number>("server.maxRestarts", 3);
          if (this.crashes.crashed()) {
            this.output.appendLine(`the server stopped; restarting it (${this.crashes.count} of ${this.crashes.limit})`);
            return { action: CloseAction.Restart, handled: true };
          }
          const text =
            `tinyml-lsp stopped ${this.crashes.count} times in a few minutes and is not restarted ` +
            'again. Its log is in the "tinyml-lsp" output; run "TinyML: Restart Server" once fixed.';
          void vscode.window.showErrorMessage(text, "Show log").then((p) => p && this.output.show());
          return { action: CloseAction.DoNotRestart, message: text, handled: true };
        },
      },
      middleware: {
        // the model card's "Open the model report" link: this one command is trusted in hovers
        provideHover: async (document, position, token, next) => {
          const hover = await next(document, position, token);
          for (const part of hover?.contents ?? []) {
            if (part instanceof vscode.MarkdownString) {
              part.isTrusted = { enabledCommands: [REPORT_COMMAND] };
            }
          }
          return hover;
        },
        executeCommand: async (command, args, next) => {
          const asked = ASKED[command];
          const argument = (args[0] ?? {}) as Record<string, unknown>;
          if (asked && !argument[asked.field]) {
            const answer = await vscode.window.showInputBox({
              prompt: asked.prompt,
              placeHolder: asked.placeHolder,
              ignoreFocusOut: true,
            });
            if (!answer) {
              return undefined; // dismissed: nothing is asked of the LLM
            }
            args = [{ ...argument, [asked.field]: answer }, ...args.slice(1)];
          }
          return next(command, args);
        },
      },
    };
    const client = new LanguageClient(
      "tinyml",
      "tinyml-lsp",
      {
        command: interp.python,
        args: ["-m", "tinyml_lsp"],
        options: { env: serverEnvironment(process.env, this.config().get<string>("server.stateDir")) },
      },
      clientOptions,
    );
    this.client = client;
    client.onNotification("tinyml/serialLine", (p: { project: string; line: string }) => this.onSerialLine.fire(p));
    await client.start();
    return true;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client && client.state !== State.Stopped) {
      await client.stop();
    }
  }

  async restart(): Promise<boolean> {
    this.crashes.reset();
    await this.stop();
    return this.start();
  }

  async sendSettings(): Promise<void> {
    if (this.client?.state === State.Running) {
      await this.client.sendNotification("workspace/didChangeConfiguration", { settings: await this.settings() });
    }
  }

  // Run a server command as a job: shown in the status bar, cancelled from it. Undefined when
  // the server is not running, lacks the command (said), or the job failed (the server says).
  async run<T>(command: string, args: unknown, title: string, notify = true): Promise<T | undefined> {
    const client = this.client;
    if (!client || client.state !== State.Running) {
      void vscode.window.showErrorMessage(
        'tinyml-lsp is not running: see the "tinyml-lsp" output, then run "TinyML: Restart Server".',
      );
      return undefined;
    }
    const missing = unsupported(command, client.initializeResult?.capabilities.executeCommandProvider?.commands);
    if (missing) {
      void vscode.window.showErrorMessage(missing);
      return undefined;
    }
    const source = new CancellationTokenSource();
    const job: Job = { title, cancel: () => source.cancel() };
    this.jobs.add(job);
    this.onJobsChanged.fire();
    try {
      const request = client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [args] }, source.token);
      if (!notify) {
        return (await request) as T;
      }
      // a notification while it runs, with a Cancel button (the server's own progress, with
      // its steps, shows in the status bar)
      return (await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `TinyML: ${title}`, cancellable: true },
        (_progress, token) => {
          token.onCancellationRequested(() => source.cancel());
          return request;
        },
      )) as T;
    } catch (err) {
      if (!source.token.isCancellationRequested) {
        const text = err instanceof Error ? err.message : String(err);
        void vscode.window.showErrorMessage(`${title}: ${text}`);
      }
      return undefined;
    } finally {
      this.jobs.delete(job);
      this.onJobsChanged.fire();
      source.dispose();
    }
  }
}

// The Python extension's interpreter for the first workspace folder, if it is installed.
async function pythonExtensionInterpreter(): Promise<string | undefined> {
  const python = vscode.extensions.getExtension("ms-python.python");
  if (!python) {
    return undefined;
  }
  try {
    const api = python.isActive ? python.exports : await python.activate();
    const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
    const envs = api?.environments;
    if (envs?.getActiveEnvironmentPath) {
      const active = envs.getActiveEnvironmentPath(resource);
      const resolved = await envs.resolveEnvironment(active);
      return resolved?.executable?.uri?.fsPath ?? active?.path;
    }
    return api?.settings?.getExecutionDetails?.(resource)?.execCommand?.[0];
  } catch {
    return undefined;
  }
}

// Fires when the Python extension's selected interpreter changes (if it is installed).
export async function onPythonInterpreterChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  const python = vscode.extensions.getExtension("ms-python.python");
  try {
    const api = python && (python.isActive ? python.exports : await python.activate());
    return api?.environments?.onDidChangeActiveEnvironmentPath?.(listener);
  } catch {
    return undefined;
  }
}

// Why `python -c "import tinyml_lsp"` fails, or undefined when it works.
function importProblem(python: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(python, ["-c", "import tinyml_lsp"], { timeout: 30000 }, (err, _out, stderr) => {
      if (!err) {
        resolve(undefined);
      } else if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        resolve(`cannot run ${python}: no such program`);
      } else {
        resolve(stderr.trim() || err.message);
      }
    });
  });
}
