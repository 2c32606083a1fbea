// The VS Code face of tinyml-lsp: start the Python language server and stay out of the way.
// Everything the user sees (code actions, progress, messages) comes from the server.
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;

// The interpreter: the setting, else the Python extension's choice, else python3.
async function pythonCommand(): Promise<string> {
  const configured = vscode.workspace.getConfiguration("tinyml").get<string>("server.python");
  if (configured) {
    return configured;
  }
  const python = vscode.extensions.getExtension("ms-python.python");
  if (python) {
    const api = python.isActive ? python.exports : await python.activate();
    const path = api?.settings?.getExecutionDetails?.()?.execCommand?.[0];
    if (path) {
      return path;
    }
  }
  return "python3";
}

async function start(): Promise<void> {
  const command = await pythonCommand();
  const serverOptions: ServerOptions = {
    command,
    args: ["-m", "tinyml_lsp"],
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "file", pattern: "**/platformio.ini" },
    ],
    outputChannel: output,
    initializationOptions: vscode.workspace.getConfiguration("tinyml"),
    synchronize: { configurationSection: "tinyml" },
  };
  client = new LanguageClient("tinyml", "tinyml-lsp", serverOptions, clientOptions);
  output.appendLine(`starting: ${command} -m tinyml_lsp`);
  await client.start();
}

async function stop(): Promise<void> {
  if (client) {
    await client.stop();
    client = undefined;
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("tinyml-lsp");
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand("tinyml.restartServer", async () => {
      await stop();
      await start();
    }),
    vscode.commands.registerCommand("tinyml.showLog", () => output.show()),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration("tinyml.server.python")) {
        await stop();
        await start();
      }
    }),
  );
  try {
    await start();
  } catch (err) {
    vscode.window.showErrorMessage(
      `tinyml-lsp could not start (${err}). Is it installed in the selected Python? ` +
        "pip install tinyml-lsp, or set tinyml.server.python.",
    );
  }
}

export async function deactivate(): Promise<void> {
  await stop();
}
