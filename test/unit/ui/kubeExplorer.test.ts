// Kubernetes extension's Cluster Explorer rows (as its clusterExplorer v1 API resolves them) →
// our capture targets and context, plus the package.json menus for that view. Plain Node: the
// Kubernetes extension itself can't be installed here, so these tests are the proof.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CMD } from '../../../src/views/ids.js';
import {
  chooseKubeContext,
  isKubeExplorerArg,
  KUBE_EXPLORER_VIEW,
  KUBE_ITEM,
  kubeExplorerSelection,
  kubeNodesToTargets,
  type KubeExplorerNode,
} from '../../../src/views/kubeExplorer.js';
import type { ContextInfo } from '../../../src/views/ports.js';

const node = (name: string): KubeExplorerNode => ({
  nodeType: 'resource',
  name,
  namespace: null,
  resourceKind: { manifestKind: 'Node', abbreviation: 'node' },
});
const pod = (namespace: string | null, name: string, metadata?: unknown): KubeExplorerNode => ({
  nodeType: 'resource',
  name,
  namespace,
  resourceKind: { manifestKind: 'Pod', abbreviation: 'pod' },
  metadata,
});
const ours: ContextInfo[] = [
  { name: 'kind-a', cluster: 'a', current: true },
  { name: 'aks-b', cluster: 'b', current: false },
];

test('node and pod rows → node and pod targets', () => {
  const r = kubeNodesToTargets([node('aks-nodepool1-0'), pod('default', 'web-1')]);
  assert.ok(r.ok);
  assert.deepEqual(r.targets, [
    { kind: 'node', name: 'aks-nodepool1-0' },
    { kind: 'pod', namespace: 'default', name: 'web-1' },
  ]);
  assert.deepEqual(r.names, ['aks-nodepool1-0', 'default/web-1']);
  assert.deepEqual(r.skipped, []);
});

test('pod namespace from metadata when the row has none; duplicates once', () => {
  const r = kubeNodesToTargets([pod(null, 'p', { namespace: 'kube-system' }), pod('kube-system', 'p')]);
  assert.ok(r.ok);
  assert.deepEqual(r.targets, [{ kind: 'pod', namespace: 'kube-system', name: 'p' }]);
});

test('unsupported rows: clear error when nothing is left, skipped when mixed', () => {
  const deploy: KubeExplorerNode = {
    nodeType: 'resource',
    name: 'web',
    namespace: 'default',
    resourceKind: { manifestKind: 'Deployment', abbreviation: 'deployment' },
  };
  const only = kubeNodesToTargets([deploy]);
  assert.equal(only.ok, false);
  assert.match(!only.ok ? only.error : '', /Node and Pod rows.*not on Deployment web/);
  const ctx = kubeNodesToTargets([{ nodeType: 'context', name: 'kind-a' }]);
  assert.match(!ctx.ok ? ctx.error : '', /not on a cluster/);
  const none = kubeNodesToTargets([undefined]);
  assert.match(!none.ok ? none.error : '', /not from the Cluster Explorer/);
  const empty = kubeNodesToTargets([]);
  assert.match(!empty.ok ? empty.error : '', /empty selection/);
  const mixed = kubeNodesToTargets([deploy, node('n1'), { nodeType: 'folder.resource' }]);
  assert.ok(mixed.ok);
  assert.deepEqual(mixed.targets, [{ kind: 'node', name: 'n1' }]);
  assert.deepEqual(mixed.skipped, ['Deployment web', 'a folder']);
});

test('invalid names and pods without a namespace are not captured', () => {
  const r = kubeNodesToTargets([pod(null, 'p'), node('Bad_Name'), pod('default', 'x;rm'), pod('Bad NS', 'p')]);
  assert.equal(r.ok, false);
  const msg = !r.ok ? r.error : '';
  assert.match(msg, /pod "p" \(no namespace\)/);
  assert.match(msg, /node "Bad_Name" \(not a valid node name\)/);
  assert.match(msg, /pod "x;rm" \(not a valid pod name\)/);
  assert.match(msg, /invalid namespace "Bad NS"/);
});

