// Entry point: builds the services and registers the ui. Nothing else lives here.
// Activation must stay cheap (bench: ≤ 20 ms): heavy modules load lazily from src/ui.
import type * as vscode from 'vscode';
import { registerUi } from './ui/register.js';

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const log = registerUi(context, started);
  log.info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
}

export function deactivate(): void {
  // Everything is tied to context.subscriptions and disposed by VS Code.
}
