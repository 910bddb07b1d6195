// Waiting on the extension's test event log without leaving pollers behind: the first of
// several events wins, and nothing keeps polling after it (a Promise.race of two waitForEvent
// calls kept the loser polling for minutes after a test passed).
import type { Session } from './codeServer.js';

export async function waitForAny(
  s: Pick<Session, 'events'>,
  names: string[],
  timeoutMs: number,
  since = 0,
): Promise<Record<string, unknown>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const hit = s.events().find((e) => names.includes(e.event) && Number(e.t ?? 0) >= since);
    if (hit) return hit;
    if (Date.now() > end)
      throw new Error(
        `none of ${names.join(', ')} within ${timeoutMs} ms; events: ${JSON.stringify(s.events()).slice(-2000)}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}
