// View models of the Clusters and Captures trees, status bar text, selection → targets, and
// package.json contributes ↔ src/views/ids.ts consistency. Plain Node, no VS Code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { captureRow } from '../../../src/views/captureModel.js';
import { childrenOf, PAGE_SIZE, rowOf, type ClusterElement } from '../../../src/views/clusterModel.js';
import { CMD, ITEM, SETTINGS, VIEW } from '../../../src/views/ids.js';
import { jobsToCaptures } from '../../../src/views/jobsToCaptures.js';
import type { CaptureInfo, ClusterSnapshot } from '../../../src/views/ports.js';
import * as targetsModule from '../../../src/views/targets.js';
import { captureNamespace, selectionToTargets } from '../../../src/views/targets.js';

const snap: ClusterSnapshot = {
  synced: true,
  nodes: [
    { name: 'rc-node-2', ready: true, os: 'linux' },
    { name: 'rc-node-10', ready: false, os: 'linux' },
    { name: 'rc-node-1', ready: true, os: 'linux', internalIP: '198.18.0.11' },
  ],
  namespaces: [{ name: 'default' }, { name: 'kube-system' }],
  pods: [
    {
      namespace: 'default',
      name: 'web-abc-1',
      phase: 'Running',
      nodeName: 'rc-node-1',
      podIP: '198.19.1.5',
      owner: { kind: 'Deployment', name: 'web' },
    },
    {
      namespace: 'default',
      name: 'web-abc-2',
      phase: 'Pending',
      nodeName: 'rc-node-2',
      owner: { kind: 'Deployment', name: 'web' },
    },
    { namespace: 'default', name: 'loner', phase: 'Running', nodeName: 'rc-node-1' },
  ],
};
const ctx = { name: 'admin@test', cluster: 'test', current: true };

test('context → Nodes and Namespaces; nodes sorted naturally with pod counts', () => {
  const [nodes, nss] = childrenOf({ type: 'context', context: ctx }, snap);
  assert.equal(nodes?.type, 'nodes');
  assert.equal(nss?.type, 'namespaces');
  const rows = childrenOf(nodes!, snap).map((e) => rowOf(e));
  assert.deepEqual(
    rows.map((r) => r.label),
    ['rc-node-1', 'rc-node-2', 'rc-node-10'],
  );
  assert.equal(rows[0]!.description, 'Ready · linux · 2 pods');
  assert.equal(rows[0]!.contextValue, ITEM.node);
  assert.match(rows[2]!.description!, /^NotReady/);
  assert.match(rows[0]!.tooltip!, /IP 198\.18\.0\.11/);
});

test('namespace groups pods by workload, loose pods after', () => {
  const ns: ClusterElement = { type: 'namespace', context: ctx.name, namespace: 'default', podCount: 3 };
  const kids = childrenOf(ns, snap);
  assert.deepEqual(
    kids.map((k) => rowOf(k).label),
    ['web', 'loner'],
  );
  assert.equal(rowOf(kids[0]!).contextValue, ITEM.workload);
  const pods = childrenOf(kids[0]!, snap).map((k) => rowOf(k));
  assert.equal(pods[0]!.description, 'Running · rc-node-1 · 198.19.1.5');
});

test('large lists are paged by PAGE_SIZE', () => {
  const many: ClusterSnapshot = {
    ...snap,
    nodes: Array.from({ length: 450 }, (_, i) => ({ name: `n-${i}`, ready: true })),
  };
  const pages = childrenOf({ type: 'nodes', context: ctx.name }, many);
  assert.equal(pages.length, 3);
  assert.equal(rowOf(pages[0]!).label, `1–${PAGE_SIZE}`);
  assert.equal(childrenOf(pages[2]!, many).length, 50);
});

