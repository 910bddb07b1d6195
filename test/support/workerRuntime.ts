// The capture worker as its image runs it, staged on this machine by scripts/worker-runtime.sh:
// Node 24 (the image's runtime), an app dir with the image's layout (worker.cjs, worker-chunks/,
// node_modules/cap built for Node 24) holding the current dist bundle, and worker/rcap-init.sh
// as the entrypoint. Used by the test cluster's image map, test/support/worker.ts
// (RCX_WORKER=dist) and bench:worker.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface WorkerRuntime {
  /** Node 24 binary (the image's `node`). */
  node: string;
  nodeVersion: string;
  /** App dir, the image's /app. */
  app: string;
  /** <app>/worker.cjs */
  main: string;
  /** worker/rcap-init.sh, the image's entrypoint script. */
  init: string;
}

let staged: WorkerRuntime | undefined;

/**
 * Installs/builds what is missing and copies the current dist bundle into the app dir
 * (idempotent; ~0.1 s when everything is cached, a few seconds to build cap, longer to install
 * Node 24 the first time). Once per process: later builds reach the app dir through webpack
 * (webpack.config.cjs runs `worker-runtime.sh --refresh`). `requireBundle`: fail when there is
 * no bundle to run.
 */
export function stageWorkerRuntime(opts: { requireBundle?: boolean } = {}): WorkerRuntime {
  if (!staged) {
    const r = spawnSync('bash', [path.join(repoRoot, 'scripts/worker-runtime.sh')], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 16 << 20,
    });
    if (r.status !== 0)
      throw new Error(`scripts/worker-runtime.sh failed (${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`);
    const kv = Object.fromEntries(
      r.stdout
        .split('\n')
        .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], m[2]]),
    ) as Record<string, string | undefined>;
    const need = (k: string): string => {
      const v = kv[k];
      if (!v) throw new Error(`scripts/worker-runtime.sh printed no ${k}:\n${r.stdout}${r.stderr}`);
      return v;
    };
    staged = {
      node: need('NODE24'),
      nodeVersion: need('NODE24_VERSION'),
      app: need('WORKER_APP'),
      main: need('WORKER_MAIN'),
      init: need('RCAP_INIT'),
    };
  }
  if (opts.requireBundle && !existsSync(staged.main))
    throw new Error(`${staged.main} is missing: run \`npm run build\` first (it refreshes the app dir)`);
  return staged;
}

/**
 * Node flags of the image's ENTRYPOINT (worker/Dockerfile; test/unit/worker/dockerfile.test.ts
 * keeps the two equal). `--single-threaded`: V8 runs no background compile or GC jobs. With
 * them, process.exit() could hang for good: the main thread joins V8's worker threads while one
 * of them, in a concurrent Sparkplug compile, waits for a main-thread GC (seen here once in ~40
 * worker runs on Node 24.21: result and archive written, the process never exiting; upstream
 * nodejs/node#54918). `--no-opt`: no TurboFan. When it first optimized a hot function, ~25 s
 * into a max-rate capture, ~5 MB more of the node binary's pages became resident (peak RSS
 * 63.5 → 68.9 MB), for no gain: the worker's JavaScript is light (the capture loop is native)
 * and runs well on V8's baseline tiers.
 */
export const WORKER_NODE_FLAGS = ['--single-threaded', '--no-opt'];

/** The image's ENTRYPOINT on this machine: `/bin/sh rcap-init.sh <node24> <flags> <app>/worker.cjs`. */
export function workerEntrypoint(rt: WorkerRuntime): string[] {
  return ['/bin/sh', rt.init, rt.node, ...WORKER_NODE_FLAGS, rt.main];
}
