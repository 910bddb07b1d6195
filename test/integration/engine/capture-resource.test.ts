// Captures started as a retina.sh Capture resource (via: 'captureResource') on the test cluster.
// Retina's operator cannot run here, so test/support/captureOperator.ts stands in for it (Jobs in
// Retina's shape, owned by the Capture, running OUR worker bundle; status written as Retina's
// operator writes it). What is tested is the engine: refusal without the CRD, creation of the
// Capture, following its status and the operator's Jobs to the end, rediscovery, cancel by delete.
// The CRD is cluster-scoped on a shared cluster: installed here only if absent, deleted in after().
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadYaml, type V1Job } from '@kubernetes/client-node';
import type { CaptureResource } from '../../../src/capture/crd.js';
import type { Engine } from '../../../src/engine.js';
import { CaptureStartError } from '../../../src/engine.js';
import { Informer, isKubeError, type KubeObject } from '../../../src/kube/index.js';
import type { ResourceKind } from '../../../src/kube/resources.js';
import type { CaptureEvent } from '../../../src/session/index.js';
import { CRD_NOT_SERVED } from '../../../src/session/preflight.js';
import { createTestNamespace, deleteTestNamespace } from '../../cluster/cluster.js';
import { RETINA_FINALIZER, StandInCaptureOperator } from '../../support/captureOperator.js';
import { WORKER_IMAGE, adminEngine, waitEvent, waitInformer, waitWorkersCapturing, within } from './helpers.js';

const CRD_NAME = 'captures.retina.sh';
const CRD_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../support/retina-captures-crd.yaml');
const CRDS: ResourceKind = {
  prefix: '/apis/apiextensions.k8s.io/v1',
  plural: 'customresourcedefinitions',
  group: 'apiextensions.k8s.io',
  namespaced: false,
  display: 'customresourcedefinitions.apiextensions.k8s.io',
};
type Crd = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

