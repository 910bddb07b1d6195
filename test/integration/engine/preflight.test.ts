// Preflight stops a capture before anything is created: a missing permission is named, and a
// namespace enforcing Pod Security baseline gets the label to change. Nothing is left behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Job, V1Secret } from '@kubernetes/client-node';
import { CaptureStartError, type Engine } from '../../../src/engine.js';
import { createTestNamespace, deleteTestNamespace } from '../../cluster/cluster.js';
import { adminEngine, limitedEngine } from './helpers.js';

describe('capture preflight', () => {
  let admin: Engine;
  let limited: Engine;
  const namespaces: string[] = [];
  before(async () => {
    admin = await adminEngine();
    limited = await limitedEngine();
  });
  after(async () => {
    admin?.dispose();
    limited?.dispose();
    for (const ns of namespaces) await deleteTestNamespace(ns);
  });

  async function nothingIn(ns: string): Promise<void> {
    const jobs = await admin.door.list<V1Job>('jobs', { namespace: ns });
    const secrets = await admin.door.list<V1Secret>('secrets', {
      namespace: ns,
      labelSelector: 'retina.sh/app=capture',
    });
    assert.deepEqual(
      jobs.map((j) => j.metadata?.name),
      [],
    );
    assert.deepEqual(
      secrets.map((s) => s.metadata?.name),
      [],
    );
  }

  it('names the missing permission for the limited user and creates nothing', async () => {
    const ns = await createTestNamespace('eng-pf-rbac');
    namespaces.push(ns);
    const before = limited.stats.byKey['create jobs.batch'] ?? 0;
    await assert.rejects(
      limited.startCapture({
        namespace: ns,
        targets: [{ kind: 'node', name: 'rc-node-1' }],
        outputs: { hostPath: { subPath: 'retina' } },
        options: { durationSeconds: 5 },
      }),
      (e: unknown) => {
        assert.ok(e instanceof CaptureStartError, String(e));
        assert.equal(e.stage, 'preflight');
        assert.match(e.message, new RegExp(`You cannot create jobs\\.batch in namespace ${ns}`));
        assert.match(e.message, /ask a cluster admin/);
        return true;
      },
    );
    assert.equal(limited.stats.byKey['create jobs.batch'] ?? 0, before, 'no Job create was attempted');
    await nothingIn(ns);
  });

  it('stops on a baseline-enforced namespace with the label to change', async () => {
    const ns = await createTestNamespace('eng-pf-psa', { 'pod-security.kubernetes.io/enforce': 'baseline' });
    namespaces.push(ns);
    await assert.rejects(
      admin.startCapture({
        namespace: ns,
        targets: [{ kind: 'node', name: 'rc-node-1' }],
        outputs: { hostPath: { subPath: 'retina' } },
        options: { durationSeconds: 5 },
      }),
      (e: unknown) => {
        assert.ok(e instanceof CaptureStartError, String(e));
        assert.equal(e.stage, 'preflight');
        assert.match(e.message, /pod-security\.kubernetes\.io\/enforce=baseline/);
        assert.match(e.message, /privileged/);
        return true;
      },
    );
    await nothingIn(ns);
  });
});
