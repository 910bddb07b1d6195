// Condition waits: every wait polls a predicate with a deadline, never a bare sleep.
import { setTimeout as delay } from 'node:timers/promises';

export class TimeoutError extends Error {}

/**
 * Polls `check` until it returns a value other than undefined/false, or throws a TimeoutError
 * naming `what` (with the last error seen) after `timeoutMs`. `abort` is polled too so a
 * component dying during the wait fails fast instead of running into the timeout.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs: number; intervalMs?: number; abort?: () => string | undefined },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 200;
  let last = '';
  for (;;) {
    const why = opts.abort?.();
    if (why) throw new Error(`${what}: ${why}`);
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() >= deadline) {
      throw new TimeoutError(
        `timed out after ${Math.round(opts.timeoutMs / 1000)}s waiting for ${what}${last ? ` (last error: ${last})` : ''}`,
      );
    }
    // Poll interval between condition checks, not a synchronisation sleep.
    await delay(interval);
  }
}