describe('captures via a Capture resource (stand-in operator)', () => {
  let engine: Engine;
  let ns: string;
  let installed = false;
  let operator: StandInCaptureOperator | undefined;

  const request = (node: string, durationSeconds: number) => ({
    namespace: ns,
    name: `crt-${Math.random().toString(36).slice(2, 8)}`,
    targets: [{ kind: 'node' as const, name: node }],
    outputs: { hostPath: { subPath: 'retina' } },
    options: { durationSeconds },
    via: 'captureResource' as const,
  });

  before(async () => {
    engine = await adminEngine();
    ns = await createTestNamespace('eng-crd', { 'pod-security.kubernetes.io/enforce': 'privileged' });
  });

  after(async () => {
    operator?.stop();
    try {
      if (installed) {
        // Captures left by a failed test would hold the CRD's and namespace's deletion on the
        // finalizer of an operator that is gone: drop it first.
        const left = await engine.door.list<CaptureResource>('captures', { namespace: ns }).catch(() => []);
        for (const c of left)
          await engine.door
            .patch('captures', ns, c.metadata.name as string, { metadata: { finalizers: [] } })
            .catch(() => undefined);
        await engine.door.transport.request({
          method: 'DELETE',
          path: `${CRDS.prefix}/${CRDS.plural}/${CRD_NAME}`,
          ctx: { verb: 'delete', resource: CRDS.display },
        });
      }
    } finally {
      engine?.dispose();
      if (ns) await deleteTestNamespace(ns);
    }
  });

  it('refuses with a clear message while the cluster does not serve the CRD', async () => {
    if (await engine.door.serves('retina.sh/v1alpha1', 'captures')) {
      assert.fail(`${CRD_NAME} is already installed on the shared cluster by someone else; cannot test the refusal`);
    }
    const err = await engine.startCapture(request('rc-node-1', 3)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof CaptureStartError, String(err));
    assert.equal(err.stage, 'preflight');
    assert.ok(err.problems.includes(CRD_NOT_SERVED), err.message);
    const jobs = await engine.door.list<V1Job>('jobs', { namespace: ns });
    assert.equal(jobs.length, 0, 'nothing created');
  });

  describe('with the CRD installed', () => {
    before(async () => {
      const crd = loadYaml<Crd>(readFileSync(CRD_FILE, 'utf8'));
      await engine.door.transport.request({
        method: 'POST',
        path: `${CRDS.prefix}/${CRDS.plural}`,
        body: crd,
        ctx: { verb: 'create', resource: CRDS.display },
      });
      installed = true;
      const watch = new Informer<Crd>(engine.door.transport, CRDS, { fieldSelector: `metadata.name=${CRD_NAME}` });
      try {
        watch.start();
        await waitInformer(
          watch,
          'CRD Established',
          (o) => !!o.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
          30_000,
        );
      } finally {
        watch.dispose();
      }
      operator = await new StandInCaptureOperator(engine.door, {
        namespace: ns,
        workerImage: WORKER_IMAGE,
        log: (m) => console.error(m),
      }).start();
    });

    it('creates a Capture, follows its status and the operator’s Job to done, and lists it', async () => {
      const seen: CaptureEvent[] = [];
      const run = await engine.startCapture(request('rc-node-1', 3), { onEvent: (e) => seen.push(e) });
      assert.equal(run.created.jobs.length, 0, 'the engine created no Job itself');
      assert.equal(run.created.resource?.metadata?.name, run.name);
      const summary = await within(run.done, 120_000, 'capture to finish');
      assert.ok(summary.ok, JSON.stringify(summary.nodes));
      assert.deepEqual(
        summary.nodes.map((n) => n.node),
        ['rc-node-1'],
      );
      assert.equal(summary.nodes[0]?.result?.status, 'ok', JSON.stringify(summary.nodes[0]));

      const created = seen.find((e) => e.type === 'created');
      assert.ok(created?.type === 'created' && created.resource === run.name && created.jobs.length === 0);
      const phases = seen.flatMap((e) => (e.type === 'resource' ? [e.phase] : []));
      assert.ok(phases.includes('running'), phases.join(','));
      assert.equal(phases.at(-1), 'done', phases.join(','));
      assert.ok(
        seen.some((e) => e.type === 'node' && e.phase === 'capturing'),
        'per-node events come from the Job',
      );
      assert.equal(seen.at(-1)?.type, 'finished');

      const cr = await engine.door.get<CaptureResource>('captures', ns, run.name);
      const complete = cr.status?.conditions?.find((c) => c.type === 'complete');
      assert.equal(complete?.status, 'True', JSON.stringify(cr.status));
      assert.equal(cr.status?.succeeded, 1);
      const jobs = await engine.door.list<V1Job>('jobs', { namespace: ns, labelSelector: `capture-name=${run.name}` });
      assert.equal(jobs.length, 1);
      assert.equal(jobs[0]?.metadata?.ownerReferences?.[0]?.uid, cr.metadata.uid, 'Job owned by the Capture');

      const listed = (await engine.listCaptures(ns)).find((c) => c.name === run.name);
      assert.ok(listed, 'rediscovered');
      assert.equal(listed.resource?.phase, 'done');
      assert.equal(listed.origin, 'ours');
      assert.equal(listed.finished, true);
      assert.deepEqual(operator?.errors, []);

      // Download as for Jobs: the operator's Job wrote to the same host path layout.
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'rc-crd-dl-'));
      try {
        const d = await engine.download(run.name, { to: tmp, namespace: ns });
        assert.deepEqual(d.failures, []);
        assert.deepEqual(
          d.archives.map((a) => a.node),
          ['rc-node-1'],
        );
        const files = d.archives[0]?.unpacked.files.map((f) => f.path) ?? [];
        assert.ok(
          files.some((f) => /\.pcap(ng)?$/.test(f)),
          files.join(','),
        );
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }

      const removed = await engine.deleteCapture(run.name, { namespace: ns });
      assert.equal(removed.resource, true);
      await waitGone(run.name);
    });

    it('cancel deletes the Capture; the operator’s Jobs go and the worker still reports', async () => {
      const run = await engine.startCapture(request('rc-node-2', 120));
      await waitEvent(run.events, 'capturing', (e) => e.type === 'node' && e.phase === 'capturing', 90_000);
      // SIGTERM before the worker's own code runs would kill it (exit 143), as on a real cluster.
      await waitWorkersCapturing(
        engine,
        ns,
        run.states().flatMap((n) => (n.pod ? [n.pod] : [])),
        60_000,
      );
      const cr = await engine.door.get<CaptureResource>('captures', ns, run.name);
      assert.ok(cr.metadata.finalizers?.includes(RETINA_FINALIZER), 'operator finalizer present');
      await run.cancel();
      const summary = await within(run.done, 90_000, 'cancelled capture to finish');
      assert.equal(summary.cancelled, true);
      assert.equal(summary.nodes.length, 1);
      const n = summary.nodes[0];
      assert.equal(n?.phase, 'done', JSON.stringify(n));
      assert.equal(n?.result?.stopReason, 'signal', JSON.stringify(n?.result));
      assert.ok(n?.result?.archive, JSON.stringify(n?.result));
      await waitGone(run.name);
      assert.deepEqual(operator?.errors, []);
    });
  });

  /** The Capture and its Jobs are gone (watch-driven waits). */
  async function waitGone(name: string): Promise<void> {
    const watch = engine.door.watchObject<CaptureResource>('captures', ns, name);
    try {
      await watch.synced;
      if (watch.get(ns, name)) await waitInformer(watch, `Capture ${name} deleted`, (_o, t) => t === 'delete', 60_000);
    } finally {
      watch.dispose();
    }
    const jobs = engine.door.informer('jobs');
    await jobs.synced;
    const mine = (j: V1Job): boolean => j.metadata?.namespace === ns && j.metadata?.labels?.['capture-name'] === name;
    if (jobs.list(mine).length) {
      await waitInformer(jobs, `Jobs of ${name} deleted`, () => jobs.list(mine).length === 0, 60_000);
    }
    try {
      await engine.door.get('captures', ns, name);
      assert.fail(`Capture ${name} still exists`);
    } catch (e) {
      assert.ok(isKubeError(e, 'notFound'), String(e));
    }
  }
});
