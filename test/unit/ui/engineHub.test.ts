// Tree feeds over the door's shared informers (src/views/engineHub.ts) with fake informers,
// and the blob SAS plan (src/views/blobPlan.ts). Plain Node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DoorInformers } from '../../../src/kube/door.js';
import { KubeError } from '../../../src/kube/errors.js';
import { downloadSasUrl, uploadSasUrl } from '../../../src/views/blobPlan.js';
import { Coalescer, feedsFromInformers } from '../../../src/views/engineHub.js';

function fake(items: object[], synced = true) {
  const listeners = new Set<() => void>();
  return {
    items,
    isSynced: synced,
    lastError: undefined as KubeError | undefined,
    synced: synced ? Promise.resolve() : new Promise<void>(() => {}),
    relists: 0,
    list() {
      return this.items;
    },
    on(l: () => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    onSync: () => () => {},
    refresh() {
      this.relists++;
    },
    starts: 0,
    start() {
      this.starts++;
      return this;
    },
    emit: () => listeners.forEach((l) => l()),
    listeners,
  };
}

test('feeds map informer objects to tree snapshots and coalesce change bursts', async () => {
  const nodes = fake([
    {
      metadata: { name: 'rc-node-1', labels: { 'kubernetes.io/os': 'linux' } },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '198.18.0.11' }],
      },
    },
  ]);
  const namespaces = fake([{ metadata: { name: 'default' }, status: { phase: 'Active' } }]);
  const pods = fake([
    {
      metadata: {
        name: 'web-7d9f8c6b5-abcde',
        namespace: 'default',
        ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7d9f8c6b5', controller: true }],
      },
      spec: { nodeName: 'rc-node-1' },
      status: { phase: 'Running', podIP: '198.19.1.5' },
    },
  ]);
  const jobs = fake([], false);
  const f = feedsFromInformers('ctx', { nodes, namespaces, pods, jobs } as unknown as DoorInformers);
  const snap = f.cluster.current();
  assert.equal(snap.synced, true);
  assert.deepEqual(snap.nodes[0], {
    name: 'rc-node-1',
    ready: true,
    os: 'linux',
    arch: undefined,
    internalIP: '198.18.0.11',
    unschedulable: undefined,
    labels: { 'kubernetes.io/os': 'linux' },
  });
  assert.deepEqual(snap.pods[0]?.owner, { kind: 'Deployment', name: 'web' });
  let calls = 0;
  await Promise.resolve(); // the fakes' already-settled first lists notify at once (not counted here)
  f.cluster.onChange(() => calls++);
  for (let i = 0; i < 50; i++) pods.emit();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(calls, 1, 'one tree refresh for a burst');
  assert.equal(pods.starts, 0, 'pods are not listed until asked for');
  f.wantPods();
  f.wantPods();
  assert.equal(pods.starts, 2, 'wantPods starts the pods informer (start() itself is idempotent)');
  f.relist();
  assert.equal(nodes.relists + pods.relists + jobs.relists, 3);
  f.dispose();
  assert.equal(pods.listeners.size, 0, 'dispose unsubscribes from the shared informers');
});

test('snapshot arrays are reused until their informer changes, then rebuilt', () => {
  const node = (name: string) => ({ metadata: { name }, status: { conditions: [] } });
  const nodes = fake([node('a')]);
  const pods = fake([{ metadata: { name: 'p', namespace: 'd' }, spec: {}, status: { phase: 'Pending' } }]);
  const f = feedsFromInformers('ctx', {
    nodes,
    namespaces: fake([]),
    pods,
    jobs: fake([]),
  } as unknown as DoorInformers);
  const s1 = f.cluster.current();
  const s2 = f.cluster.current();
  assert.equal(s1.nodes, s2.nodes, 'no re-mapping without a change');
  assert.equal(s1.pods, s2.pods);
  assert.deepEqual(s1.syncedKinds, { nodes: true, namespaces: true, pods: true });
  pods.items = [{ metadata: { name: 'p', namespace: 'd' }, spec: {}, status: { phase: 'Running' } }];
  pods.emit();
  const s3 = f.cluster.current();
  assert.equal(s3.pods[0]?.phase, 'Running');
  assert.equal(s3.nodes, s1.nodes, 'a pod event leaves the node array alone');
  nodes.items = [node('a'), node('b')];
  nodes.emit();
  assert.deepEqual(
    f.cluster.current().nodes.map((n) => n.name),
    ['a', 'b'],
  );
  f.dispose();
});

test('coalescer: a finished list notifies at once and absorbs the pending burst call', async () => {
  const c = new Coalescer(50);
  let calls = 0;
  c.on(() => calls++);
  c.fire();
  c.fire();
  assert.equal(calls, 0, 'bursts wait');
  c.fire(true);
  assert.equal(calls, 1, 'a sync is told synchronously');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(calls, 1, 'the pending burst call was dropped');
  c.dispose();
});

test('a list that failed for good shows as the snapshot error', () => {
  const nodes = fake([], false);
  nodes.lastError = new KubeError('forbidden', 'nodes is forbidden');
  const f = feedsFromInformers('ctx', {
    nodes,
    namespaces: fake([]),
    pods: fake([]),
    jobs: fake([]),
  } as unknown as DoorInformers);
  assert.match(f.cluster.current().error ?? '', /Cannot list nodes: .*forbidden/);
  f.dispose();
});

test('blob plan: SAS URL as given; account + key → cw upload SAS, rl download SAS, key never in URLs', async () => {
  const sas = 'https://acc.blob.core.windows.net/c?sv=2024&sp=rcwl&sig=abc';
  assert.equal(await uploadSasUrl({ kind: 'sas', containerSasUrl: sas }, 10), sas);
  assert.equal(await downloadSasUrl({ kind: 'sas', containerSasUrl: sas }), sas);
  const key = Buffer.from('k'.repeat(64)).toString('base64');
  const creds = { kind: 'accountKey' as const, account: 'acc', key, container: 'caps' };
  const up = new URL(await uploadSasUrl(creds, 10));
  assert.equal(up.origin + up.pathname, 'https://acc.blob.core.windows.net/caps');
  assert.equal(up.searchParams.get('sp'), 'cw');
  const down = new URL(await downloadSasUrl(creds));
  assert.equal(down.searchParams.get('sp'), 'rl');
  for (const u of [up, down]) assert.ok(!u.href.includes(key) && !u.href.includes(encodeURIComponent(key)));
  const azurite = { ...creds, endpoint: 'http://198.18.0.1:10000/devstoreaccount1' };
  assert.match(await uploadSasUrl(azurite, 10), /^http:\/\/198\.18\.0\.1:10000\/devstoreaccount1\/caps\?/);
});
