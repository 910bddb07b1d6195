// Helpers of the engine integration tests: waits driven by watch events (no sleeps, no polling)
// with a deadline, and engines on the test cluster's kubeconfigs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Informer, KubeObject } from '../../../src/kube/index.js';
import { Engine } from '../../../src/engine.js';
import type { CaptureEvent } from '../../../src/session/index.js';
import { readCluster, testKubeconfigPath, testLimitedKubeconfigPath } from '../../cluster/cluster.js';

export const WORKER_IMAGE = 'retina-capture-worker:test';

export function adminEngine(): Promise<Engine> {
  return Engine.fromKubeconfig(testKubeconfigPath(), { workerImage: WORKER_IMAGE });
}

export function limitedEngine(): Promise<Engine> {
  return Engine.fromKubeconfig(testLimitedKubeconfigPath(), { workerImage: WORKER_IMAGE });
}

/** Resolves with the first object (already cached or arriving) that satisfies `pred`. */
export function waitInformer<T extends KubeObject>(
  inf: Informer<T>,
  what: string,
  pred: (o: T, type: 'add' | 'update' | 'delete' | 'cached') => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`));
    }, timeoutMs);
    const off = inf.on((ev) => {
      if (pred(ev.object, ev.type)) {
        clearTimeout(timer);
        off();
        resolve(ev.object);
      }
    });
    const hit = inf.list().find((o) => pred(o, 'cached'));
    if (hit) {
      clearTimeout(timer);
      off();
      resolve(hit);
    }
  });
}

/** Reads a run's events until `pred` matches (returns it) or the deadline passes. */
export async function waitEvent(
  events: AsyncIterable<CaptureEvent>,
  what: string,
  pred: (ev: CaptureEvent, seen: CaptureEvent[]) => boolean,
  timeoutMs = 60_000,
): Promise<CaptureEvent> {
  const seen: CaptureEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, rej) => {
    timer = setTimeout(
      () =>
        rej(
          new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}; saw ${JSON.stringify(seen.map(brief))}`),
        ),
      timeoutMs,
    );
  });
  const find = (async (): Promise<CaptureEvent> => {
    for await (const ev of events) {
      seen.push(ev);
      if (pred(ev, seen)) return ev;
    }
    throw new Error(`events ended before ${what}; saw ${JSON.stringify(seen.map(brief))}`);
  })();
  try {
    return await Promise.race([find, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function brief(ev: CaptureEvent): string {
  return ev.type === 'node' ? `${ev.node}:${ev.phase}${ev.reason ? `(${ev.reason})` : ''}` : ev.type;
}

/** Rejects after `ms` with `what` (for awaiting a promise with a deadline). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`timed out after ${ms / 1000}s waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function trafficPod(name: string, node: string, args: string[]): V1Pod {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      nodeName: node,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: 'retina-capture-traffic', args }],
    },
  };
}

/** Waits for a pod of `ns` to run with an IP, from the engine's pod watch. */
async function runningPod(engine: Engine, ns: string, name: string): Promise<string> {
  const pod = await waitInformer(
    engine.door.informer('pods'),
    `${name} running`,
    (p) =>
      p.metadata?.namespace === ns && p.metadata?.name === name && p.status?.phase === 'Running' && !!p.status.podIP,
    60_000,
  );
  return pod.status?.podIP as string;
}

/**
 * Starts the traffic image's server on `serverNode` and, once it has an IP, a client on
 * `clientNode` sending HTTP (8080) and UDP (9000) to it; resolves with both pod IPs.
 */
export async function startTrafficPair(
  engine: Engine,
  ns: string,
  serverNode: string,
  clientNode: string,
): Promise<{ serverIP: string; clientIP: string }> {
  await engine.door.create(
    'pods',
    ns,
    trafficPod('server', serverNode, ['server', '--http-port', '8080', '--udp-port', '9000']),
  );
  const serverIP = await runningPod(engine, ns, 'server');
  const clientArgs = ['client', '--target', serverIP, '--http-port', '8080', '--udp-port', '9000', '--rate', '20'];
  await engine.door.create('pods', ns, trafficPod('client', clientNode, clientArgs));
  const clientIP = await runningPod(engine, ns, 'client');
  return { serverIP, clientIP };
}

/**
 * Waits until the worker in each of `pods` logged "capturing on" (read from the node agent's
 * container logs, <state>/nodes/<node>/pods/<uid>/containers/<name>/0.log). The engine calls a
 * node "capturing" as soon as the container runs; a SIGTERM during Node's own startup (before any
 * of the worker's code runs) kills the worker as it would on a real cluster (exit 143), so a
 * test that wants the worker's stop path cancels only once the worker is capturing.
 */
export async function waitWorkersCapturing(
  engine: Engine,
  ns: string,
  pods: string[],
  timeoutMs: number,
): Promise<void> {
  // A worktree has no cluster.json of its own: the state folder is the kubeconfig's.
  const env = process.env.RETINA_TEST_KUBECONFIG;
  const state = readCluster()?.state ?? (env ? path.dirname(env) : undefined);
  assert.ok(state, 'cluster state directory');
  const deadline = Date.now() + timeoutMs;
  const inf = engine.door.informer('pods');
  for (const name of pods) {
    const pod = inf.list().find((p) => p.metadata?.namespace === ns && p.metadata?.name === name);
    const node = pod?.spec?.nodeName;
    const uid = pod?.metadata?.uid;
    assert.ok(node && uid, `pod ${name} known`);
    const dir = path.join(state, 'nodes', node, 'pods', uid, 'containers');
    for (;;) {
      const logs = existsSync(dir)
        ? readdirSync(dir)
            .map((c) => path.join(dir, c, '0.log'))
            .filter((f) => existsSync(f))
        : [];
      if (logs.some((f) => readFileSync(f, 'utf8').includes('capturing on'))) break;
      if (Date.now() > deadline) throw new Error(`timed out waiting for the worker in ${name} to capture`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
