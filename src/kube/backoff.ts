// Capped, jittered exponential backoff shared by retries and watch reconnects.
import { KubeError } from './errors.js';

export const BACKOFF_BASE_MS = 250;
export const BACKOFF_CAP_MS = 10_000;
/** A server's Retry-After is honoured but bounded, so one bad header cannot stall a capture. */
export const RETRY_AFTER_CAP_MS = 30_000;

/** Full jitter: uniform in [0.5, 1] × min(cap, base·2^attempt); Retry-After wins when larger. */
export function backoffDelay(attempt: number, retryAfterMs?: number, rnd: () => number = Math.random): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16));
  const jittered = exp * (0.5 + rnd() / 2);
  const ra = retryAfterMs === undefined ? 0 : Math.min(RETRY_AFTER_CAP_MS, retryAfterMs);
  return Math.max(jittered, ra);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new KubeError('aborted', 'Cancelled.'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new KubeError('aborted', 'Cancelled.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