test('unsynced shows Loading…, errors show on the context, or in its groups when it was answered early', () => {
  assert.equal(rowOf(childrenOf({ type: 'nodes', context: 'c' }, { ...snap, synced: false })[0]!).label, 'Loading…');
  const failed = { ...snap, synced: false, error: 'Cannot list nodes: 403' };
  const err = childrenOf({ type: 'context', context: ctx }, failed);
  assert.equal(rowOf(err[0]!).label, 'Cannot list nodes: 403');
  // The tree answers a context before its cluster opened (no snapshot): the two groups.
  assert.deepEqual(
    childrenOf({ type: 'context', context: ctx }, undefined).map((e) => e.type),
    ['nodes', 'namespaces'],
  );
  for (const type of ['nodes', 'namespaces'] as const) {
    const rows = childrenOf({ type, context: 'c' }, failed);
    assert.equal(rows.length, 1);
    assert.equal(rowOf(rows[0]!).label, 'Cannot list nodes: 403', `${type} shows the error, not Loading…`);
  }
});

test('nodes show once listed, before the pods: counts say loading, namespaces wait for pods', () => {
  const partial: ClusterSnapshot = {
    ...snap,
    pods: [],
    synced: false,
    syncedKinds: { nodes: true, namespaces: true, pods: false },
  };
  const rows = childrenOf({ type: 'nodes', context: ctx.name }, partial).map((e) => rowOf(e));
  assert.deepEqual(
    rows.map((r) => r.label),
    ['rc-node-1', 'rc-node-2', 'rc-node-10'],
  );
  assert.equal(rows[0]!.description, 'Ready · linux · pods loading…');
  const nss = childrenOf({ type: 'namespaces', context: ctx.name }, partial).map((e) => rowOf(e));
  assert.equal(nss[0]!.description, 'pods loading…');
  const ns: ClusterElement = { type: 'namespace', context: ctx.name, namespace: 'default' };
  assert.equal(rowOf(childrenOf(ns, partial)[0]!).label, 'Loading…', 'not "No pods" while pods are listing');
  const noNodes = { ...partial, syncedKinds: { nodes: false, namespaces: true, pods: true } };
  assert.equal(rowOf(childrenOf({ type: 'nodes', context: ctx.name }, noNodes)[0]!).label, 'Loading…');
});

test('node rows follow a new snapshot (memo is per array, not stale)', () => {
  const nodesEl: ClusterElement = { type: 'nodes', context: ctx.name };
  const first = childrenOf(nodesEl, snap).map((e) => rowOf(e).description);
  assert.equal(first[0], 'Ready · linux · 2 pods');
  const more: ClusterSnapshot = {
    ...snap,
    nodes: [...snap.nodes, { name: 'rc-node-0', ready: true, os: 'linux' }],
    pods: [...snap.pods, { namespace: 'default', name: 'x', phase: 'Running', nodeName: 'rc-node-1' }],
  };
  const next = childrenOf(nodesEl, more).map((e) => rowOf(e));
  assert.equal(next[0]!.label, 'rc-node-0');
  assert.equal(next[1]!.description, 'Ready · linux · 3 pods');
  assert.deepEqual(
    childrenOf(nodesEl, snap).map((e) => rowOf(e).description),
    first,
    'the earlier snapshot still gives its own rows',
  );
});

const running: CaptureInfo = {
  name: 'capture-abc',
  namespace: 'default',
  context: 'c',
  origin: 'ours',
  startedAt: 1_000_000,
  durationSeconds: 60,
  nodes: [
    { node: 'rc-node-1', phase: 'running' },
    { node: 'rc-node-2', phase: 'running' },
    { node: 'rc-node-3', phase: 'pending' },
  ],
};

test('capture rows: running vs done, Retina origin, context values', () => {
  assert.equal(captureRow(running, 1_000_000).contextValue, ITEM.captureRunning);
  const done = {
    ...running,
    origin: 'retina' as const,
    nodes: [{ node: 'a', phase: 'succeeded' as const, bytes: 2048, drops: 3 }],
  };
  const r = captureRow(done, 0);
  assert.equal(r.contextValue, ITEM.captureDone);
  assert.equal(r.description, '1 node · 2.0 KiB · 3 dropped · Retina');
  assert.equal(captureRow({ ...done, mergedFile: '/x.pcapng' }, 0).contextValue, ITEM.captureDownloaded);
});

