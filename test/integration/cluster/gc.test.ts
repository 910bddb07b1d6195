// Deleting a capture Job with propagationPolicy Background removes its pods, and a Secret owned
// by the Job (ownerReference, as the extension sets on its upload credentials) is collected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import {
  adminConfig,
  createTestNamespace,
  deleteTestNamespace,
  running,
  statusOf,
  waitFor,
  waitPod,
} from './helpers.js';

describe('garbage collection of Jobs', () => {
  let ns = '';
  before(async () => {
    ns = await createTestNamespace('rc-gc');
  });
  after(async () => {
    if (ns) await deleteTestNamespace(ns);
  });

  it('Background delete removes the pods and the owned Secret', async () => {
    const kc = adminConfig();
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const job = await batch.createNamespacedJob({
      namespace: ns,
      body: {
        metadata: { name: 'long' },
        spec: {
          parallelism: 2,
          completions: 2,
          template: {
            spec: {
              restartPolicy: 'Never',
              terminationGracePeriodSeconds: 2,
              nodeSelector: { 'retina-capture.test/kind': 'real' },
              containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo started; exec sleep 3600'] }],
            },
          },
        },
      },
    });
    await core.createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: {
          name: 'upload',
          ownerReferences: [
            { apiVersion: 'batch/v1', kind: 'Job', name: 'long', uid: job.metadata!.uid!, blockOwnerDeletion: false },
          ],
        },
        stringData: { sas: 'not-a-real-token' },
      },
    });
    const pods = await waitFor(
      'both job pods to exist',
      async () => {
        const l = await core.listNamespacedPod({ namespace: ns, labelSelector: 'job-name=long' });
        return l.items.length === 2 ? l.items : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    for (const p of pods) await waitPod(core, ns, p.metadata!.name!, 'Running', running);

    await batch.deleteNamespacedJob({ name: 'long', namespace: ns, propagationPolicy: 'Background' });
    await waitFor(
      'job pods to be deleted',
      async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'job-name=long' })).items.length === 0,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await waitFor(
      'owned Secret to be garbage-collected',
      async () => {
        try {
          await core.readNamespacedSecret({ name: 'upload', namespace: ns });
          return false;
        } catch (e) {
          if (statusOf(e) === 404) return true;
          throw e;
        }
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    assert.ok(true);
  });
});
