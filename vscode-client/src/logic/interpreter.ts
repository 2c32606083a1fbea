// Which Python runs the server. Pure: the caller supplies what it found (the Python extension's
// choice, the setting, the workspace folders) and a file-existence check, so it is unit-tested.
import * as path from "node:path";

export type InterpreterSource = "setting" | "python-extension" | "workspace-venv" | "path";

export interface Interpreter {
  python: string;
  source: InterpreterSource;
}

export interface InterpreterInputs {
  setting?: string; // tinyml.server.python
  pythonExtension?: string; // the interpreter selected in the Python extension
  workspaceFolders: string[];
  exists: (file: string) => boolean;
  platform?: NodeJS.Platform;
}

export function venvPython(folder: string, platform: NodeJS.Platform = process.platform): string {
  return platform === "win32"
    ? path.join(folder, ".venv", "Scripts", "python.exe")
    : path.join(folder, ".venv", "bin", "python");
}

// The setting wins when given (a user who writes it means it), then the Python extension's
// choice, then a `.venv` in a workspace folder, then `python3` on PATH.
export function resolveInterpreter(inputs: InterpreterInputs): Interpreter {
  const setting = inputs.setting?.trim();
  if (setting) {
    return { python: setting, source: "setting" };
  }
  if (inputs.pythonExtension) {
    return { python: inputs.pythonExtension, source: "python-extension" };
  }
  for (const folder of inputs.workspaceFolders) {
    const candidate = venvPython(folder, inputs.platform);
    if (inputs.exists(candidate)) {
      return { python: candidate, source: "workspace-venv" };
    }
  }
  return { python: inputs.platform === "win32" ? "python" : "python3", source: "path" };
}

export function describeSource(source: InterpreterSource): string {
  return {
    setting: "the tinyml.server.python setting",
    "python-extension": "the Python extension's selected interpreter",
    "workspace-venv": "the workspace's .venv",
    path: "python3 on PATH",
  }[source];
}

// The message when tinyml-lsp cannot be imported by that interpreter, with the fix.
export function missingServerMessage(interp: Interpreter, detail: string): string {
  const quoted = /\s/.test(interp.python) ? `"${interp.python}"` : interp.python;
  return (
    `tinyml-lsp is not installed in ${interp.python} (${describeSource(interp.source)}): ` +
    `${detail.trim().split("\n").pop() ?? detail}. Install it with: ${installCommand(quoted)} ` +
    "— or choose another interpreter (Python extension, or the tinyml.server.python setting)."
  );
}

export function installCommand(python: string): string {
  return `${python} -m pip install tinyml-lsp`;
}
