// A node that dies mid-capture is reported failed (NodeNotReady) while the other finishes.
// Uses its own extra node rc-node-8 (the shared nodes stay up) and the stand-in worker, so it
// tests the session's failure derivation, not the capture worker.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Job } from '@kubernetes/client-node';
import type { Engine } from '../../../src/engine.js';
import { createTestNamespace, deleteTestNamespace, removeExtraNode, startExtraNode } from '../../cluster/cluster.js';
import { adminEngine, waitEvent, waitInformer, within } from './helpers.js';

const EXTRA = 8;

function stubWorker(seconds: number): (jobs: V1Job[]) => void {
  return (jobs) => {
    for (const j of jobs) {
      const c = j.spec?.template?.spec?.containers?.[0];
      if (!c) continue;
      c.image = 'busybox';
      c.command = [
        'sh',
        '-c',
        `sleep ${seconds} & wait $!; printf '{"v":1,"status":"ok","exitCode":0,"capture":"x","node":"%s","workerVersion":"stub"}' "$NODE_HOST_NAME" > /dev/termination-log`,
      ];
      c.args = [];
    }
  };
}

describe('node failure during a capture', () => {
  let engine: Engine;
  let ns: string;
  let agent: { name: string; pid: number } | undefined;
  before(async () => {
    engine = await adminEngine();
    ns = await createTestNamespace('eng-nodedie');
  });
  after(async () => {
    engine?.dispose();
    if (agent) await removeExtraNode(EXTRA, agent.pid);
    if (ns) await deleteTestNamespace(ns);
  });

  it('reports the dead node failed and the other node done', async () => {
    agent = startExtraNode(EXTRA);
    const nodes = engine.door.informer('nodes');
    await waitInformer(
      nodes,
      `${agent.name} Ready`,
      (n) =>
        n.metadata?.name === agent?.name &&
        !!n.spec?.podCIDR &&
        n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
      60_000,
    );

    const run = await engine.startCapture(
      {
        namespace: ns,
        targets: [
          { kind: 'node', name: 'rc-node-1' },
          { kind: 'node', name: agent.name },
        ],
        outputs: { hostPath: { subPath: 'retina' } },
        options: { durationSeconds: 45 },
      },
      { mutateJobs: stubWorker(45) },
    );
    await waitEvent(
      run.events,
      `${agent.name} capturing`,
      (e) => e.type === 'node' && e.node === agent?.name && e.phase === 'capturing',
      60_000,
    );
    process.kill(-agent.pid, 'SIGKILL'); // the node's kubelet crashes

    const summary = await within(run.done, 120_000, 'capture to finish');
    const dead = summary.nodes.find((n) => n.node === agent?.name);
    const alive = summary.nodes.find((n) => n.node === 'rc-node-1');
    assert.equal(dead?.phase, 'failed', JSON.stringify(dead));
    assert.equal(dead?.reason, 'NodeNotReady');
    assert.equal(alive?.phase, 'done', JSON.stringify(alive));
    assert.ok(alive?.result, 'the live node reported its result');
  });
});
