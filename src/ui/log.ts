// The one log of the extension: a LogOutputChannel, every line through redact() first so a SAS
// URL, account key or token can never reach the Output panel or a bug report.
import * as vscode from 'vscode';
import { redact } from '../contract/index.js';
import { OUTPUT_CHANNEL } from '../views/ids.js';

export interface Log {
  trace(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string | Error): void;
  show(): void;
}

export function createLog(lifetime: vscode.Disposable[]): Log {
  const channel = vscode.window.createOutputChannel(OUTPUT_CHANNEL, { log: true });
  lifetime.push(channel);
  const text = (m: string | Error): string => redact(m instanceof Error ? (m.stack ?? `${m.name}: ${m.message}`) : m);
  return {
    trace: (m) => channel.trace(text(m)),
    info: (m) => channel.info(text(m)),
    warn: (m) => channel.warn(text(m)),
    error: (m) => channel.error(text(m)),
    show: () => channel.show(true),
  };
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
