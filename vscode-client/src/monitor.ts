// The serial monitor as a terminal: a Pseudoterminal fed by the server's `tinyml/serialLine`
// notifications while its `tinyml.monitor` job runs (the server holds the port and lets go of
// it during uploads). Closing the terminal cancels the job.
import * as vscode from "vscode";

export class SerialTerminal implements vscode.Pseudoterminal {
  private readonly write = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.write.event;
  private readonly closed = new vscode.EventEmitter<void>();
  readonly onDidClose = this.closed.event;
  private buffered: string[] = [];
  private opened = false;
  terminal: vscode.Terminal | undefined;

  constructor(
    readonly project: string,
    private readonly cancel: () => void,
  ) {}

  open(): void {
    this.opened = true;
    this.write.fire(`\x1b[2mtinyml serial monitor: ${this.project}\x1b[0m\r\n`);
    for (const line of this.buffered) {
      this.write.fire(line);
    }
    this.buffered = [];
  }

  close(): void {
    this.cancel();
  }

  line(text: string): void {
    const out = text.replace(/\r?\n/g, "\r\n") + "\r\n";
    if (this.opened) {
      this.write.fire(out);
    } else {
      this.buffered.push(out);
    }
  }

  end(summary: string): void {
    this.line(`\x1b[1m${summary}\x1b[0m`);
  }
}

export function openSerialTerminal(project: string, cancel: () => void): SerialTerminal {
  const pty = new SerialTerminal(project, cancel);
  const name = `TinyML serial: ${project.split(/[\\/]/).pop()}`;
  pty.terminal = vscode.window.createTerminal({ name, pty });
  pty.terminal.show(true);
  return pty;
}
