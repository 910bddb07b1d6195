// Killing a node agent (a crashed kubelet) makes its Node NotReady within the node-monitor grace
// period (20 s in this cluster). Uses its own extra node rc-node-9 so the shared nodes stay up.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { removeExtraNode, startExtraNode } from '../../cluster/cluster.js';
import { adminConfig, isReady, waitFor } from './helpers.js';

const GRACE_S = 20; // --node-monitor-grace-period of the test cluster
const MONITOR_PERIOD_S = 2; // --node-monitor-period

describe('node lifecycle', () => {
  let agent: { name: string; pid: number } | undefined;
  after(async () => {
    if (agent) await removeExtraNode(9, agent.pid);
  });

  it('a killed agent turns its node NotReady within the grace period', async () => {
    const core = adminConfig().makeApiClient(k8s.CoreV1Api);
    agent = startExtraNode(9);
    const started = agent;
    await waitFor(
      'rc-node-9 Ready',
      async () => {
        process.kill(started.pid, 0); // throws (retried until timeout) if the agent died
        return isReady(await core.readNode({ name: 'rc-node-9' }));
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const killedAt = Date.now();
    process.kill(-started.pid, 'SIGKILL');
    const node = await waitFor(
      'rc-node-9 to turn NotReady',
      async () => {
        const n = await core.readNode({ name: 'rc-node-9' });
        return isReady(n) ? undefined : n;
      },
      { timeoutMs: (GRACE_S + 20) * 1000, intervalMs: 250 },
    );
    const secs = (Date.now() - killedAt) / 1000;
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'Unknown'); // NodeStatusUnknown: the kubelet stopped posting
    // Lease renewals stop at the kill; lifecycle controller notices after grace + one period.
    assert.ok(secs <= GRACE_S + MONITOR_PERIOD_S + 10, `NotReady after ${secs.toFixed(1)} s`);
    console.error(`node NotReady ${secs.toFixed(1)} s after the agent was killed`);
  });
});
