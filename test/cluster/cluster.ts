// Programmatic API of the test cluster: a real control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler built from Go modules) plus virtual nodes run by
// the node agent. See README.md for the why, CONTRACT.md for the interface to the agent.
//
//   const info = await up({ nodes: 3 });   // idempotent
//   ... info.kubeconfig, info.limitedKubeconfig ...
//   await down();                           // leaves nothing behind
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { buildAll, ensureHostTools, staleTargets } from './lib/build.js';
import { applyYamlFile, isReady, loadKubeConfig, probe } from './lib/kube.js';
import {
  BRIDGE,
  BRIDGE_IP,
  CLUSTER_CIDR,
  K8S_VERSION,
  SERVICE_CIDR,
  clusterSrc,
  nodeIP,
  nodeName,
  paths,
  ports,
  type Paths,
  type Ports,
} from './lib/paths.js';
import { makeCerts, writeKubeconfig } from './lib/pki.js';
import { stageWorkerRuntime, workerEntrypoint, type WorkerRuntime } from '../support/workerRuntime.js';
import {
  isAlive,
  isOurs,
  portOwner,
  readPidFiles,
  removePidFile,
  startDetached,
  stopGroup,
  tail,
  type Started,
} from './lib/proc.js';
import { cleanupLeftovers, stopRecorded } from './lib/teardown.js';
import { withLock } from './lib/lock.js';
import { waitFor } from './lib/wait.js';

export interface UpOptions {
  /** Real virtual nodes (netns + processes). Default 3. */
  nodes?: number;
  /** Hollow nodes (scale mode, no processes). Default 0. */
  hollow?: number;
  /** Overall budget for waits of one start, default 120 s (+ hollow nodes). Builds are not counted. */
  timeoutMs?: number;
  /** Print progress to stderr (default true). */
  verbose?: boolean;
  /**
   * Accept a running healthy cluster with at least `nodes` real nodes and any hollow ones
   * (the test runner: never restart a cluster someone else shaped for their work).
   */
  atLeast?: boolean;
}

export interface ClusterInfo {
  k8sVersion: string;
  server: string;
  kubeconfig: string;
  limitedKubeconfig: string;
  nodes: string[];
  hollow: number;
  ports: Ports;
  pids: Record<string, number>;
  state: string;
  bin: string;
  imageMap: string;
  logs: string;
  startedAt: string;
  /** 'starting' while up() runs, 'ready' once every wait passed. */
  status: 'starting' | 'ready';
  /** Seconds from the first process start to each milestone (for the benchmark). */
  timings?: Record<string, number>;
}

let verbose = true;
const log = (msg: string): void => {
  if (verbose) console.error(`[cluster] ${msg}`);
};

/** Reads `<state>/cluster.json`, or undefined when there is none. */
export function readCluster(): ClusterInfo | undefined {
  const p = paths();
  if (!existsSync(p.clusterJson)) return undefined;
  try {
    return JSON.parse(readFileSync(p.clusterJson, 'utf8')) as ClusterInfo;
  } catch {
    return undefined;
  }
}

function saveCluster(p: Paths, info: ClusterInfo): void {
  // tmp + rename: a reader never sees half a file.
  writeFileSync(p.clusterJson + '.tmp', JSON.stringify(info, null, 2) + '\n');
  renameSync(p.clusterJson + '.tmp', p.clusterJson);
}

