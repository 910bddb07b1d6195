// Status bar item shown only while captures run, driven by the session's progress events
// (src/views/liveStatus.ts): "$(record) 2/2 capturing, 0:41 left", "1/2 capturing · 1 failed".
// Ticks once a second only while visible; a click focuses the Captures view.
import * as vscode from 'vscode';
import { applyLiveEvent, liveStatusText, type LiveCapture, type LiveEvent } from '../views/liveStatus.js';
import { CTX, VIEW } from '../views/ids.js';
import type { TestEventSink } from './testEvents.js';

export interface LiveHandle {
  apply(ev: LiveEvent): void;
  /** The run is over (done, failed or cancelled): its nodes leave the status bar. */
  end(): void;
}

export class CaptureStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('retinaCapture.status', vscode.StatusBarAlignment.Left, 50);
  private readonly live = new Map<number, LiveCapture>();
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private lastText: string | undefined;

  constructor(private readonly events: TestEventSink) {
    this.item.name = 'Retina Capture';
    this.item.command = `${VIEW.captures}.focus`;
  }

  /** Tracks one capture run from its first event to its end. */
  begin(label: string): LiveHandle {
    const id = this.nextId++;
    this.live.set(id, { key: String(id), label, nodes: [], finished: false });
    this.update();
    return {
      apply: (ev) => {
        const c = this.live.get(id);
        if (!c) return;
        this.live.set(id, applyLiveEvent(c, ev));
        this.update();
      },
      end: () => {
        this.live.delete(id);
        this.update();
      },
    };
  }

  update(): void {
    const s = liveStatusText([...this.live.values()], Date.now());
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
