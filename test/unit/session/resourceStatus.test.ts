// Capture resource status → ResourceState, for statuses shaped as Retina's operator writes them
// (pkg/controllers/operator/capture: conditions complete/error, Job counts, completionTime).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureResourceStatus } from '../../../src/capture/crd.js';
import { isFinalResource, resourceState, sameResourceState } from '../../../src/session/resourceStatus.js';

const T = '2026-11-26T09:00:00Z';
const cond = (type: string, status: 'True' | 'False', reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: T,
});
const of = (status?: CaptureResourceStatus, deleting = false) =>
  resourceState({ status, metadata: deleting ? { deletionTimestamp: T } : {} });

test('no status yet: pending (nothing has picked the Capture up)', () => {
  const s = of(undefined);
  assert.equal(s.phase, 'pending');
  assert.equal(isFinalResource(s), false);
  assert.deepEqual([s.active, s.succeeded, s.failed, s.deleting], [0, 0, 0, false]);
});

test('Jobs created: complete False JobsInProgress → running with the counts', () => {
  const s = of({
    active: 2,
    conditions: [
      cond('complete', 'False', 'JobsInProgress', '2/2 Capture jobs are in progress, waiting for completion'),
    ],
  });
  assert.equal(s.phase, 'running');
  assert.equal(s.reason, 'JobsInProgress');
  assert.equal(s.active, 2);
  assert.equal(s.error, undefined);
});

test('a Job failed while another runs: still running, the error is carried', () => {
  const s = of({
    active: 1,
    failed: 1,
    conditions: [
      cond('error', 'True', 'RunJobFailed', '1 Capture jobs are in failed state'),
      cond('complete', 'False', 'JobsInProgress', '1/2 Capture jobs are in progress, waiting for completion'),
    ],
  });
  assert.equal(s.phase, 'running');
  assert.deepEqual(s.error, { reason: 'RunJobFailed', message: '1 Capture jobs are in failed state' });
});

test('error and nothing active: failed with the operator’s message', () => {
  const s = of({
    active: 0,
    failed: 1,
    succeeded: 1,
    conditions: [
      cond('error', 'True', 'RunJobFailed', '1 Capture jobs are in failed state'),
      cond('complete', 'False', 'JobsInProgress', '0/2 Capture jobs are in progress, waiting for completion'),
    ],
  });
  assert.equal(s.phase, 'failed');
  assert.equal(s.reason, 'RunJobFailed');
  assert.equal(s.message, '1 Capture jobs are in failed state');
  assert.equal(isFinalResource(s), true);
});

test('translation failed before any Job (FindSecretFailed): failed at once', () => {
  const s = of({ conditions: [cond('error', 'True', 'FindSecretFailed', 'secret x not found in namespace y')] });
  assert.equal(s.phase, 'failed');
  assert.equal(s.message, 'secret x not found in namespace y');
});

test('complete True: done, with completionTime', () => {
  const s = of({
    active: 0,
    succeeded: 3,
    completionTime: T,
    conditions: [cond('complete', 'True', 'JobsCompleted', 'All 3 Capture jobs are completed')],
  });
  assert.equal(s.phase, 'done');
  assert.equal(s.completedAt, Date.parse(T));
  assert.equal(s.succeeded, 3);
});

test('deletionTimestamp marks deleting; equality ignores nothing that matters', () => {
  const a = of({ active: 1, conditions: [cond('complete', 'False', 'JobsInProgress', '1/1')] });
  const b = of({ active: 1, conditions: [cond('complete', 'False', 'JobsInProgress', '1/1')] }, true);
  assert.equal(b.deleting, true);
  assert.equal(sameResourceState(a, b), false);
  assert.equal(
    sameResourceState(a, of({ active: 1, conditions: [cond('complete', 'False', 'JobsInProgress', '1/1')] })),
    true,
  );
  assert.equal(sameResourceState(undefined, a), false);
});