/** Why an existing cluster is not usable as is, or undefined when it is healthy. */
async function unhealthy(
  info: ClusterInfo,
  want: { nodes: number; hollow: number; atLeast?: boolean },
): Promise<string | undefined> {
  const p = paths();
  if (info.status !== 'ready') return 'its start did not finish';
  if (Object.keys(info.pids).length === 0) return 'cluster.json records no processes';
  const shapeOk = want.atLeast
    ? info.nodes.length >= want.nodes
    : info.nodes.length === want.nodes && info.hollow === want.hollow;
  if (!shapeOk) {
    return `it runs ${info.nodes.length} nodes + ${info.hollow} hollow, ${want.nodes} + ${want.hollow} asked`;
  }
  for (const [name, pid] of Object.entries(info.pids)) {
    if (!isAlive(pid) || !isOurs(pid, info.bin)) return `${name} (pid ${pid}) is not running`;
  }
  // Sources changed since the binaries were built (e.g. a node agent fix): only a warning —
  // restarting here would kill the tests of whoever else is using the shared cluster.
  const stale = staleTargets(p.bin).filter((t) => t !== 'nodeagent' || want.nodes + want.hollow > 0);
  if (stale.length) {
    log(
      `note: sources of ${stale.join(', ')} changed since the build; \`npm run cluster:down\` and up again to use them`,
    );
  }
  try {
    const r = await probe(`${info.server}/readyz`, { pkiDir: p.pki, cert: 'admin' });
    if (r.status !== 200) return `apiserver /readyz answers ${r.status}`;
    const core = loadKubeConfig(info.kubeconfig).makeApiClient(k8s.CoreV1Api);
    const nodes = await core.listNode({ labelSelector: 'retina-capture.test/kind=real' });
    const ready = nodes.items.filter(isReady).map((n) => n.metadata?.name);
    const missing = info.nodes.filter((n) => !ready.includes(n));
    if (missing.length) return `node(s) ${missing.join(', ')} not Ready`;
  } catch (e) {
    return `apiserver unreachable (${e instanceof Error ? e.message : String(e)})`;
  }
  return undefined;
}

function printLines(info: ClusterInfo): void {
  // Machine-readable lines on stdout (CLI): eval-able by a shell.
  console.log(`KUBECONFIG=${info.kubeconfig}`);
  console.log(`LIMITED_KUBECONFIG=${info.limitedKubeconfig}`);
}

/** Starts the cluster (or returns the healthy one already running). */
export async function up(opts: UpOptions = {}): Promise<ClusterInfo> {
  verbose = opts.verbose ?? true;
  return withLock(`${paths().state}.lock`, 'cluster up/down', () => upLocked(opts));
}

