// `npm run bench:engine`: the session engine's own cost on the running test cluster.
//
// overhead: wall time of a whole capture (engine start → every node done) minus its duration,
//   on the cluster's real nodes (3), with the capture worker; median of RUNS.
//   Goal ≤ 3 s. Includes informer sync, preflight, Job creation, scheduling, the worker's
//   archive/write after the duration, and the watch latency of the final status.
// fan-out: only when the cluster has hollow nodes (`npm run cluster:up -- --hollow 500`):
//   one Job per hollow node created through createCaptureObjects (the planner's own
//   100-Job limit, Retina's --job-num-limit, is bypassed on purpose), bounded concurrency,
//   API requests counted by the door. Goals: Jobs created ≤ 15 s, requests ≤ nodes + 20.
// Nothing of it stays behind: each run deletes its capture; the namespace is deleted.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Node } from '@kubernetes/client-node';
import { Engine } from '../../src/engine.js';
import { planCapture } from '../../src/capture/plan.js';
import { createCaptureObjects, snapshotFor } from '../../src/session/start.js';
import { preflight } from '../../src/session/preflight.js';
import { createTestNamespace, deleteTestNamespace, testKubeconfigPath } from '../cluster/cluster.js';
import { writeResult, type Figure } from './lib/report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DURATION_S = 5;
/** options.maxConcurrentJobs of the fan-out capture: Job create requests in flight at once. */
const CONCURRENCY = 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function overheadRun(
  ns: string,
  nodes: string[],
): Promise<{ seconds: number; toDoneSeconds: number; ok: boolean; requests: number; archives: number }> {
  const t0 = performance.now();
  const engine = await Engine.fromKubeconfig(testKubeconfigPath(), { workerImage: 'retina-capture-worker:bench' });
  const to = mkdtempSync(path.join(os.tmpdir(), 'rc-bench-engine-'));
  try {
    const run = await engine.startCapture({
      namespace: ns,
      targets: nodes.map((name) => ({ kind: 'node' as const, name })),
      outputs: { hostPath: { subPath: 'retina' } },
      options: { durationSeconds: DURATION_S },
    });
    const summary = await run.done;
    const toDoneSeconds = (performance.now() - t0) / 1000 - DURATION_S;
    // The figure runs to the last archive unpacked on disk: include the host-path download.
    const got = summary.ok ? await engine.download(run.name, { to, namespace: ns }) : undefined;
    const seconds = (performance.now() - t0) / 1000 - DURATION_S;
    const ok = summary.ok && !!got && got.failures.length === 0 && got.archives.length === nodes.length;
    await engine.deleteCapture(run.name, { namespace: ns });
    return { seconds, toDoneSeconds, ok, requests: engine.stats.total, archives: got?.archives.length ?? 0 };
  } finally {
    engine.dispose();
    rmSync(to, { recursive: true, force: true });
  }
}

async function fanout(
  ns: string,
  hollow: string[],
): Promise<{ seconds: number; requests: number; maxInFlight: number }> {
  const engine = await Engine.fromKubeconfig(testKubeconfigPath(), { workerImage: 'retina-capture-worker:bench' });
  try {
    const t0 = performance.now();
    const request = engine.request({
      namespace: ns,
      targets: [{ kind: 'nodeSelector', labels: { 'retina-capture.test/kind': 'hollow' } }],
      outputs: { hostPath: { subPath: 'retina' } },
      options: { durationSeconds: DURATION_S, maxConcurrentJobs: CONCURRENCY },
    });
    const snapshot = await snapshotFor(engine.door, request);
    const plan = planCapture(request, snapshot, { now: new Date() });
    const pf = await preflight(engine.door, request, plan);
    if (!pf.ok) throw new Error(pf.problems.join('\n'));
    const created = await createCaptureObjects(engine.door, plan, request, {}, () => undefined);
    const seconds = (performance.now() - t0) / 1000;
    if (created.jobs.length !== hollow.length)
      throw new Error(`created ${created.jobs.length} of ${hollow.length} Jobs`);
    const requests = engine.stats.total;
    await engine.deleteCapture(plan.name, { namespace: ns });
    return { seconds, requests, maxInFlight: created.maxInFlight };
  } finally {
    engine.dispose();
  }
}

