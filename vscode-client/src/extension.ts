// The VS Code face of tinyml-lsp: start the Python language server and stay out of the way.
// Everything the user sees (code actions, progress, messages) comes from the server; the client
// only adds what an editor must own: the LLM's API key in VS Code's secret storage (never in
// settings.json) and input boxes for the LLM commands' plain-language arguments.
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let secrets: vscode.SecretStorage;
const KEY_SECRET = "tinyml.llm.apiKey";

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

// The `tinyml` settings with the API key from the secret storage added to `llm`.
async function settings(): Promise<Record<string, unknown>> {
  const tinyml = JSON.parse(JSON.stringify(vscode.workspace.getConfiguration("tinyml")));
  const key = await secrets.get(KEY_SECRET);
  if (key) {
    tinyml.llm = { ...(tinyml.llm ?? {}), apiKey: key };
  }
  return tinyml;
}

async function sendSettings(): Promise<void> {
  if (client) {
    await client.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { tinyml: await settings() },
    });
  }
}

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
      { scheme: "file", language: "c" },
      { scheme: "file", language: "cpp" },
    ],
    outputChannel: output,
    // settings (and the key) go to the server here and in sendSettings(), not through
    // `synchronize`, which would send them without the key
    initializationOptions: { tinyml: await settings() },
    middleware: {
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
  secrets = context.secrets;
  context.subscriptions.push(
    vscode.commands.registerCommand("tinyml.setLlmApiKey", async () => {
      const key = await vscode.window.showInputBox({
        prompt: "API key of the OpenAI-compatible endpoint (kept in VS Code's secret storage)",
        password: true,
        ignoreFocusOut: true,
      });
      if (key) {
        await secrets.store(KEY_SECRET, key);
      }
    }),
    vscode.commands.registerCommand("tinyml.clearLlmApiKey", () => secrets.delete(KEY_SECRET)),
    secrets.onDidChange((e) => (e.key === KEY_SECRET ? sendSettings() : undefined)),
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
      } else if (e.affectsConfiguration("tinyml")) {
        await sendSettings();
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