test('capture Jobs → captures grouped by capture-name with per-node state', () => {
  const job = (node: string, status: object) => ({
    metadata: {
      name: `capture-x-${node}`,
      namespace: 'ns1',
      labels: { 'retina.sh/app': 'capture', 'capture-name': 'capture-x' },
    },
    spec: {
      template: {
        spec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', values: [node] }] }],
              },
            },
          },
          containers: [
            {
              env: [
                { name: 'CAPTURE_DURATION', value: '1m30s' },
                { name: 'PCAP_FILTER', value: 'tcp' },
              ],
            },
          ],
        },
      },
    },
    status,
  });
  const [c] = jobsToCaptures('ctx', [
    job('n2', { active: 1 }),
    job('n1', { succeeded: 1, startTime: '2026-01-01T00:00:00Z' }),
  ]);
  assert.equal(c?.name, 'capture-x');
  assert.equal(c?.origin, 'retina');
  assert.equal(c?.durationSeconds, 90);
  assert.equal(c?.filter, 'tcp');
  assert.deepEqual(
    c?.nodes.map((n) => `${n.node}:${n.phase}`),
    ['n1:succeeded', 'n2:running'],
  );
});

test('selection → targets: nodes, pods, namespace; other contexts ignored', () => {
  const n1: ClusterElement = { type: 'node', context: 'a', node: { name: 'rc-node-1', ready: true }, podCount: 0 };
  const n2: ClusterElement = { type: 'node', context: 'a', node: { name: 'rc-node-2', ready: true }, podCount: 0 };
  const other: ClusterElement = { type: 'node', context: 'b', node: { name: 'x', ready: true }, podCount: 0 };
  const s = selectionToTargets(n1, [n1, n2, other]);
  assert.equal(s.context, 'a');
  assert.deepEqual(s.targets, [
    { kind: 'node', name: 'rc-node-1' },
    { kind: 'node', name: 'rc-node-2' },
  ]);
  assert.equal(s.ignored, 1);
  assert.equal(s.label, 'rc-node-1, rc-node-2');
  const pod: ClusterElement = { type: 'pod', context: 'a', pod: { namespace: 'web', name: 'p', phase: 'Running' } };
  assert.equal(captureNamespace(selectionToTargets(pod, undefined).targets), 'web');
});

test('package.json contributes matches src/views/ids.ts', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  const declared = new Set<string>(pkg.contributes.commands.map((c: { command: string }) => c.command));
  for (const id of Object.values(CMD)) assert.ok(declared.has(id), `${id} declared in package.json`);
  for (const id of declared) assert.ok((Object.values(CMD) as string[]).includes(id), `${id} has an id constant`);
  const views = pkg.contributes.views[VIEW.container].map((v: { id: string }) => v.id);
  assert.deepEqual(views, [VIEW.clusters, VIEW.captures]);
  for (const key of [
    'workerImage',
    'defaultDurationSeconds',
    'defaultMaxSizeMB',
    'hostPathSubPath',
    'downloadFolder',
    'wiresharkPath',
    'maxConcurrentJobs',
  ] as const) {
    const prop = pkg.contributes.configuration.properties[`${SETTINGS.section}.${SETTINGS[key]}`];
    assert.ok(prop?.description || prop?.markdownDescription, `${key} has a description`);
  }
  assert.notEqual(pkg.contributes.configuration.properties['retinaCapture.workerImage'].scope, 'resource');
  assert.equal(pkg.contributes.configuration.properties['retinaCapture.wiresharkPath'].scope, 'machine');
  assert.deepEqual(pkg.activationEvents, []);
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
});

test('palette pod pick → selection with pod targets and a label', () => {
  const { podsToSelection } = targetsModule;
  assert.deepEqual(podsToSelection('ctx', 'demo', ['a', 'b']), {
    context: 'ctx',
    targets: [
      { kind: 'pod', namespace: 'demo', name: 'a' },
      { kind: 'pod', namespace: 'demo', name: 'b' },
    ],
    ignored: 0,
    label: '2 pods in demo',
  });
  assert.equal(podsToSelection('ctx', 'demo', ['a']).label, 'demo/a');
  assert.equal(captureNamespace(podsToSelection('ctx', 'demo', ['a']).targets), 'demo');
});