async function main(): Promise<void> {
  const probe = await Engine.fromKubeconfig(testKubeconfigPath());
  const nodesInf = probe.door.informer('nodes');
  await nodesInf.synced;
  const all = nodesInf.list() as V1Node[];
  const kind = (n: V1Node): string | undefined => n.metadata?.labels?.['retina-capture.test/kind'];
  const real = all
    .filter((n) => kind(n) === 'real' && n.metadata?.name !== 'rc-node-8' && n.metadata?.name !== 'rc-node-9')
    .map((n) => n.metadata?.name as string);
  const hollow = all.filter((n) => kind(n) === 'hollow').map((n) => n.metadata?.name as string);
  probe.dispose();

  const ns = await createTestNamespace('bench-engine');
  try {
    const runs: Awaited<ReturnType<typeof overheadRun>>[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await overheadRun(ns, real);
      console.error(
        `overhead run ${i + 1}: ${r.seconds.toFixed(2)} s to unpacked (${r.toDoneSeconds.toFixed(2)} s to done; ${r.ok ? 'ok' : 'some nodes failed'}, ${r.requests} requests)`,
      );
      runs.push(r);
    }
    // A run where a worker failed ends early: its time says nothing about the engine's overhead.
    const good = runs.filter((r) => r.ok);
    const overhead = good.length ? median(good.map((r) => r.seconds)) : null;
    const fo = hollow.length ? await fanout(ns, hollow) : undefined;
    if (fo)
      console.error(
        `fan-out ${hollow.length} nodes: ${fo.seconds.toFixed(2)} s, ${fo.requests} requests, max ${fo.maxInFlight} in flight`,
      );
    const figures: Figure[] = [
      {
        figure: `overhead beyond duration, start → last archive unpacked (${real.length} nodes, median of ${good.length})`,
        value: overhead === null ? null : Number(overhead.toFixed(2)),
        unit: 's',
        goal: '≤ 3',
        ok: overhead === null ? undefined : overhead <= 3,
      },
      {
        figure: 'fan-out: Jobs created',
        value: fo ? Number(fo.seconds.toFixed(2)) : null,
        unit: 's',
        goal: '≤ 15',
        ok: fo ? fo.seconds <= 15 : undefined,
      },
      {
        figure: 'fan-out: Job creates in flight (maxConcurrentJobs)',
        value: fo ? fo.maxInFlight : null,
        unit: 'requests',
        goal: `≤ ${CONCURRENCY}`,
        ok: fo ? fo.maxInFlight <= CONCURRENCY : undefined,
      },
      {
        figure: 'fan-out: API requests',
        value: fo ? fo.requests : null,
        unit: 'requests',
        goal: fo ? `≤ ${hollow.length + 20}` : '≤ nodes + 20',
        ok: fo ? fo.requests <= hollow.length + 20 : undefined,
      },
    ];
    writeResult(
      'engine',
      {
        overhead_seconds: overhead,
        overhead_to_done_seconds: good.length ? median(good.map((r) => r.toDoneSeconds)) : null,
        overhead_runs: runs,
        overhead_nodes: real.length,
        capture_duration_seconds: DURATION_S,
        fanout_nodes: fo ? hollow.length : null,
        fanout_seconds: fo?.seconds ?? null,
        fanout_requests: fo?.requests ?? null,
        fanout_max_in_flight: fo?.maxInFlight ?? null,
        fanout_concurrency_limit: CONCURRENCY,
        note: fo
          ? undefined
          : 'fan-out not measured: the running test cluster has no hollow nodes (needs `npm run cluster:up -- --hollow 500`)',
      },
      figures,
    );
  } finally {
    await deleteTestNamespace(ns);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
