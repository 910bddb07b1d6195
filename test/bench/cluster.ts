// `npm run bench:cluster [-- --cold]`: start/stop time and memory of the test cluster, and
// scale with 500 hollow nodes. Writes test/bench/results/cluster.json (+ svg, README table).
// It restarts the shared 3-node cluster once (~15 s; waits up to 10 min for no test namespaces
// unless --force) and runs the 500-hollow-node part on a second control plane on other ports.
//
// --cold re-measures the first build (empty GOCACHE, fresh bin dir; the Go module cache is kept,
// so downloads are not counted). Without it, first_build_seconds is the figure measured on the
// first build on this machine (FIRST_BUILD below).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { down, readCluster, up, type ClusterInfo } from '../cluster/cluster.js';
import { loadKubeConfig } from '../cluster/lib/kube.js';
import { waitFor } from '../cluster/lib/wait.js';
import { buildAll } from '../cluster/lib/build.js';
import { memoryOf, rssBytes } from '../cluster/lib/mem.js';
import { writeResult } from './lib/report.js';

/** Measured on the first build on this 2-core VM: kube-apiserver + controller-manager + scheduler
 * in one `go build` took 393 s wall, with etcd (91 s) building alongside. Honest caveats: the
 * modules were already downloaded (`go get`, ~35 s), and an aborted first attempt had compiled
 * ~50 s worth of packages that this build reused, so a truly cold build is ≈ 390–450 s. */
const FIRST_BUILD = {
  seconds: 393,
  measured:
    'first build on this machine (2 cores): control plane 393 s wall (etcd 91 s in parallel); modules pre-downloaded, ~50 s of an aborted attempt reused',
};

const HOLLOW = 500;
const GiB = 1024 ** 3;

async function coldBuild(): Promise<number> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rc-coldbuild-'));
  const saved = process.env.GOCACHE;
  process.env.GOCACHE = path.join(tmp, 'gocache');
  try {
    const t0 = performance.now();
    await buildAll(path.join(tmp, 'bin'), { force: true, only: ['control plane', 'etcd'] });
    return (performance.now() - t0) / 1000;
  } finally {
    if (saved === undefined) delete process.env.GOCACHE;
    else process.env.GOCACHE = saved;
    rmSync(tmp, { recursive: true, force: true });
  }
}

const roots = (info: ClusterInfo): number[] => Object.values(info.pids);

const SYSTEM_NS = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease', 'retina-capture']);

/** The bench restarts the cluster: wait (bounded) until no test namespace is left on it. */
async function waitIdle(info: ClusterInfo): Promise<void> {
  const core = loadKubeConfig(info.kubeconfig).makeApiClient(k8s.CoreV1Api);
  let shown = false;
  await waitFor(
    'the running cluster to be idle (no test namespaces)',
    async () => {
      const busy = (await core.listNamespace()).items
        .map((n) => n.metadata?.name ?? '')
        .filter((n) => !SYSTEM_NS.has(n));
      if (busy.length && !shown) {
        console.error(`waiting for test namespaces to go: ${busy.join(', ')}`);
        shown = true;
      }
      // Live pods in the shared namespaces (e.g. an e2e run in `default`) count as busy too.
      const live = (await core.listPodForAllNamespaces()).items.filter(
        (p) => !p.metadata?.namespace?.startsWith('kube-') && ['Pending', 'Running'].includes(p.status?.phase ?? ''),
      );
      if (live.length && !shown) {
        console.error(`waiting for ${live.length} live pods to finish`);
        shown = true;
      }
      return busy.length === 0 && live.length === 0;
    },
    { timeoutMs: 10 * 60_000, intervalMs: 1000 },
  );
}

