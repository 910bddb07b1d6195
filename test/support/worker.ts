// Runs the capture worker inside a network namespace, as the Job's pod would on a node.
// RCX_WORKER=dist runs the built bundle as the image does: Node 24 and the staged app dir
// (test/support/workerRuntime.ts: worker.cjs copied from dist/, cap built for Node 24);
// otherwise the TypeScript source through tsx on the test toolchain's Node.
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerResult } from '../../src/contract/index.js';
import { stageWorkerRuntime, WORKER_NODE_FLAGS } from './workerRuntime.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface WorkerRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr matches (rejects on exit or timeout). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** Capture name and start timestamp the worker tests run with (archive names derive from them). */
export const TEST_CAPTURE = 'rcx-cap';
export const TEST_TIMESTAMP = '20261126050709UTC';

/** Retina's env for a worker test: node rc-node-1, host-path output, no blob secret. */
export function workerEnv(
  hostDir: string,
  termLog: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    CAPTURE_NAME: TEST_CAPTURE,
    NODE_HOST_NAME: 'rc-node-1',
    CAPTURE_START_TIMESTAMP: TEST_TIMESTAMP,
    HOSTPATH: hostDir,
    RCAP_TERMINATION_LOG: termLog,
    RCAP_BLOB_SECRET_FILE: '',
    ...extra,
  };
}

export function workerCommand(): string[] {
  if (process.env.RCX_WORKER === 'dist') {
    const rt = stageWorkerRuntime({ requireBundle: true });
    return [rt.node, ...WORKER_NODE_FLAGS, rt.main];
  }
  return [process.execPath, '--import', 'tsx', path.join(repoRoot, 'worker/src/main.ts')];
}

/**
 * `init`: start the worker through worker/rcap-init.sh, as the image's entrypoint does (the
 * shell that holds a stop signal until the worker's handlers are installed).
 */
export function runWorker(
  ns: string | undefined,
  env: Record<string, string>,
  opts: { init?: boolean } = {},
): WorkerRun {
  const cmd = opts.init ? ['/bin/sh', path.join(repoRoot, 'worker/rcap-init.sh'), ...workerCommand()] : workerCommand();
  const argv = ns ? ['ip', 'netns', 'exec', ns, ...cmd] : cmd;
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/root',
  };
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: repoRoot,
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
    for (const w of [...waiters]) if (w.re.test(err)) w.resolve();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(child.pid, signal);
      } catch {
        // already exited
      }
    },
    waitFor(re, timeoutMs = 15_000) {
      if (re.test(err)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`timed out waiting for ${re} in worker stderr:\n${err}`)),
          timeoutMs,
        );
        const w = { re, resolve: () => (clearTimeout(t), waiters.splice(waiters.indexOf(w), 1), resolve()) };
        waiters.push(w);
        void exited.then(({ code }) => {
          if (!re.test(err)) {
            clearTimeout(t);
            reject(new Error(`worker exited (${code}) before ${re}:\nstdout: ${out}\nstderr: ${err}`));
          }
        });
      });
    },
  };
}

export function readResult(file: string): WorkerResult {
  return JSON.parse(readFileSync(file, 'utf8')) as WorkerResult;
}

/** Unpacks an archive with the system tar into a fresh dir; returns the dir and its entries. */
export function unpack(archive: string): { dir: string; entries: string[]; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rcx-unpack-'));
  const entries = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).trim().split('\n');
  execFileSync('tar', ['-xzf', archive, '-C', dir]);
  return { dir, entries, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function tshark(file: string, ...args: string[]): string {
  return execFileSync('tshark', ['-r', file, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 << 20,
  });
}

/** capinfos output; throws if capinfos writes anything to stderr (warnings). */
export function capinfos(file: string): string {
  const r = spawnSyncText('capinfos', ['-M', file]);
  if (r.status !== 0 || r.stderr.trim()) throw new Error(`capinfos ${file}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function spawnSyncText(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}
