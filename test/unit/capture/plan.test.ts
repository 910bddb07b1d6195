import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_CAPTURE_NODES, planCapture, planErrors, type CapturePlan } from '../../../src/capture/plan.js';
import type { CaptureTarget } from '../../../src/capture/request.js';
import { NOW, baseRequest, snapshot } from './fixtures.js';
import { assertGolden } from './golden.js';

function plan(targets: CaptureTarget[], extra: Parameters<typeof baseRequest>[0] = {}): CapturePlan {
  return planCapture(baseRequest({ targets, ...extra }), snapshot(), { now: NOW });
}

const messages = (p: CapturePlan, severity?: 'error' | 'warning'): string[] =>
  p.problems.filter((x) => !severity || x.severity === severity).map((x) => x.message);

test('node targets: by name and by selector, deduped, NotReady warned, one timestamp', () => {
  const p = plan([
    { kind: 'node', name: 'node-a' },
    { kind: 'nodeSelector', labels: 'pool in (green,blue),pool!=blue' },
    { kind: 'nodeSelector', labels: { pool: 'blue' } },
  ]);
  assertGolden('plan-nodes', p);
  assert.deepEqual(
    p.nodes.map((n) => n.node),
    ['node-a', 'node-b', 'node-c'],
  );
  assert.equal(p.timestamp, '20261126050709UTC');
  assert.deepEqual(planErrors(p), []);
  assert.deepEqual(messages(p, 'warning'), [
    'node node-c is NotReady; its capture Job may not start or may stop early',
  ]);
  assert.equal(p.nodes[1]?.hostname, 'node-b.internal', 'affinity uses the hostname label');
});

test('pod selectors across namespaces: finished pods skipped, dual-stack IPs kept', () => {
  const p = plan([{ kind: 'podSelector', podLabels: 'app in (web,api)', namespaceLabels: { team: 'web' } }]);
  assertGolden('plan-pod-selectors', p);
  assert.deepEqual(planErrors(p), []);
  const pods = p.nodes.flatMap((n) => n.pods.map((x) => `${x.namespace}/${x.name}`));
  assert.deepEqual(pods, ['pay/api-7d9-x', 'shop/web-0', 'shop/web-1', 'pay/api-7d9-y']);
  assert.ok(!pods.includes('shop/web-old'));
  assert.deepEqual(p.nodes.find((n) => n.node === 'node-b')?.pods[0]?.ips, ['10.244.2.11', 'fd00:10:244:2::11']);
});

test('pod selector without namespace searches the capture namespace, not default', () => {
  const p = plan([{ kind: 'podSelector', podLabels: { app: 'web' } }], { namespace: 'shop' });
  assert.deepEqual(planErrors(p), []);
  assert.deepEqual(
    p.nodes.flatMap((n) => n.pods.map((x) => `${x.namespace}/${x.name}`)),
    ['shop/web-0', 'shop/web-1'],
  );
});

test('workloads resolve through their spec.selector in their namespace', () => {
  const p = plan([
    { kind: 'workload', namespace: 'shop', workloadKind: 'StatefulSet', name: 'web' },
    { kind: 'workload', namespace: 'pay', workloadKind: 'Deployment', name: 'api' },
  ]);
  assertGolden('plan-workloads', p);
  assert.deepEqual(planErrors(p), []);
});

test('workload problems: not found, no selector, no pods', () => {
  const p = plan([
    { kind: 'workload', namespace: 'shop', workloadKind: 'Deployment', name: 'ghost' },
    { kind: 'workload', namespace: 'shop', workloadKind: 'DaemonSet', name: 'broken' },
    { kind: 'workload', namespace: 'shop', workloadKind: 'Deployment', name: 'idle' },
  ]);
  assert.deepEqual(messages(p, 'error'), [
    'Deployment shop/ghost not found',
    'DaemonSet shop/broken has no pod selector',
    'Deployment shop/idle has no pods',
  ]);
});

test('a selected pod without an IP is an error naming the pod, never a whole-node capture', () => {
  const p = plan([{ kind: 'pod', namespace: 'default', name: 'web-0' }]);
  assertGolden('plan-pod-no-ip', p);
  assert.deepEqual(messages(p, 'error'), [
    'pod default/web-0 has no IP yet (phase Pending); wait for it to run or drop it from the targets',
  ]);
  assert.deepEqual(p.nodes, [], 'no Job for node-b');
  // Same through a selector.
  const s = plan([{ kind: 'podSelector', podLabels: 'app=web' }]);
  assert.deepEqual(messages(s, 'error'), [
    'pod default/web-0 has no IP yet (phase Pending); wait for it to run or drop it from the targets',
  ]);
});

