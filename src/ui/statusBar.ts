// Status bar item shown only while captures run: "2/3 nodes capturing, 0:41 left".
// Ticks once a second only while visible; a click focuses the Captures view.
import * as vscode from 'vscode';
import { statusText } from '../views/captureModel.js';
import { CTX, VIEW } from '../views/ids.js';
import type { CaptureInfo } from '../views/ports.js';
import type { TestEventSink } from './testEvents.js';

export class CaptureStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('retinaCapture.status', vscode.StatusBarAlignment.Left, 50);
  private timer: NodeJS.Timeout | undefined;
  private lastText: string | undefined;

  constructor(
    private readonly captures: () => CaptureInfo[],
    private readonly events: TestEventSink,
  ) {
    this.item.name = 'Retina Capture';
    this.item.command = `${VIEW.captures}.focus`;
  }

  update(): void {
    const s = statusText(this.captures(), Date.now());
    void vscode.commands.executeCommand('setContext', CTX.capturesRunning, s !== undefined);
    if (!s) {
      this.item.hide();
      clearInterval(this.timer);
      this.timer = undefined;
      if (this.lastText !== undefined) this.events('status', { text: undefined });
      this.lastText = undefined;
      return;
    }
    this.item.text = s.text;
    this.item.tooltip = s.tooltip;
    this.item.show();
    if (s.text !== this.lastText) this.events('status', { text: s.text });
    this.lastText = s.text;
    this.timer ??= setInterval(() => this.update(), 1000);
  }

  dispose(): void {
    clearInterval(this.timer);
    this.item.dispose();
  }
}