/** Runs fn with env overrides: a second control plane on other ports/state for the scale part. */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function main(): Promise<void> {
  const cold = process.argv.includes('--cold');
  const force = process.argv.includes('--force');
  const firstBuild = cold ? await coldBuild() : FIRST_BUILD.seconds;

  // 1. down + warm up of the real 3-node cluster. Node/netns names are machine-wide, so this
  //    one restarts the shared cluster (about 15 s); it waits for idle unless --force.
  const before = readCluster();
  if (before?.status === 'ready' && !force) {
    try {
      await waitIdle(before);
    } catch {
      console.error('cluster still busy after 10 min; measuring anyway');
    }
  }
  if (before?.status !== 'ready') await up({ nodes: 3, verbose: false }); // builds if needed
  let t0 = performance.now();
  await down({ verbose: false });
  const downSecs = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const info = await up({ nodes: 3, verbose: false });
  const upWarm = (performance.now() - t0) / 1000;
  const mem = memoryOf(roots(info));

  // 2. Scale: 500 hollow nodes on a second control plane (other ports and state dir; hollow
  //    nodes make no namespaces), so the shared cluster keeps running.
  const scaleEnv = {
    RETINA_CLUSTER_STATE: path.join(os.tmpdir(), 'rc-bench-hollow'),
    RETINA_CLUSTER_ETCD_PORT: '33790',
    RETINA_CLUSTER_ETCD_PEER_PORT: '33800',
    RETINA_CLUSTER_APISERVER_PORT: '36443',
    RETINA_CLUSTER_KCM_PORT: '36257',
    RETINA_CLUSTER_SCHEDULER_PORT: '36259',
  };
  const scale = await withEnv(scaleEnv, async () => {
    const c = await up({ nodes: 0, hollow: HOLLOW, timeoutMs: 300_000, verbose: false });
    const r = { timings: c.timings, apiserverRss: rssBytes(c.pids['kube-apiserver'] ?? 0), mem: memoryOf(roots(c)) };
    await down({ verbose: false });
    return r;
  });
  const hollowReady = (scale.timings?.hollowReady ?? NaN) - (scale.timings?.controlPlane ?? 0);
  const apiserverRss = scale.apiserverRss;
  const scaleMem = scale.mem;
  // Leave the machine as found: no cluster if there was none.
  if (before?.status !== 'ready') await down({ verbose: false });

  const r1 = (n: number): number => Math.round(n * 10) / 10;
  const data = {
    first_build_seconds: r1(firstBuild),
    first_build_note: cold ? 're-measured with --cold (empty GOCACHE, module cache kept)' : FIRST_BUILD.measured,
    up_warm_seconds: r1(upWarm),
    up_warm_timings: info.timings,
    down_seconds: r1(downSecs),
    cluster_memory_bytes: mem.pss,
    cluster_memory_rss_bytes: mem.rss,
    cluster_processes: mem.processes,
    hollow_nodes: HOLLOW,
    hollow_ready_seconds: r1(hollowReady),
    hollow_note:
      'second control plane (own etcd/apiserver/KCM) while the shared 3-node cluster keeps running; seconds from controller-manager healthy to all hollow nodes Ready',
    apiserver_rss_bytes_at_500: apiserverRss,
    cluster_memory_bytes_at_500: scaleMem.pss,
  };
  console.log(JSON.stringify(data, null, 2));
  writeResult(
    'cluster',
    data,
    [
      { figure: 'test cluster first build (cold)', value: data.first_build_seconds, unit: 's' },
      {
        figure: 'cluster up (warm) to 3 Ready nodes',
        value: data.up_warm_seconds,
        unit: 's',
        goal: '≤ 30',
        ok: data.up_warm_seconds <= 30,
      },
      { figure: 'cluster down', value: data.down_seconds, unit: 's' },
      {
        figure: 'cluster memory (PSS, 3 nodes)',
        value: r1(mem.pss / 2 ** 20),
        unit: 'MiB',
        goal: '≤ 1536',
        ok: mem.pss <= 1.5 * GiB,
      },
      { figure: `${HOLLOW} hollow nodes Ready`, value: data.hollow_ready_seconds, unit: 's' },
      { figure: `apiserver RSS at ${HOLLOW} nodes`, value: r1(apiserverRss / 2 ** 20), unit: 'MiB' },
    ],
    {
      title: 'Test cluster: times',
      unit: 's',
      bars: [
        { label: 'up (warm, 3 nodes)', value: data.up_warm_seconds, group: 'start' },
        { label: 'down', value: data.down_seconds, group: 'stop' },
        { label: `${HOLLOW} hollow nodes Ready`, value: data.hollow_ready_seconds, group: 'scale' },
      ],
    },
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
