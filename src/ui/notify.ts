// Every notification, warning and progress text the extension shows passes redact() first, as
// the log does: error messages carry URLs, kubectl output and server replies, and a SAS or a
// token in a toast ends up in screenshots and bug reports. A unit test keeps the rest of
// src/ui from calling vscode.window.show*Message directly.
import * as vscode from 'vscode';
import { redact } from '../contract/index.js';

type Items<T extends string> = [vscode.MessageOptions, ...T[]] | T[];

function args<T extends string>(items: Items<T>): [vscode.MessageOptions, ...T[]] {
  const [first, ...rest] = items;
  return typeof first === 'object' ? [first, ...(rest as T[])] : [{}, ...(items as T[])];
}

export function showError<T extends string>(message: string, ...items: Items<T>): Thenable<T | undefined> {
  return vscode.window.showErrorMessage(redact(message), ...args(items));
}

export function showWarning<T extends string>(message: string, ...items: Items<T>): Thenable<T | undefined> {
  return vscode.window.showWarningMessage(redact(message), ...args(items));
}

export function showInfo<T extends string>(message: string, ...items: Items<T>): Thenable<T | undefined> {
  return vscode.window.showInformationMessage(redact(message), ...args(items));
}

/** A progress notification's `report`, redacting each message. */
export function redactedProgress(progress: vscode.Progress<{ message?: string }>): (text: string) => void {
  return (text) => progress.report({ message: redact(text) });
}
