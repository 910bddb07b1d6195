// The Capture-resource path's pure parts: the permissions preflight asks for, and rediscovery
// joining Capture resources to the captures found by their Jobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureResource } from '../../../src/capture/crd.js';
import { neededPermissions } from '../../../src/session/preflight.js';
import { withResources, type CaptureListing } from '../../../src/session/rediscover.js';
import { baseRequest } from '../capture/fixtures.js';

const names = (r: ReturnType<typeof neededPermissions>) =>
  r.map((n) => `${n.verb} ${n.resource}${n.group ? `.${n.group}` : ''}`);

test('via captureResource asks for Captures (not Job creation); jobs asks for Jobs', () => {
  const cr = names(neededPermissions(baseRequest({ via: 'captureResource' })));
  assert.ok(cr.includes('create captures.retina.sh'));
  assert.ok(cr.includes('delete captures.retina.sh'));
  assert.ok(cr.includes('watch captures.retina.sh'));
  assert.ok(cr.includes('watch jobs.batch'), 'the operator’s Jobs are followed');
  assert.ok(!cr.includes('create jobs.batch'));
  const jobs = names(neededPermissions(baseRequest()));
  assert.ok(jobs.includes('create jobs.batch'));
  assert.ok(!jobs.some((n) => n.includes('captures')));
});

const capture = (name: string, status?: CaptureResource['status'], ours = true): CaptureResource =>
  ({
    apiVersion: 'retina.sh/v1alpha1',
    kind: 'Capture',
    metadata: {
      name,
      namespace: 'ns',
      creationTimestamp: new Date('2026-11-26T09:00:00Z'),
      labels: ours ? { 'app.kubernetes.io/created-by': 'retina-capture-vscode' } : {},
    },
    spec: {
      captureConfiguration: {
        captureTarget: {},
        includeMetadata: true,
        captureOption: { duration: '2m', maxCaptureSize: 100 },
      },
      outputConfiguration: { blobUpload: 'capture-blob-upload-secretabc' },
    },
    ...(status ? { status } : {}),
  }) as CaptureResource;

test('rediscovery: a Capture joins its Jobs’ listing; one without Jobs is listed on its own', () => {
  const fromJobs: CaptureListing = {
    name: 'a',
    namespace: 'ns',
    origin: 'retina',
    blob: false,
    jobs: ['a-x'],
    nodes: [{ node: 'n1', phase: 'done' }],
    finished: true,
  };
  const running = {
    active: 1,
    conditions: [
      { type: 'complete', status: 'False' as const, reason: 'JobsInProgress', message: '1/2', lastTransitionTime: '' },
    ],
  };
  const out = withResources([fromJobs], [capture('a', running), capture('b', undefined, false)]);
  const a = out.find((c) => c.name === 'a');
  assert.equal(a?.origin, 'ours', 'the Capture says who started it');
  assert.equal(a?.resource?.phase, 'running');
  assert.equal(a?.finished, false, 'the operator may still create Jobs');
  const b = out.find((c) => c.name === 'b');
  assert.equal(b?.origin, 'retina');
  assert.deepEqual(b?.jobs, []);
  assert.equal(b?.durationSeconds, 120);
  assert.equal(b?.blob, true);
  assert.equal(b?.resource?.phase, 'pending');
  assert.equal(b?.finished, false);
});
