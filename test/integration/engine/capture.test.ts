// Whole captures on the test cluster with the real worker bundle (dist/worker.cjs):
// two pods talking across two nodes → worker results from both nodes; cancel mid-capture →
// the workers still report; a restarted engine rediscovers and follows a running capture.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../../src/engine.js';
import type { CaptureEvent } from '../../../src/session/index.js';
import { createTestNamespace, deleteTestNamespace } from '../../cluster/cluster.js';
import { adminEngine, startTrafficPair, waitEvent, waitWorkersCapturing, within } from './helpers.js';

describe('capture sessions', () => {
  let engine: Engine;
  let ns: string;
  before(async () => {
    engine = await adminEngine();
    ns = await createTestNamespace('eng-cap');
    await startTrafficPair(engine, ns, 'rc-node-1', 'rc-node-2');
  });
  after(async () => {
    engine?.dispose();
    if (ns) await deleteTestNamespace(ns);
  });

  const request = (durationSeconds: number) => ({
    namespace: ns,
    targets: [
      { kind: 'pod' as const, namespace: ns, name: 'server' },
      { kind: 'pod' as const, namespace: ns, name: 'client' },
    ],
    outputs: { hostPath: { subPath: 'retina' } },
    options: { durationSeconds },
  });

  it('captures two pods talking across two nodes and ends with both workers’ results', async () => {
    const seen: CaptureEvent[] = [];
    const t0 = Date.now();
    const run = await engine.startCapture(request(4), { onEvent: (e) => seen.push(e) });
    const summary = await within(run.done, 90_000, 'capture to finish');
    const overhead = (Date.now() - t0) / 1000 - 4;
    console.error(
      `capture ${run.name}: ${summary.nodes.map((n) => `${n.node}=${n.phase}`).join(', ')}; overhead ${overhead.toFixed(1)} s`,
    );
    assert.ok(summary.ok, JSON.stringify(summary.nodes));
    assert.deepEqual(summary.nodes.map((n) => n.node).sort(), ['rc-node-1', 'rc-node-2']);
    for (const n of summary.nodes) {
      assert.equal(n.result?.status, 'ok', JSON.stringify(n.result));
      assert.equal(n.result?.node, n.node);
    }
    const phases = seen.filter((e) => e.type === 'node').map((e) => (e.type === 'node' ? e.phase : ''));
    assert.ok(phases.includes('capturing'), phases.join(','));
    assert.equal(seen.at(-1)?.type, 'finished');
  });

  it('cancel mid-capture: the real workers stop, archive and report (stopReason signal)', async () => {
    const run = await engine.startCapture(request(120));
    await waitEvent(
      run.events,
      'both nodes capturing',
      (_e, all) =>
        new Set(
          all.filter((x) => x.type === 'node' && x.phase === 'capturing').map((x) => (x.type === 'node' ? x.node : '')),
        ).size === 2,
      60_000,
    );
    const pods = run.states().flatMap((n) => (n.pod ? [n.pod] : []));
    await waitWorkersCapturing(engine, ns, pods, 60_000);
    await run.cancel();
    const summary = await within(run.done, 60_000, 'cancelled capture to finish');
    assert.equal(summary.cancelled, true);
    for (const n of summary.nodes) {
      assert.equal(n.phase, 'done', JSON.stringify(n));
      assert.equal(n.result?.exitCode, 0, JSON.stringify(n.result));
      assert.equal(n.result?.stopReason, 'signal', JSON.stringify(n.result));
      assert.ok(n.result?.archive, JSON.stringify(n.result));
    }
  });

  it('a restarted engine rediscovers the capture and follows it to the end', async () => {
    const first = await engine.startCapture(request(6));
    const name = first.name;
    await waitEvent(first.events, 'capturing', (e) => e.type === 'node' && e.phase === 'capturing', 60_000);
    first.dispose();
    engine.dispose();

    engine = await adminEngine(); // a new door: new caches, nothing shared with the old one
    const listed = (await engine.listCaptures(ns)).find((c) => c.name === name);
    assert.ok(listed, 'capture found by label');
    assert.equal(listed.origin, 'ours');
    assert.equal(listed.durationSeconds, 6);
    assert.equal(listed.hostPath, '/var/log/retina/captures/retina');
    assert.deepEqual(listed.nodes.map((n) => n.node).sort(), ['rc-node-1', 'rc-node-2']);

    const run = await engine.attach(name, { namespace: ns });
    const summary = await within(run.done, 60_000, 'attached capture to finish');
    assert.ok(summary.ok, JSON.stringify(summary.nodes));
    const after = (await engine.listCaptures(ns)).find((c) => c.name === name);
    assert.equal(after?.finished, true);

    const removed = await engine.deleteCapture(name, { namespace: ns });
    assert.equal(removed.jobs.length, 2);
  });
});