test('context: theirs when our kubeconfig has it, else our current with a warning', () => {
  assert.deepEqual(chooseKubeContext('aks-b', ours), { context: 'aks-b' });
  const other = chooseKubeContext('gke-c', ours);
  assert.equal('context' in other && other.context, 'kind-a');
  assert.match(
    'warning' in other ? (other.warning ?? '') : '',
    /"gke-c" is not in Retina Capture's kubeconfig.*"kind-a"/,
  );
  const unknown = chooseKubeContext(undefined, ours);
  assert.match('warning' in unknown ? (unknown.warning ?? '') : '', /could not be read; capturing in "kind-a"/);
  const single = chooseKubeContext(undefined, [{ name: 'only', cluster: 'o', current: false }]);
  assert.equal('context' in single && single.context, 'only');
  assert.ok('error' in chooseKubeContext('x', []));
  const noCurrent = chooseKubeContext(undefined, [
    { name: 'p', cluster: 'p', current: false },
    { name: 'q', cluster: 'q', current: false },
  ]);
  assert.ok('error' in noCurrent && /no current context/.test(noCurrent.error));
});

test('multi-select → one Selection with label, ignored count and warnings', () => {
  const r = kubeExplorerSelection(
    [node('n1'), node('n2'), pod('default', 'a'), pod('default', 'b'), { nodeType: 'error' }],
    'kind-a',
    ours,
  );
  assert.ok(r.ok);
  assert.equal(r.selection.context, 'kind-a');
  assert.equal(r.selection.targets.length, 4);
  assert.equal(r.selection.ignored, 1);
  assert.equal(r.selection.label, 'n1, n2 and 2 more');
  assert.deepEqual(r.warnings, ['Skipped (only nodes and pods can be captured): a message row.']);
  const fallback = kubeExplorerSelection([node('n1')], undefined, ours);
  assert.ok(fallback.ok && fallback.warnings.length === 1 && fallback.selection.label === 'n1');
  const bad = kubeExplorerSelection([node('n1')], 'x', []);
  assert.equal(bad.ok, false);
});

test('raw Cluster Explorer rows are told apart from our tree elements', () => {
  assert.equal(isKubeExplorerArg({ nodeCategory: 'kubernetes-explorer-node', nodeType: 'resource' }), true);
  assert.equal(isKubeExplorerArg({ type: 'node', context: 'a', node: { name: 'n' } }), false);
  assert.equal(isKubeExplorerArg(undefined), false);
  assert.equal(isKubeExplorerArg('node/n1'), false);
});

test('package.json: Start/Quick Capture on the Cluster Explorer node and pod rows, no hard dependency', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  const menus = pkg.contributes.menus['view/item/context'] as { command: string; when: string }[];
  const theirs = menus.filter((m) => m.when.includes(`view == ${KUBE_EXPLORER_VIEW}`));
  assert.deepEqual(theirs.map((m) => m.command).sort(), [CMD.quickCapture, CMD.startCapture].sort());
  for (const m of theirs) {
    const re = /viewItem =~ \/(.*)\/$/.exec(m.when);
    assert.ok(re, m.when);
    const rx = new RegExp(re[1]!);
    assert.ok(rx.test(KUBE_ITEM.node) && rx.test(KUBE_ITEM.pod), `${rx} matches the real rows`);
    // Without the watchable suffix too (older releases, kinds it does not watch).
    assert.ok(rx.test('vsKubernetes.resource.node') && rx.test('vsKubernetes.resource.pod'));
    for (const other of [
      'vsKubernetes.resource.deployment',
      'vsKubernetes.resource.deploymentk8s-watchable',
      'vsKubernetes.resource.podtemplate',
      'vsKubernetes.resource.podtemplatek8s-watchable',
      'vsKubernetes.resource.namespacek8s-watchable',
      'vsKubernetes.nodes',
    ])
      assert.ok(!rx.test(other), `${rx} does not match ${other}`);
  }
  assert.equal(pkg.extensionDependencies, undefined);
  assert.equal(pkg.dependencies?.['vscode-kubernetes-tools-api'], undefined);
});
