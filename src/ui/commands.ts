// One registry for every command: logging, error display (a notification with "Show Log"),
// and cancellation (each run gets an AbortSignal, aborted when the extension goes away or
// the user cancels). Handlers never catch-and-show errors themselves.
import * as vscode from 'vscode';
import type { CommandId } from '../views/ids.js';
import { errorMessage, type Log } from './log.js';
import type { TestEventSink } from './testEvents.js';
import { showError } from './notify.js';

export interface CommandRun {
  signal: AbortSignal;
  log: Log;
}

export type CommandHandler = (run: CommandRun, ...args: unknown[]) => unknown;

/** An error the user can act on: shown without a stack, with optional extra buttons. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly actions: { title: string; run: () => unknown }[] = [],
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export class CommandRegistry implements vscode.Disposable {
  private readonly running = new Set<AbortController>();
  private readonly registrations: vscode.Disposable[] = [];

  constructor(
    private readonly log: Log,
    private readonly events: TestEventSink,
  ) {}

  register(id: CommandId, handler: CommandHandler): void {
    this.registrations.push(vscode.commands.registerCommand(id, (...args: unknown[]) => this.run(id, handler, args)));
  }

  private async run(id: CommandId, handler: CommandHandler, args: unknown[]): Promise<unknown> {
    const abort = new AbortController();
    this.running.add(abort);
    const started = performance.now();
    this.log.trace(`command ${id} started`);
    this.events('command', { id });
    try {
      const result = await handler({ signal: abort.signal, log: this.log }, ...args);
      this.log.trace(`command ${id} done in ${Math.round(performance.now() - started)} ms`);
      return result;
    } catch (err) {
      if (abort.signal.aborted || isCancellation(err)) {
        this.log.info(`command ${id} cancelled`);
        return undefined;
      }
      this.log.error(`command ${id} failed: ${errorMessage(err)}`);
      if (err instanceof Error && !(err instanceof UserError)) this.log.trace(err.stack ?? '');
      this.events('commandError', { id, message: errorMessage(err) });
      void this.showError(err);
      return undefined;
    } finally {
      this.running.delete(abort);
    }
  }

  private async showError(err: unknown): Promise<void> {
    const actions = err instanceof UserError ? err.actions : [];
    const pick = await showError(`Retina Capture: ${errorMessage(err)}`, ...actions.map((a) => a.title), 'Show Log');
    if (pick === 'Show Log') this.log.show();
    else actions.find((a) => a.title === pick)?.run();
  }

  dispose(): void {
    for (const a of this.running) a.abort();
    this.running.clear();
    for (const d of this.registrations) d.dispose();
    this.registrations.length = 0;
  }
}

function isCancellation(err: unknown): boolean {
  return err instanceof vscode.CancellationError || (err instanceof Error && err.name === 'AbortError');
}

/** Bridges a VS Code cancellation token into the command's AbortSignal world. */
export function linkToken(token: vscode.CancellationToken, parent?: AbortSignal): AbortController {
  const ctl = new AbortController();
  const sub = token.onCancellationRequested(() => ctl.abort());
  parent?.addEventListener('abort', () => ctl.abort(), { once: true });
  ctl.signal.addEventListener('abort', () => sub.dispose(), { once: true });
  return ctl;
}