test('unscheduled, finished and missing pods are explicit errors', () => {
  const p = plan([
    { kind: 'pod', namespace: 'default', name: 'unscheduled' },
    { kind: 'pod', namespace: 'shop', name: 'web-old' },
    { kind: 'pod', namespace: 'shop', name: 'nope' },
  ]);
  assert.deepEqual(messages(p, 'error'), [
    'pod default/unscheduled is not scheduled to a node yet (phase Pending); wait for it to run or drop it from the targets',
    'pod shop/web-old has finished (phase Succeeded); there is no traffic to capture',
    'pod shop/nope not found',
  ]);
});

test('Windows nodes are refused with a clear problem', () => {
  const p = plan([
    { kind: 'node', name: 'win-1' },
    { kind: 'pod', namespace: 'default', name: 'iis' },
  ]);
  assertGolden('plan-windows', p);
  assert.deepEqual(messages(p, 'error'), ['node win-1 runs Windows; Windows nodes are not supported yet']);
});

test('targets matching nothing are errors', () => {
  const p = plan([
    { kind: 'node', name: 'node-z' },
    { kind: 'nodeSelector', labels: 'pool=red' },
    { kind: 'podSelector', podLabels: 'app=nothing', namespace: 'shop' },
    { kind: 'podSelector', podLabels: 'app=web', namespaceLabels: 'team=none' },
    { kind: 'podSelector', podLabels: 'app=web,', namespace: 'shop' },
  ]);
  assert.deepEqual(messages(p, 'error'), [
    'node node-z not found',
    'node selector "pool=red" matches no node',
    'pod selector "app=nothing" in namespace shop matches no pod',
    'namespace selector "team=none" matches no namespace',
    'pod selector "app=web," in namespace shop is not a valid label selector: empty requirement (two commas in a row or a trailing comma)',
  ]);
});

test('a whole-node target subsumes pod targets on that node (warning, no pod filter)', () => {
  const p = plan([
    { kind: 'node', name: 'node-a' },
    { kind: 'pod', namespace: 'shop', name: 'web-0' },
  ]);
  assert.deepEqual(planErrors(p), []);
  assert.equal(p.nodes[0]?.wholeNode, true);
  assert.deepEqual(p.nodes[0]?.pods, []);
  assert.match(messages(p, 'warning')[0] ?? '', /node node-a is captured whole \(node node-a\)/);
});

test('host-network pods are warned about', () => {
  const p = plan([{ kind: 'pod', namespace: 'kube-system', name: 'agent-abc' }]);
  assert.deepEqual(planErrors(p), []);
  assert.match(messages(p, 'warning')[0] ?? '', /uses the host network/);
});

test('more nodes than options.maxConcurrentJobs is fine: it limits create requests in flight, not nodes', () => {
  const r = baseRequest({ targets: [{ kind: 'nodeSelector', labels: 'pool=blue' }] });
  r.options.maxConcurrentJobs = 1;
  const p = planCapture(r, snapshot(), { now: NOW });
  assert.deepEqual(messages(p, 'error'), []);
  assert.equal(p.nodes.length, 2);
});

test('500 nodes are plannable; more than MAX_CAPTURE_NODES is an error', () => {
  const many = (n: number): CapturePlan => {
    const snap = snapshot();
    const proto = snap.nodes.find((x) => x.metadata?.labels?.pool === 'blue') ?? snap.nodes[0];
    assert.ok(proto);
    snap.nodes = Array.from({ length: n }, (_, i) => ({
      ...proto,
      metadata: { ...proto.metadata, name: `hollow-${i}`, labels: { ...proto.metadata?.labels, pool: 'many' } },
    }));
    return planCapture(baseRequest({ targets: [{ kind: 'nodeSelector', labels: 'pool=many' }] }), snap, { now: NOW });
  };
  const ok = many(500);
  assert.deepEqual(messages(ok, 'error'), []);
  assert.equal(ok.nodes.length, 500);
  assert.deepEqual(messages(many(MAX_CAPTURE_NODES + 1), 'error'), [
    `this capture selects ${MAX_CAPTURE_NODES + 1} nodes; one capture runs at most ${MAX_CAPTURE_NODES} Jobs (one per node), narrow the targets (e.g. a node selector) or split the capture`,
  ]);
});

test('a missing name is generated, RFC 1123 and deterministic with a given random source', () => {
  let i = 0;
  const seq = [0.1, 0.5, 0.9, 0.0, 0.33, 0.77];
  const p = planCapture(baseRequest({ name: undefined }), snapshot(), {
    now: NOW,
    random: () => seq[i++ % seq.length] as number,
  });
  assert.equal(p.name, 'capture-ds6al1');
  assert.match(p.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
});