async function upLocked(opts: UpOptions): Promise<ClusterInfo> {
  const want = { nodes: opts.nodes ?? 3, hollow: opts.hollow ?? 0 };
  if (!Number.isInteger(want.nodes) || want.nodes < 0 || want.nodes > 8)
    throw new Error(`--nodes must be 0..8 (rc-node-9 is reserved for tests), got ${want.nodes}`);
  if (!Number.isInteger(want.hollow) || want.hollow < 0 || want.hollow > 5000)
    throw new Error(`--hollow must be 0..5000, got ${want.hollow}`);
  const p = paths();
  // The worker "image" (Node 24 + the image's app layout, scripts/worker-runtime.sh): staged
  // (or refreshed from dist/) also when a running cluster is reused, so its Jobs run the current
  // bundle of this clone.
  const runtime = stageWorkerRuntime();

  const existing = readCluster();
  if (existing) {
    const why = await unhealthy(existing, { ...want, atLeast: opts.atLeast });
    if (!why) {
      log('cluster already running and healthy');
      return existing;
    }
    log(`a previous cluster is not usable (${why}); cleaning it with down first`);
    await downLocked();
  } else if (existsSync(p.state)) {
    log('leftovers of a previous run found (no cluster.json); cleaning them with down first');
    await downLocked();
  }

  ensureHostTools();
  // A control-plane-only cluster does not need the node agent (nor wait for its build).
  await buildAll(p.bin, { skip: want.nodes + want.hollow === 0 ? ['nodeagent'] : [] });
  if (!existsSync(path.join(p.bin, 'nodeagent')) && want.nodes + want.hollow > 0) {
    throw new Error(
      `node agent binary ${path.join(p.bin, 'nodeagent')} is missing (its sources are not in test/cluster/nodeagent yet?)`,
    );
  }

  const pt = ports();
  for (const [what, port] of Object.entries(pt)) {
    const owner = await portOwner(port);
    if (owner)
      throw new Error(
        `port ${port} (${what}) on 127.0.0.1 is in use by ${owner}; stop it or set the RETINA_CLUSTER_*_PORT env override`,
      );
  }

  const server = `https://127.0.0.1:${pt.apiserver}`;
  const info: ClusterInfo = {
    k8sVersion: K8S_VERSION,
    server,
    kubeconfig: p.adminKubeconfig,
    limitedKubeconfig: p.limitedKubeconfig,
    nodes: Array.from({ length: want.nodes }, (_, i) => nodeName(i + 1)),
    hollow: want.hollow,
    ports: pt,
    pids: {},
    state: p.state,
    bin: p.bin,
    imageMap: p.imageMap,
    logs: p.logs,
    startedAt: new Date().toISOString(),
    status: 'starting',
  };
  const started: Started[] = [];
  try {
    mkdirSync(p.logs, { recursive: true });
    saveCluster(p, info);
    makeCerts(p.bin, p.pki);
    writeKubeconfig(p.adminKubeconfig, { server, pkiDir: p.pki, cert: 'admin', user: 'admin' });
    writeKubeconfig(p.limitedKubeconfig, { server, pkiDir: p.pki, cert: 'limited', user: 'retina-limited' });
    for (const c of ['controller-manager', 'scheduler']) {
      writeKubeconfig(path.join(p.state, `${c}.kubeconfig`), { server, pkiDir: p.pki, cert: c, user: c });
    }
    writeImageMap(p, runtime);

    const budget = opts.timeoutMs ?? 120_000;
    const deadline = Date.now() + budget;
    const left = (): number => Math.max(1000, deadline - Date.now());
    const start = (name: string, bin: string, args: string[]): Started => {
      const s = startDetached(name, path.join(p.bin, bin), args, p);
      started.push(s);
      info.pids[name] = s.pid;
      saveCluster(p, info);
      return s;
    };
    // Fail fast (with its log) when any component started so far dies during a wait.
    const abort = (): string | undefined => {
      const dead = started.find((s) => !isAlive(s.pid));
      return dead ? `${dead.name} exited during start; last lines of ${dead.log}:\n${tail(dead.log)}` : undefined;
    };

    const t0 = performance.now();
    const timings: Record<string, number> = {};
    info.timings = timings;
    const mark = (what: string): void => {
      timings[what] = Math.round(performance.now() - t0) / 1000;
    };
    start('etcd', 'etcd', etcdArgs(p, pt));
    await waitFor(
      'etcd /health',
      async () => (await probe(`http://127.0.0.1:${pt.etcd}/health`)).body.includes('"health":"true"'),
      { timeoutMs: left(), abort },
    );
    mark('etcd');
    log(`etcd healthy (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

    start('kube-apiserver', 'kube-apiserver', apiserverArgs(p, pt));
    await waitFor(
      'kube-apiserver /readyz',
      async () => (await probe(`${server}/readyz`, { pkiDir: p.pki, cert: 'admin' })).status === 200,
      { timeoutMs: left(), abort },
    );
    mark('apiserver');
    log(`kube-apiserver ready (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

    const kc = loadKubeConfig(p.adminKubeconfig);
    for (const f of ['limited-user.yaml', 'node-network.yaml'])
      await applyYamlFile(kc, path.join(clusterSrc, 'rbac', f));

    start('kube-controller-manager', 'kube-controller-manager', controllerManagerArgs(p, pt));
    start('kube-scheduler', 'kube-scheduler', schedulerArgs(p, pt));
    await waitFor(
      'kube-controller-manager /healthz',
      async () => (await probe(`https://127.0.0.1:${pt.controllerManager}/healthz`)).status === 200,
      { timeoutMs: left(), abort },
    );
    await waitFor(
      'kube-scheduler /healthz',
      async () => (await probe(`https://127.0.0.1:${pt.scheduler}/healthz`)).status === 200,
      { timeoutMs: left(), abort },
    );
    mark('controlPlane');
    log(`controller-manager and scheduler healthy (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

    for (let i = 1; i <= want.nodes; i++) start(nodeName(i), 'nodeagent', nodeAgentArgs(p, i));
    if (want.hollow > 0) start('hollow', 'nodeagent', hollowArgs(p, want.hollow));
    mark('agentsStarted');

    const core = kc.makeApiClient(k8s.CoreV1Api);
    if (want.nodes > 0) {
      await waitFor(
        `${want.nodes} real nodes Ready with a podCIDR`,
        async () => {
          const list = await core.listNode({ labelSelector: 'retina-capture.test/kind=real' });
          const ok = list.items.filter(
            (n) => isReady(n) && n.spec?.podCIDR && info.nodes.includes(n.metadata?.name ?? ''),
          );
          return ok.length === want.nodes;
        },
        { timeoutMs: left(), intervalMs: 250, abort },
      );
      mark('nodesReady');
      log(`${want.nodes} nodes Ready (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    if (want.hollow > 0) {
      await waitFor(
        `${want.hollow} hollow nodes Ready`,
        async () => {
          const list = await core.listNode({ labelSelector: 'retina-capture.test/kind=hollow' });
          return list.items.filter(isReady).length >= want.hollow;
        },
        { timeoutMs: left() + want.hollow * 500, intervalMs: 1000, abort },
      );
      mark('hollowReady');
      log(`${want.hollow} hollow nodes Ready (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    await waitFor(
      'ServiceAccount default/default',
      async () => {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
        return true;
      },
      { timeoutMs: left(), abort },
    );
    mark('ready');
    info.status = 'ready';
    saveCluster(p, info);
    log(`cluster ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return info;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log('start failed; cleaning up with down');
    try {
      await downLocked();
    } catch (e2) {
      log(`down after the failed start also failed: ${e2 instanceof Error ? e2.message : String(e2)}`);
    }
    throw new Error(
      `cluster start failed: ${msg}\nlogs: ${p.logs} (one per process); ` +
        'fix: the message names the process or port; `npm run cluster:down` clears leftovers, then run the command again',
    );
  }
}

/** Stops everything `up` started and removes the state dir (binaries stay cached). */
export async function down(opts: { verbose?: boolean } = {}): Promise<void> {
  if (opts.verbose !== undefined) verbose = opts.verbose;
  await withLock(`${paths().state}.lock`, 'cluster up/down', downLocked);
}

async function downLocked(): Promise<void> {
  const p = paths();
  const info = readCluster();
  // Netns/bridge names are machine-wide (CONTRACT.md). A control-plane-only cluster (e.g. one
  // on other ports/state for a check) never made any, so its down must not touch them.
  // Hollow nodes make no namespaces either.
  const agentsRecorded = readPidFiles(p.pids).some(({ name }) => name.startsWith('rc-node-'));
  const network = !(info && info.nodes.length === 0 && !agentsRecorded);
  await stopRecorded(p, info, log);
  await cleanupLeftovers(p, log, { network });
}

export { printLines };

// ---- component command lines -------------------------------------------------------------

function etcdArgs(p: Paths, pt: Ports): string[] {
  const client = `http://127.0.0.1:${pt.etcd}`;
  const peer = `http://127.0.0.1:${pt.etcdPeer}`;
  return [
    '--name=rc-etcd',
    `--data-dir=${path.join(p.state, 'etcd')}`,
    // Plain HTTP on loopback only: the apiserver is the sole client; TLS would add nothing here.
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=rc-etcd=${peer}`,
    '--initial-cluster-state=new',
    // A throw-away test database: skipping fsync makes the start and every write fast on VMs.
    '--unsafe-no-fsync=true',
    '--quota-backend-bytes=2147483648',
    '--log-level=warn',
  ];
}

function apiserverArgs(p: Paths, pt: Ports): string[] {
  const pki = (f: string): string => path.join(p.pki, f);
  return [
    `--etcd-servers=http://127.0.0.1:${pt.etcd}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${pt.apiserver}`,
    '--advertise-address=127.0.0.1',
    // The `kubernetes` Service endpoints would have to be a loopback address, which Endpoints
    // validation refuses; nothing in the cluster dials the Service (no kube-proxy).
    '--endpoint-reconciler-type=none',
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    '--authorization-mode=Node,RBAC',
    // Defaults (incl. PodSecurity, ServiceAccount) stay on; NodeRestriction is not a default.
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
    `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
    '--kubelet-preferred-address-types=InternalIP',
    '--profiling=false',
    '--v=1',
  ];
}

function controllerManagerArgs(p: Paths, pt: Ports): string[] {
  const kubeconfig = path.join(p.state, 'controller-manager.kubeconfig');
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${pt.controllerManager}`,
    '--leader-elect=false',
    // All default controllers: job, ttl-after-finished, garbagecollector, nodelifecycle,
    // nodeipam, serviceaccount-token, namespace, … (cloud ones disable themselves).
    '--controllers=*',
    '--allocate-node-cidrs=true',
    `--cluster-cidr=${CLUSTER_CIDR}`,
    '--node-cidr-mask-size=24',
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${path.join(p.pki, 'sa.key')}`,
    `--root-ca-file=${path.join(p.pki, 'ca.crt')}`,
    `--cluster-signing-cert-file=${path.join(p.pki, 'ca.crt')}`,
    `--cluster-signing-key-file=${path.join(p.pki, 'ca.key')}`,
    // Short, so the "agent killed -> NotReady" test finishes in seconds, not 50 s.
    '--node-monitor-grace-period=20s',
    '--node-monitor-period=2s',
    // Tests delete a namespace per test; a deletion that failed once (pods on a killed node)
    // is otherwise retried with an exponential backoff of minutes. The periodic resync
    // re-queues every terminating namespace without backoff.
    '--namespace-sync-period=15s',
    // 500 hollow nodes register at once; default QPS 20 would make CIDR allocation the bottleneck.
    '--kube-api-qps=200',
    '--kube-api-burst=400',
    '--v=1',
  ];
}

function schedulerArgs(p: Paths, pt: Ports): string[] {
  const kubeconfig = path.join(p.state, 'scheduler.kubeconfig');
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${pt.scheduler}`,
    '--leader-elect=false',
    '--v=1',
  ];
}

function nodeAgentArgs(p: Paths, i: number): string[] {
  return [
    'run',
    `--kubeconfig=${p.adminKubeconfig}`,
    `--ca-cert=${path.join(p.pki, 'ca.crt')}`,
    `--ca-key=${path.join(p.pki, 'ca.key')}`,
    `--node-name=${nodeName(i)}`,
    `--node-ip=${nodeIP(i)}`,
    `--node-index=${i}`,
    `--bridge=${BRIDGE}`,
    `--bridge-ip=${BRIDGE_IP}`,
    `--state-dir=${path.join(p.state, 'nodes', nodeName(i))}`,
    `--image-map=${p.imageMap}`,
  ];
}

function hollowArgs(p: Paths, count: number): string[] {
  return [
    'hollow',
    `--kubeconfig=${p.adminKubeconfig}`,
    `--ca-cert=${path.join(p.pki, 'ca.crt')}`,
    `--ca-key=${path.join(p.pki, 'ca.key')}`,
    `--count=${count}`,
    '--prefix=rc-hollow-',
  ];
}

/** The "images" the virtual nodes can run (CONTRACT.md, Image map). */
function writeImageMap(p: Paths, runtime: WorkerRuntime): void {
  const images = [
    // The worker trusts the cluster CA, so it can upload over HTTPS to a blob endpoint whose cert
    // the CA signed (test/support/clusterBlob.ts: Azurite on the bridge address).
    {
      name: 'retina-capture-worker',
      entrypoint: [
        '/usr/bin/env',
        `NODE_EXTRA_CA_CERTS=${path.join(p.pki, 'ca.crt')}`,
        'NODE_ENV=production',
        // As the image's ENTRYPOINT (`rcap-init.sh node /app/worker.cjs`): Node 24 and the app
        // dir staged with the image's layout, holding the current dist bundle. rcap-init.sh
        // holds a stop until the worker can take it.
        ...workerEntrypoint(runtime),
      ],
      cmd: [],
    },
    { name: 'retina-capture-traffic', entrypoint: [path.join(p.bin, 'nodeagent'), 'traffic'], cmd: ['server'] },
    { name: 'busybox', entrypoint: [], cmd: ['sh'] },
    { name: 'alpine', entrypoint: [], cmd: ['sh'] },
    { name: 'mcr.microsoft.com/cbl-mariner/busybox', entrypoint: [], cmd: ['sh'] },
  ];
  writeFileSync(p.imageMap, JSON.stringify({ images }, null, 2) + '\n');
}

// ---- helpers for tests ---------------------------------------------------------------------

/** Admin kubeconfig path for tests: env RETINA_TEST_KUBECONFIG, else the running cluster's. */
export function testKubeconfigPath(): string {
  const env = process.env.RETINA_TEST_KUBECONFIG;
  if (env) return env;
  const info = readCluster();
  if (info?.status === 'ready') return info.kubeconfig;
  throw new Error('no test cluster: run `npm run cluster:up` (or set RETINA_TEST_KUBECONFIG)');
}

export function testLimitedKubeconfigPath(): string {
  const env = process.env.RETINA_TEST_LIMITED_KUBECONFIG;
  if (env) return env;
  const info = readCluster();
  if (info?.status === 'ready') return info.limitedKubeconfig;
  if (process.env.RETINA_TEST_KUBECONFIG)
    return path.join(path.dirname(process.env.RETINA_TEST_KUBECONFIG), 'limited.kubeconfig');
  throw new Error('no test cluster: run `npm run cluster:up` (or set RETINA_TEST_LIMITED_KUBECONFIG)');
}

/** Creates a fresh namespace `<prefix>-<random>` labelled as a test namespace; returns its name. */
export async function createTestNamespace(
  prefix: string,
  labels: Record<string, string> = {},
  kubeconfig = testKubeconfigPath(),
): Promise<string> {
  const core = loadKubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api);
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`.toLowerCase().slice(0, 63);
  await core.createNamespace({
    body: { metadata: { name, labels: { 'retina-capture.test/test-namespace': 'true', ...labels } } },
  });
  return name;
}

/** Deletes a test namespace (foreground: its pods go first); never throws on 404. */
export async function deleteTestNamespace(name: string, kubeconfig = testKubeconfigPath()): Promise<void> {
  const core = loadKubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api);
  try {
    await core.deleteNamespace({ name, propagationPolicy: 'Foreground' });
  } catch (e) {
    if ((e as { code?: number }).code !== 404) throw e;
  }
}

/**
 * Starts one extra real node (e.g. rc-node-9) for a test that breaks it. Its pid file sits with
 * the others, so `down` stops it even if the test dies halfway.
 */
export function startExtraNode(index: number): { name: string; pid: number; log: string } {
  const p = paths();
  if (!readCluster()) throw new Error('no test cluster running');
  const s = startDetached(nodeName(index), path.join(p.bin, 'nodeagent'), nodeAgentArgs(p, index), p);
  return { name: nodeName(index), pid: s.pid, log: s.log };
}

/** Stops an extra node's agent, deletes its Node and whatever of its netns/veth is left. */
export async function removeExtraNode(index: number, pid: number, kubeconfig = testKubeconfigPath()): Promise<void> {
  const p = paths();
  const name = nodeName(index);
  if (isAlive(pid) && isOurs(pid, p.bin)) await stopGroup(pid);
  removePidFile(p.pids, name);
  const core = loadKubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api);
  try {
    await core.deleteNode({ name });
  } catch (e) {
    if ((e as { code?: number }).code !== 404) throw e;
  }
  // Our names only (CONTRACT.md address plan); absent ones are fine.
  spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  spawnSync('ip', ['link', 'delete', `rcn${index}-h`], { stdio: 'ignore' });
}
