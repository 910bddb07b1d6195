// followCaptureResource against a fake door: the Capture's status drives `resource` events, an
// `error` condition ends nodes without a Job with the operator's message, the per-node story comes
// from the Jobs/Pods, `finished` waits for the Capture's own final status, cancel deletes the Capture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { CaptureResource, CaptureResourceStatus } from '../../../src/capture/crd.js';
import type { KubeDoor } from '../../../src/kube/door.js';
import type { InformerListener, KubeObject } from '../../../src/kube/index.js';
import type { CaptureEvent } from '../../../src/session/events.js';
import { followCaptureResource } from '../../../src/session/resourceRun.js';

class FakeInformer<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly listeners = new Set<InformerListener<T>>();
  readonly synced = Promise.resolve();
  isSynced = true;
  disposed = false;
  on(l: InformerListener<T>): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  list(f?: (o: T) => boolean): T[] {
    return [...this.items.values()].filter((o) => !f || f(o));
  }
  get(ns: string | undefined, name: string): T | undefined {
    return this.items.get(`${ns ?? ''}/${name}`);
  }
  put(o: T): void {
    const k = `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
    const old = this.items.get(k);
    this.items.set(k, o);
    for (const l of [...this.listeners]) l(old ? { type: 'update', object: o, old } : { type: 'add', object: o });
  }
  remove(o: T): void {
    this.items.delete(`${o.metadata?.namespace ?? ''}/${o.metadata?.name}`);
    for (const l of [...this.listeners]) l({ type: 'delete', object: o });
  }
  dispose(): void {
    this.disposed = true;
  }
}

function fakeDoor() {
  const inf = {
    jobs: new FakeInformer<V1Job>(),
    pods: new FakeInformer<V1Pod>(),
    events: new FakeInformer<KubeObject>(),
    nodes: new FakeInformer<KubeObject>(),
  };
  const capture = new FakeInformer<CaptureResource>();
  const deleted: string[] = [];
  const door = {
    namespace: 'ns',
    informer: (k: keyof typeof inf) => inf[k],
    watchObject: () => capture,
    list: async () => inf.jobs.list(),
    delete: async (kind: string, _ns: string, name: string) => {
      deleted.push(`${kind}/${name}`);
      return true;
    },
  } as unknown as KubeDoor;
  return { door, inf, capture, deleted };
}

const cr = (status?: CaptureResourceStatus): CaptureResource =>
  ({
    apiVersion: 'retina.sh/v1alpha1',
    kind: 'Capture',
    metadata: { name: 'cap', namespace: 'ns', resourceVersion: String(Math.random()) },
    spec: {} as CaptureResource['spec'],
    ...(status ? { status } : {}),
  }) as CaptureResource;

const cond = (type: string, status: 'True' | 'False', reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-11-26T09:00:00Z',
});

const job = (node: string, succeeded = 0): V1Job => ({
  metadata: {
    name: `cap-${node}`,
    namespace: 'ns',
    uid: `uid-${node}`,
    labels: { 'retina.sh/app': 'capture', 'capture-name': 'cap' },
  },
  spec: {
    template: {
      spec: {
        containers: [],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
              ],
            },
          },
        },
      },
    },
  },
  status: succeeded ? { succeeded, conditions: [{ type: 'Complete', status: 'True' }] } : {},
});

const tick = () => new Promise((r) => setImmediate(r));

test('an error condition before any Job: nodes fail with the operator’s message, shown as a warning', async () => {
  const { door, capture } = fakeDoor();
  const seen: CaptureEvent[] = [];
  capture.put(cr());
  const run = followCaptureResource(
    door,
    { namespace: 'ns', capture: 'cap', nodes: ['n1'] },
    { onEvent: (e) => seen.push(e) },
  );
  await tick();
  capture.put(cr({ conditions: [cond('error', 'True', 'FindSecretFailed', 'secret s not found in namespace ns')] }));
  const summary = await run.done;
  assert.equal(summary.ok, false);
  assert.equal(summary.nodes[0]?.phase, 'failed');
  assert.equal(summary.nodes[0]?.reason, 'FindSecretFailed');
  assert.equal(summary.nodes[0]?.message, 'secret s not found in namespace ns');
  const warn = seen.find((e) => e.type === 'warning');
  assert.match(warn?.type === 'warning' ? warn.message : '', /FindSecretFailed: secret s not found/);
  const phases = seen.flatMap((e) => (e.type === 'resource' ? [e.phase] : []));
  assert.deepEqual(phases, ['pending', 'failed']);
  assert.equal(seen.at(-1)?.type, 'finished');
  assert.equal(capture.disposed, true, 'the object watch is closed');
});

test('Jobs run to completion; finished only after the Capture says complete', async () => {
  const { door, inf, capture } = fakeDoor();
  const seen: CaptureEvent[] = [];
  capture.put(cr());
  const run = followCaptureResource(
    door,
    { namespace: 'ns', capture: 'cap', nodes: ['n1'] },
    { onEvent: (e) => seen.push(e) },
  );
  await tick();
  inf.jobs.put(job('n1'));
  capture.put(
    cr({ active: 1, conditions: [cond('complete', 'False', 'JobsInProgress', '1/1 Capture jobs are in progress')] }),
  );
  await tick();
  inf.jobs.put(job('n1', 1));
  await tick();
  await tick();
  assert.ok(
    seen.some((e) => e.type === 'node' && e.phase === 'done'),
    'node done from its Job',
  );
  assert.equal(
    seen.some((e) => e.type === 'finished'),
    false,
    'waits for the Capture status',
  );
  capture.put(
    cr({ succeeded: 1, conditions: [cond('complete', 'True', 'JobsCompleted', 'All 1 Capture jobs are completed')] }),
  );
  const summary = await run.done;
  assert.equal(summary.ok, true);
  const phases = seen.flatMap((e) => (e.type === 'resource' ? [e.phase] : []));
  assert.deepEqual(phases, ['pending', 'running', 'done']);
  assert.equal(seen.at(-1)?.type, 'finished');
});

test('cancel deletes the Capture (not the Jobs); its deletion ends nodes that never got a Job', async () => {
  const { door, capture, deleted } = fakeDoor();
  const c = cr();
  capture.put(c);
  const run = followCaptureResource(door, { namespace: 'ns', capture: 'cap', nodes: ['n1'] });
  await tick();
  await run.cancel();
  assert.deepEqual(deleted, ['captures/cap']);
  capture.remove(c);
  const summary = await run.done;
  assert.equal(summary.cancelled, true);
  assert.equal(summary.nodes[0]?.reason, 'CaptureDeleted');
});
