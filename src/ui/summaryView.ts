// Capture summary webview (shown when Wireshark is missing, or by "Show Capture Summary").
// Strict CSP: no remote content, styles and the one script from media/ only, the script by
// nonce; the numbers come from src/views/summary.ts (plain Node) as inline JSON data.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import * as vscode from 'vscode';
import type { CaptureSummaryData } from '../views/summary.js';
import type { TestEventSink } from './testEvents.js';

/** `<` escaped so the JSON can never close its script element. */
export function jsonForHtml(data: unknown): string {
  return JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function html(webview: vscode.Webview, media: vscode.Uri, title: string, data: CaptureSummaryData): string {
  const nonce = randomBytes(16).toString('base64');
  const css = webview.asWebviewUri(vscode.Uri.joinPath(media, 'summary.css'));
  const js = webview.asWebviewUri(vscode.Uri.joinPath(media, 'summary.js'));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
  const esc = (s: string): string =>
    s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css.toString()}">
<title>${esc(title)}</title>
</head>
<body>
<h1>${esc(title)}</h1>
<main id="root"><p>Loading…</p></main>
<script nonce="${nonce}" id="summary-data" type="application/json">${jsonForHtml(data)}</script>
<script nonce="${nonce}" src="${js.toString()}"></script>
</body>
</html>`;
}

export class SummaryPanels implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly events: TestEventSink,
  ) {}

  show(file: string, data: CaptureSummaryData): void {
    const title = `Capture Summary: ${path.basename(file)}`;
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    let panel = this.panels.get(file);
    if (panel) panel.reveal();
    else {
      panel = vscode.window.createWebviewPanel('retinaCapture.summary', title, vscode.ViewColumn.Active, {
        enableScripts: true,
        enableCommandUris: false,
        localResourceRoots: [media],
        retainContextWhenHidden: false,
      });
      panel.iconPath = vscode.Uri.joinPath(media, 'retina.svg');
      const p = panel;
      p.onDidDispose(() => this.panels.delete(file));
      p.webview.onDidReceiveMessage((m: { type?: string; nodes?: number; packets?: number }) => {
        if (m?.type === 'rendered') this.events('summaryRendered', { file, nodes: m.nodes, packets: m.packets });
      });
      this.panels.set(file, p);
    }
    panel.webview.html = html(panel.webview, media, title, data);
    this.events('summaryShown', { file, packets: data.packets, nodes: data.nodes.map((n) => n.node) });
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    this.panels.clear();
  }
}
