// The door's informers against the real API server: a pod created and deleted is seen through
// the watch, and the cache keeps working after the watch connection is dropped and after a
// forced re-list (what a 410 Gone triggers).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import type { Engine } from '../../../src/engine.js';
import { createTestNamespace, deleteTestNamespace } from '../../cluster/cluster.js';
import { adminEngine, waitInformer, within } from './helpers.js';

function sleeper(name: string): V1Pod {
  return {
    metadata: { name, labels: { app: 'informer-test' } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'sleep 600'] }],
    },
  };
}

describe('kube informer', () => {
  let engine: Engine;
  let ns: string;
  before(async () => {
    engine = await adminEngine();
    ns = await createTestNamespace('eng-inf');
  });
  after(async () => {
    engine?.dispose();
    if (ns) await deleteTestNamespace(ns);
  });

  it('sees a pod created and deleted, and survives a watch restart and a re-list', async () => {
    const pods = engine.door.informer('pods');
    await pods.synced;
    const inNs = (p: V1Pod): boolean => p.metadata?.namespace === ns;

    const added = waitInformer(pods, 'pod a added', (p, t) => inNs(p) && p.metadata?.name === 'a' && t !== 'delete');
    await engine.door.create('pods', ns, sleeper('a'));
    await added;

    // Drop the watch connection: the informer resumes from its resourceVersion.
    const watchesBefore = pods.counters.watches;
    pods.restartWatch();
    const addedB = waitInformer(
      pods,
      'pod b added after watch restart',
      (p, t) => inNs(p) && p.metadata?.name === 'b' && t !== 'delete',
    );
    await engine.door.create('pods', ns, sleeper('b'));
    await addedB;
    assert.ok(pods.counters.watches > watchesBefore, 'a new watch was opened');

    // A forced re-list (as after 410 Gone) keeps the cache and still delivers deletes.
    const listsBefore = pods.counters.lists;
    const relisted = new Promise<void>((resolve) => {
      const off = pods.onSync(() => {
        off();
        resolve();
      });
    });
    pods.forceRelist();
    await within(relisted, 30_000, 're-list after forceRelist');
    assert.ok(pods.counters.lists > listsBefore, 're-listed');
    const deleted = waitInformer(
      pods,
      'pod a deleted',
      (p, t) => inNs(p) && p.metadata?.name === 'a' && t === 'delete',
      60_000,
    );
    await engine.door.delete('pods', ns, 'a', { gracePeriodSeconds: 0 });
    await deleted;
    assert.ok(pods.get(ns, 'b'), 'pod b still cached after the re-list');
    assert.equal(pods.get(ns, 'a'), undefined);
  });
});
