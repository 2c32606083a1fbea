// The log output channel, with the LLM API key replaced by *** in everything written to it:
// the language client writes the server's stderr and (with tinyml.trace.server) every message
// here, and the initialize request carries the key.
import * as vscode from "vscode";
import { redact } from "./logic/settings";

export class RedactingChannel implements vscode.OutputChannel {
  secrets: (string | undefined)[] = [];
  constructor(private readonly channel: vscode.OutputChannel) {}

  get name(): string {
    return this.channel.name;
  }
  append(value: string): void {
    this.channel.append(redact(value, this.secrets));
  }
  appendLine(value: string): void {
    this.channel.appendLine(redact(value, this.secrets));
  }
  replace(value: string): void {
    this.channel.replace(redact(value, this.secrets));
  }
  clear(): void {
    this.channel.clear();
  }
  show(column?: unknown, preserveFocus?: boolean): void {
    this.channel.show(preserveFocus);
  }
  hide(): void {
    this.channel.hide();
  }
  dispose(): void {
    this.channel.dispose();
  }
}
