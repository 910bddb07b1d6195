// Processes and ports of the sandbox (test/sandbox/main.ts): leftovers of a killed run are
// stopped by process group, only when their command line still says what they are.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const say = (msg: string): void => console.error(`[sandbox] ${msg}`);

export function alive(pid: number | undefined): pid is number {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid runs a command line containing `marker` (never signal a recycled pid). */
export function cmdlineHas(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(marker);
  } catch {
    return false;
  }
}

export async function stopGroupOf(pid: number | undefined, marker: string, what: string): Promise<void> {
  if (!alive(pid) || !cmdlineHas(pid, marker)) return;
  say(`stopping leftover ${what} (pid ${pid})`);
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100)); // wait for the exit
  if (alive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function choosePort(): Promise<number> {
  const first = Number(process.env.SANDBOX_PORT ?? 8080);
  if (!Number.isInteger(first) || first <= 0 || first > 65535) throw new Error(`SANDBOX_PORT=${first} is not a port`);
  for (let p = first; p < Math.min(first + 100, 65536); p++) if (await portFree(p)) return p;
  throw new Error(`no free port in ${first}..${first + 99} on 127.0.0.1`);
}

export async function waitUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (${last})` : ''}`);
    await new Promise((r) => setTimeout(r, 500)); // poll interval while waiting for a condition
  }
}
