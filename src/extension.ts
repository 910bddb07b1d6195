// Entry point: builds the services and registers the ui. Nothing else lives here.
import type * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // The ui is wired in src/ui (issue 5).
}

export function deactivate(): void {}
