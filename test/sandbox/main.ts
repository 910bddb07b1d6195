// `npm run sandbox`: a VS Code in the browser (code-server) with the freshly built extension,
// a 3-node test cluster with demo traffic and an HTTPS blob store the nodes can reach — all on
// this machine. Ctrl-C tears down what it started (a cluster that was already running stays).
//
//   SANDBOX_PORT=8080   first port tried for code-server on 127.0.0.1 (next free one is used)
//
// Leftovers of a killed run (code-server, Azurite; the cluster if that run started it) are
// cleaned when it is run again.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { down, readCluster, up, type ClusterInfo } from '../cluster/cluster.js';
import { loadKubeConfig } from '../cluster/lib/kube.js';
import { ROOT, ensureSetup, ensureVsix, launchCodeServer, type CodeServer } from '../e2e/harness/codeServer.js';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../support/azurite.js';
import { clusterCaCert, startClusterAzurite, type ClusterAzurite } from '../support/clusterBlob.js';
import { alive, choosePort, cmdlineHas, say, stopGroupOf, waitUntil } from './proc.js';

const DIR = path.join(ROOT, '.cache/sandbox');
const STATE = path.join(DIR, 'state.json');
const NAMESPACE = 'demo';
const CONTAINER = 'captures';
const WORKER_IMAGE = 'retina-capture-worker:dev';
const NODES = ['rc-node-1', 'rc-node-2', 'rc-node-3'];

interface SandboxState {
  /** This sandbox's own pid (a live one means another sandbox runs). */
  pid: number;
  codeServerPid?: number;
  azuritePid?: number;
  /** code-server's URL once it answers (npm run sandbox:check opens it). */
  url?: string;
  /** The cluster was started by a sandbox run, so a sandbox takes it down. */
  startedCluster?: boolean;
  /** startedAt of that cluster (a cluster restarted by someone else since is not ours). */
  clusterStartedAt?: string;
}

function readState(): SandboxState | undefined {
  try {
    return JSON.parse(readFileSync(STATE, 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
}

function saveState(s: SandboxState): void {
  mkdirSync(DIR, { recursive: true });
  writeFileSync(STATE, JSON.stringify(s, null, 2) + '\n');
}

const code = (e: unknown): number | undefined => (e as { code?: number }).code;

function trafficDeployment(
  name: string,
  replicas: number,
  nodes: string[],
  args: string[],
  spread: boolean,
): k8s.V1Deployment {
  const labels = { app: name, 'retina-capture.sandbox/demo': 'true' };
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 1,
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: nodes }] },
                ],
              },
            },
            ...(spread
              ? {
                  podAntiAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: [
                      { labelSelector: { matchLabels: { app: name } }, topologyKey: 'kubernetes.io/hostname' },
                    ],
                  },
                }
              : {}),
          },
          containers: [{ name: 'main', image: 'retina-capture-traffic', args }],
        },
      },
    },
  };
}

async function applyDeployment(apps: k8s.AppsV1Api, d: k8s.V1Deployment): Promise<void> {
  const name = d.metadata?.name as string;
  try {
    await apps.createNamespacedDeployment({ namespace: NAMESPACE, body: d });
  } catch (e) {
    if (code(e) !== 409) throw e;
    await apps.replaceNamespacedDeployment({ name, namespace: NAMESPACE, body: d });
  }
}

