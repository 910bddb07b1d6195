// A Job whose hostNetwork pod runs a command completes, and its termination message is read back
// — the way the extension gets the worker's summary out of a capture pod.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { adminConfig, createTestNamespace, deleteTestNamespace, waitFor } from './helpers.js';

describe('hostNetwork Job', () => {
  let ns = '';
  before(async () => {
    ns = await createTestNamespace('rc-job', { 'pod-security.kubernetes.io/enforce': 'privileged' });
  });
  after(async () => {
    if (ns) await deleteTestNamespace(ns);
  });

  it('completes and reports state.terminated.message', async () => {
    const kc = adminConfig();
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await batch.createNamespacedJob({
      namespace: ns,
      body: {
        metadata: { name: 'hostnet' },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              hostNetwork: true,
              restartPolicy: 'Never',
              nodeSelector: { 'retina-capture.test/kind': 'real' },
              containers: [
                {
                  name: 'main',
                  image: 'busybox',
                  // In the node netns eth0 carries the node IP; write it as the termination message.
                  command: ['sh', '-c', 'ip -4 -o addr show dev eth0 | head -n1 > /dev/termination-log; echo done'],
                },
              ],
            },
          },
        },
      },
    });
    const job = await waitFor(
      'job hostnet to complete',
      async () => {
        const j = await batch.readNamespacedJob({ name: 'hostnet', namespace: ns });
        if (j.status?.failed) throw new Error(`job failed: ${JSON.stringify(j.status)}`);
        return (j.status?.succeeded ?? 0) >= 1 ? j : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    assert.ok(job.status?.completionTime);
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'job-name=hostnet' });
    assert.equal(pods.items.length, 1);
    const pod = pods.items[0]!;
    assert.equal(pod.status?.phase, 'Succeeded');
    // hostNetwork: podIP is the node's InternalIP, and eth0 of the node netns has it.
    assert.equal(pod.status?.podIP, pod.status?.hostIP);
    const term = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(term?.exitCode, 0);
    assert.match(term?.message ?? '', new RegExp(`inet ${(pod.status?.hostIP ?? 'x').replace(/\./g, '\\.')}/24`));
  });
});
