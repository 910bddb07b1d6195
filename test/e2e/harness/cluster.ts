// Cluster fixtures for the e2e tests: a namespace of the test's own with a traffic server and
// client pinned to chosen nodes (images of test/cluster/CONTRACT.md), through kubectl with the
// test kubeconfig. Cleanup deletes the namespace (its pods, Jobs and Secrets go with it).
import { spawnSync } from 'node:child_process';

export function kubectl(kubeconfig: string, args: string[], input?: string): string {
  const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    input,
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** `kubectl apply` of one object; retried while a fresh namespace has no default ServiceAccount yet. */
async function apply(kubeconfig: string, obj: object, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      kubectl(kubeconfig, ['apply', '-f', '-'], JSON.stringify(obj));
      return;
    } catch (e) {
      if (!/serviceaccount .* not found/i.test(String(e)) || Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export function createNamespace(kubeconfig: string, prefix: string, labels: Record<string, string> = {}): string {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  const doc = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'retina-capture.test/test-namespace': 'true', ...labels } },
  };
  kubectl(kubeconfig, ['apply', '-f', '-'], JSON.stringify(doc));
  return name;
}

export function deleteNamespace(kubeconfig: string, name: string): void {
  spawnSync(
    'kubectl',
    ['--kubeconfig', kubeconfig, 'delete', 'namespace', name, '--wait=false', '--ignore-not-found'],
    {
      stdio: 'ignore',
      timeout: 30_000,
    },
  );
}

function pod(namespace: string, name: string, node: string, args: string[]): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'traffic', image: 'retina-capture-traffic:latest', args }],
    },
  };
}

async function waitRunning(kubeconfig: string, namespace: string, name: string, timeoutMs = 60_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const out = kubectl(kubeconfig, [
      'get',
      'pod',
      '-n',
      namespace,
      name,
      '-o',
      'jsonpath={.status.phase} {.status.podIP}',
    ]).trim();
    const [phase, ip] = out.split(' ');
    if (phase === 'Running' && ip) return ip;
    if (Date.now() > end) throw new Error(`pod ${namespace}/${name} not running with an IP: "${out}"`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One traffic pod of a chosen name on `node` (e.g. a name unique across namespaces), running with an IP. */
export async function runPod(
  kubeconfig: string,
  namespace: string,
  name: string,
  node: string,
  args: string[],
): Promise<string> {
  await apply(kubeconfig, pod(namespace, name, node, args));
  return waitRunning(kubeconfig, namespace, name);
}

/** Server on `serverNode`, client on `clientNode` sending HTTP (8080) and UDP (9000) to it. */
export async function startTraffic(
  kubeconfig: string,
  namespace: string,
  serverNode: string,
  clientNode: string,
): Promise<{ serverIP: string; clientIP: string; server: string; client: string }> {
  await apply(kubeconfig, pod(namespace, 'server', serverNode, ['server']));
  const serverIP = await waitRunning(kubeconfig, namespace, 'server');
  await apply(kubeconfig, pod(namespace, 'client', clientNode, ['client', '--target', serverIP, '--rate', '20']));
  const clientIP = await waitRunning(kubeconfig, namespace, 'client');
  return { serverIP, clientIP, server: 'server', client: 'client' };
}

/** Real (not hollow) Ready nodes, e.g. rc-node-1..3 (the list changes while others test). */
export function realNodes(kubeconfig: string): string[] {
  const out = kubectl(kubeconfig, [
    'get',
    'nodes',
    '-l',
    'retina-capture.test/kind=real',
    '-o',
    'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
  ]);
  return out
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter(([n, s]) => n && s === 'True' && /^rc-node-[123]$/.test(n))
    .map(([n]) => n!)
    .sort();
}

/** Objects a capture could leave behind in a namespace (Jobs, Secrets of ours, pods of Jobs). */
export function captureLeftovers(kubeconfig: string, namespace: string): string[] {
  const out = kubectl(kubeconfig, [
    'get',
    'jobs,secrets,pods',
    '-n',
    namespace,
    '-l',
    'retina.sh/app=capture',
    '-o',
    'name',
  ]);
  return out.split('\n').filter(Boolean);
}

/** Tshark packet count for a display filter. */
export function tsharkCount(file: string, displayFilter: string): number {
  const r = spawnSync('tshark', ['-r', file, '-Y', displayFilter, '-T', 'fields', '-e', 'frame.number'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`tshark: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).length;
}