async function runningPods(core: k8s.CoreV1Api, app: string): Promise<k8s.V1Pod[]> {
  const list = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${app}` });
  return list.items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && p.status.podIP);
}

/** Namespace `demo`: `web` (traffic server) on rc-node-2, `client` ×2 on rc-node-1 and rc-node-3. */
async function deployDemo(kubeconfig: string): Promise<{ web: string; clients: string[] }> {
  const kc = loadKubeConfig(kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  await waitUntil(`namespace ${NAMESPACE} of an earlier run to finish terminating`, 120_000, async () => {
    try {
      const ns = await core.readNamespace({ name: NAMESPACE });
      return ns.status?.phase === 'Terminating' ? undefined : true;
    } catch (e) {
      if (code(e) === 404) return true;
      throw e;
    }
  });
  try {
    await core.createNamespace({
      body: { metadata: { name: NAMESPACE, labels: { 'retina-capture.sandbox/demo': 'true' } } },
    });
  } catch (e) {
    if (code(e) !== 409) throw e;
  }
  await applyDeployment(
    apps,
    trafficDeployment('web', 1, ['rc-node-2'], ['server', '--http-port', '8080', '--udp-port', '9000'], false),
  );
  // No Services/DNS on this cluster: clients target the server pod's IP.
  const web = await waitUntil('the web pod to run with an IP', 120_000, async () => {
    const pods = await runningPods(core, 'web');
    return pods.length === 1 ? pods[0] : undefined;
  });
  const webIP = web.status?.podIP as string;
  await applyDeployment(
    apps,
    trafficDeployment(
      'client',
      2,
      ['rc-node-1', 'rc-node-3'],
      ['client', '--target', webIP, '--http-port', '8080', '--udp-port', '9000', '--rate', '10'],
      true,
    ),
  );
  const clients = await waitUntil('2 client pods to run (rc-node-1, rc-node-3)', 120_000, async () => {
    const pods = (await runningPods(core, 'client')).filter((p) => p.spec?.containers[0]?.args?.includes(webIP));
    return pods.length === 2 ? pods : undefined;
  });
  return {
    web: `${web.metadata?.name} ${webIP} on ${web.spec?.nodeName}`,
    clients: clients.map((p) => `${p.metadata?.name} ${p.status?.podIP} on ${p.spec?.nodeName}`),
  };
}

async function deleteDemo(kubeconfig: string): Promise<void> {
  const core = loadKubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api);
  try {
    await core.deleteNamespace({ name: NAMESPACE });
  } catch (e) {
    if (code(e) !== 404) throw e;
  }
}

let phase = 'start';

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  // ---- leftovers of an earlier run ---------------------------------------------------------
  const prev = readState();
  if (prev && prev.pid !== process.pid && alive(prev.pid) && cmdlineHas(prev.pid, 'sandbox/main.ts')) {
    throw new Error(`a sandbox is already running (pid ${prev.pid}); stop it with Ctrl-C or kill -INT ${prev.pid}`);
  }
  if (prev) {
    await stopGroupOf(prev.codeServerPid, 'code-server', 'code-server');
    await stopGroupOf(prev.azuritePid, 'azurite', 'Azurite');
  }
  const state: SandboxState = {
    pid: process.pid,
    startedCluster: prev?.startedCluster,
    clusterStartedAt: prev?.clusterStartedAt,
  };
  saveState(state);

  let cluster: ClusterInfo | undefined;
  let az: ClusterAzurite | undefined;
  let cs: CodeServer | undefined;
  let stopping: Promise<void> | undefined;
  let stoppingSince = 0;
  const teardown = (why: string): Promise<void> => {
    if (stopping) {
      // Ctrl-C reaches this process twice (the terminal's group signal and tsx's relay).
      if (Date.now() - stoppingSince > 1000) say('still stopping…');
      return stopping;
    }
    stoppingSince = Date.now();
    stopping = (async () => {
      say(`${why}: stopping`);
      const step = async (what: string, f: () => Promise<void>): Promise<void> => {
        try {
          await f();
        } catch (e) {
          say(`${what} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      };
      await step('stopping code-server', async () => {
        if (cs) await cs.kill();
        else await stopGroupOf(state.codeServerPid, 'code-server', 'code-server');
      });
      await step('stopping Azurite', async () => {
        if (az) await az.stop();
        else await stopGroupOf(state.azuritePid, 'azurite', 'Azurite');
      });
      if (state.startedCluster) {
        say('taking the test cluster down (this sandbox started it)');
        await step('cluster down', () => down({ verbose: true }));
      } else if (cluster) {
        say(`the cluster was running before: it stays; deleting namespace ${NAMESPACE}`);
        await step(`deleting namespace ${NAMESPACE}`, () => deleteDemo(cluster?.kubeconfig as string));
      }
      rmSync(STATE, { force: true });
      say('stopped');
    })();
    return stopping;
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      void teardown(sig).then(() => process.exit(0));
    });
  }

  try {
    // ---- build + code-server ---------------------------------------------------------------
    phase = 'build';
    say('building the extension and the worker (npm run package)…');
    const vsix = ensureVsix();
    phase = 'setup';
    say('checking code-server, Node 24 and chromium (test/e2e/harness/setup.sh)…');
    const setup = ensureSetup();
    if (stopping) return;

    // ---- cluster -----------------------------------------------------------------------------
    phase = 'cluster';
    const before = readCluster();
    const running = before?.status === 'ready';
    if (running && before.nodes.length < NODES.length) {
      throw new Error(
        `a test cluster with ${before.nodes.length} node(s) is running (others may use it); the sandbox needs ${NODES.length}`,
      );
    }
    // Same shape as a running cluster, so up() reuses it instead of restarting it under others.
    cluster = await up(running ? { nodes: before.nodes.length, hollow: before.hollow } : { nodes: NODES.length });
    const reused = running && before.startedAt === cluster.startedAt;
    // The cluster's kubectl (built with the control plane) for code-server's terminal and the user.
    process.env.PATH = `${cluster.bin}${path.delimiter}${process.env.PATH ?? ''}`;
    // Ours: started now, or started by an earlier sandbox run that was killed (same startedAt).
    state.startedCluster = !reused || (state.startedCluster === true && state.clusterStartedAt === cluster.startedAt);
    state.clusterStartedAt = cluster.startedAt;
    saveState(state);
    say(
      !reused
        ? 'test cluster started'
        : state.startedCluster
          ? 'using the test cluster an earlier sandbox run started'
          : 'using the test cluster that was already running (it stays when the sandbox stops)',
    );
    if (stopping) return;

    phase = 'demo';
    say(`deploying namespace ${NAMESPACE} (web + client traffic)…`);
    const demo = await deployDemo(cluster.kubeconfig);

    // ---- blob storage --------------------------------------------------------------------------
    phase = 'azurite';
    az = await startClusterAzurite(cluster, { pidFile: path.join(DIR, 'azurite.pid') });
    state.azuritePid = az.process.pid;
    saveState(state);
    await az.createContainer(CONTAINER);
    const sas = await az.containerSas(CONTAINER, 'racwdl', { expiresInSec: 7 * 24 * 3600 });
    if (stopping) return;

    // ---- code-server -----------------------------------------------------------------------------
    phase = 'code-server';
    const port = await choosePort();
    cs = await launchCodeServer({
      kubeconfig: cluster.kubeconfig,
      vsix,
      setup,
      dir: path.join(DIR, 'code-server'),
      port,
      logFile: path.join(DIR, 'code-server.log'),
      settings: { 'retinaCapture.workerImage': WORKER_IMAGE },
      env: { NODE_EXTRA_CA_CERTS: clusterCaCert(cluster), RETINA_CAPTURE_TEST_EVENTS: '' },
    });
    state.codeServerPid = cs.pid;
    state.url = cs.url;
    saveState(state);
    cs.process.once('exit', (c, s) => {
      if (!stopping) void teardown(`code-server exited (${c ?? s})`).then(() => process.exit(1));
    });
    if (stopping) return;

    const lines = [
      '',
      '==================== Retina Capture sandbox ====================',
      `VS Code (code-server):  ${cs.url}`,
      `  workspace ${cs.workspace}; log ${path.join(DIR, 'code-server.log')}`,
      `Cluster:     KUBECONFIG=${cluster.kubeconfig}`,
      `             kubectl ${path.join(cluster.bin, 'kubectl')}`,
      `             nodes ${cluster.nodes.join(', ')}; worker image ${WORKER_IMAGE}`,
      `Demo:        namespace ${NAMESPACE}: web ${demo.web}`,
      ...demo.clients.map((c) => `             client ${c}`),
      'Blob storage (Azurite over HTTPS, cert from the cluster CA) for "Retina: Set Blob Storage…":',
      `  account name: ${AZURITE_ACCOUNT}`,
      `  account key:  ${AZURITE_KEY}`,
      `  container:    ${CONTAINER}`,
      `  endpoint:     ${az.endpoint}`,
      `  or a container SAS URL (read/add/create/write/delete/list, 7 days):`,
      `  ${sas}`,
      `  CA: ${clusterCaCert(cluster)}`,
      'Try: Retina view → Clusters → right-click rc-node-2 (or a pod of namespace demo) → Start Capture….',
      'Ctrl-C to stop.',
      '================================================================',
      '',
    ];
    console.log(lines.join('\n'));
    setInterval(() => undefined, 1 << 30); // stay until a signal
  } catch (e) {
    await teardown(`start failed: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
}

/** What each start phase's failure tells the newcomer: the step, where its log is, what to do. */
const PHASES: Record<string, { step: string; log: string; fix: string }> = {
  start: { step: 'checking for an earlier sandbox', log: STATE, fix: 'stop the sandbox it names (Ctrl-C)' },
  build: {
    step: 'building the extension (npm run package)',
    log: 'the webpack/vsce output above',
    fix: 'fix the build errors shown, then run npm run sandbox again',
  },
  setup: {
    step: 'installing code-server, Node 24 and the browser (test/e2e/harness/setup.sh)',
    log: path.join(ROOT, '.cache/logs/'),
    fix: 'the FAILED lines above name the step and its fix',
  },
  cluster: {
    step: 'starting the test cluster',
    log: path.join(ROOT, '.cache/cluster/state/logs/'),
    fix: 'read the message above; npm run cluster:down clears leftovers; then run npm run sandbox again',
  },
  demo: {
    step: `deploying namespace ${NAMESPACE}`,
    log: path.join(ROOT, '.cache/cluster/state/logs/'),
    fix: 'the node agents’ logs say why a pod did not start; run npm run sandbox again',
  },
  azurite: { step: 'starting Azurite', log: DIR, fix: 'check that no other Azurite holds the bridge address' },
  'code-server': {
    step: 'starting code-server',
    log: path.join(DIR, 'code-server.log'),
    fix: 'set SANDBOX_PORT to a free port, or remove .cache/sandbox/code-server and run npm run sandbox again',
  },
};

main().catch((e: unknown) => {
  const p = PHASES[phase] ?? PHASES.start!;
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  console.error(`\n[sandbox] FAILED: ${p.step}\n[sandbox]   log: ${p.log}\n[sandbox]   fix: ${p.fix}`);
  process.exit(1);
});
