// The model report page in a webview: the server renders it (tinyml.report, the same page as
// `tinyml report MODEL --html`) with the Chart.js file this extension ships inlined.
import * as path from "node:path";
import * as vscode from "vscode";

export function showReport(model: string, html: string): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel(
    "tinymlModelReport",
    `Model report: ${path.basename(model)}`,
    vscode.ViewColumn.Active,
    { enableScripts: true, localResourceRoots: [] },
  );
  panel.webview.html = html;
  return panel;
}
