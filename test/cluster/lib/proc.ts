// Process handling for the cluster components: detached spawn with its own process group and a
// log file, pid files, ownership checks before killing, port checks, log tails.
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  writeFileSync,
  unlinkSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from './wait.js';

export interface Started {
  name: string;
  pid: number;
  log: string;
}

/**
 * Starts `cmd` detached in a new process group (pgid = pid) with stdout+stderr appended to
 * `<logs>/<name>.log`, and records the pid in `<pids>/<name>.pid` at once, so a crash of the
 * `up` script itself still leaves a trail for `down`.
 */
export function startDetached(
  name: string,
  cmd: string,
  args: string[],
  dirs: { logs: string; pids: string },
  env?: NodeJS.ProcessEnv,
): Started {
  mkdirSync(dirs.logs, { recursive: true });
  mkdirSync(dirs.pids, { recursive: true });
  const log = path.join(dirs.logs, `${name}.log`);
  const fd = openSync(log, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env: env ?? process.env });
    if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
    child.unref();
    writeFileSync(path.join(dirs.pids, `${name}.pid`), `${child.pid}\n`);
    return { name, pid: child.pid, log };
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by us) counts as dead.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** True when pid runs one of our binaries (under `binDir`) — so a recycled pid is never killed. */
export function isOurs(pid: number, binDir: string): boolean {
  const argv0 = cmdline(pid)[0];
  return argv0 !== undefined && argv0.startsWith(binDir + path.sep);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM to the process group, wait up to `graceMs`, then SIGKILL; waits until it is gone.
 * `leaderOnly`: wait for the leader alone (node agents: their pods may outlive them on purpose,
 * `nodeagent cleanup` removes those).
 */
export async function stopGroup(pid: number, graceMs = 10_000, leaderOnly = false): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  if (!isAlive(pid) && !groupAlive(pid)) return;
  signal('SIGTERM');
  try {
    await waitFor(`pid ${pid} to exit`, () => !isAlive(pid) && (leaderOnly || !groupAlive(pid)), {
      timeoutMs: graceMs,
      intervalMs: 100,
    });
  } catch {
    signal('SIGKILL');
    await waitFor(`pid ${pid} to exit after SIGKILL`, () => !isAlive(pid), { timeoutMs: 5_000, intervalMs: 100 });
  }
}

export function readPidFiles(pidsDir: string): { name: string; pid: number }[] {
  if (!existsSync(pidsDir)) return [];
  const out: { name: string; pid: number }[] = [];
  for (const f of readdirSync(pidsDir)) {
    if (!f.endsWith('.pid')) continue;
    const pid = Number(readFileSync(path.join(pidsDir, f), 'utf8').trim());
    if (Number.isInteger(pid) && pid > 1) out.push({ name: f.slice(0, -4), pid });
  }
  return out;
}

export function removePidFile(pidsDir: string, name: string): void {
  try {
    unlinkSync(path.join(pidsDir, `${name}.pid`));
  } catch {
    /* absent */
  }
}

export function tail(file: string, lines = 25): string {
  try {
    const all = readFileSync(file, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resolves to undefined when 127.0.0.1:port can be bound, else to a description of its owner. */
export async function portOwner(port: number): Promise<string | undefined> {
  const free = await new Promise<boolean>((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
  if (free) return undefined;
  // Best effort: name the listening process (ss ships with iproute2, which we need anyway).
  const ss = spawnSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(ss.stdout ?? '');
  return m ? `${m[1]} (pid ${m[2]})` : 'an unknown process';
}

/** Runs a command to completion; throws with its output on a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): string {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${(r.stderr || r.stdout).trim().split('\n').slice(-20).join('\n')}`,
    );
  return r.stdout;
}
