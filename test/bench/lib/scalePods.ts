// Scale-mode fixture for bench:ui: N pods spread round-robin over the shared cluster's hollow
// nodes (label retina-capture.test/kind=hollow), in a namespace of the bench's own. Pods are
// bound directly (spec.nodeName, no scheduler) with restartPolicy Always, so the hollow node
// agent reports them Running and leaves them there (test/cluster/README-nodeagent.md).
// Creates go through the project's kube door with bounded concurrency; the caller deletes the
// namespace in a finally (deleteScalePods waits until it is gone, so the next run starts clean).
import { forContext, type KubeDoor } from '../../../src/kube/door.js';
import { isKubeError } from '../../../src/kube/errors.js';
import type { V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';

export const HOLLOW_SELECTOR = 'retina-capture.test/kind=hollow';

export interface ScalePods {
  door: KubeDoor;
  namespace: string;
  nodes: number;
  pods: number;
  createMs: number;
  runningMs: number;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function podBody(namespace: string, name: string, node: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'bench-scale' } },
    spec: {
      nodeName: node,
      restartPolicy: 'Always',
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'retina-capture-traffic:latest' }],
    },
  };
}

/** Creates `count` pods over the hollow nodes and waits until every one reports Running. */
export async function createScalePods(kubeconfig: string, count: number, concurrency = 24): Promise<ScalePods> {
  const door = await forContext(undefined, { files: [kubeconfig] });
  const namespace = `bench-ui-scale-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const hollow = (await door.list<V1Node>('nodes', { labelSelector: HOLLOW_SELECTOR }))
      .map((n) => n.metadata!.name!)
      .sort();
    if (hollow.length === 0) throw new Error(`no hollow nodes (${HOLLOW_SELECTOR}) in the cluster`);
    await door.create<V1Namespace>('namespaces', undefined, {
      metadata: { name: namespace, labels: { 'retina-capture.test/test-namespace': 'true' } },
    });
    const t0 = Date.now();
    const names = Array.from({ length: count }, (_, i) => i);
    await pool(names, concurrency, async (i) => {
      const body = podBody(namespace, `scale-${i}`, hollow[i % hollow.length]!);
      // A fresh namespace may not have its default ServiceAccount yet: retry those refusals.
      const end = Date.now() + 30_000;
      for (;;) {
        try {
          await door.create('pods', namespace, body);
          return;
        } catch (e) {
          if (!/serviceaccount/i.test(String(e)) || Date.now() > end) throw e;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    });
    const createMs = Date.now() - t0;
    await until(`${count} pods Running in ${namespace}`, 300_000, async () => {
      const pods = await door.list<V1Pod>('pods', { namespace, fieldSelector: 'status.phase=Running' });
      return pods.length >= count ? true : undefined;
    });
    return { door, namespace, nodes: hollow.length, pods: count, createMs, runningMs: Date.now() - t0 };
  } catch (e) {
    await deleteScalePods({ door, namespace }).catch(() => undefined);
    throw e;
  }
}

/** Deletes the namespace and waits (bounded) until it is gone; closes the door. */
export async function deleteScalePods(s: Pick<ScalePods, 'door' | 'namespace'>, timeoutMs = 300_000): Promise<void> {
  try {
    await s.door.delete('namespaces', undefined, s.namespace, { propagationPolicy: 'Background' });
    await until(`namespace ${s.namespace} deleted`, timeoutMs, async () => {
      try {
        await s.door.get('namespaces', undefined, s.namespace);
        return undefined;
      } catch (e) {
        if (isKubeError(e, 'notFound')) return true;
        throw e;
      }
    });
  } finally {
    s.door.dispose();
  }
}
