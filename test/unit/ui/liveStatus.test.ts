// Status bar model from the session's events (src/views/liveStatus.ts). Plain Node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyLiveEvent, isLive, livePhase, liveStatusText, type LiveCapture } from '../../../src/views/liveStatus.js';

const empty: LiveCapture = { key: '1', label: '2 nodes', nodes: [], finished: false };

test('session phases map to status phases (finishing = uploading)', () => {
  assert.equal(livePhase('finishing'), 'uploading');
  assert.equal(livePhase('capturing'), 'capturing');
  assert.equal(livePhase('whatever'), 'pending');
});

test('planned → scheduled → capturing with time left', () => {
  let c = applyLiveEvent(empty, { type: 'planned', capture: 'cap-1', nodes: ['a', 'b'] });
  assert.equal(liveStatusText([c], 0)?.text, '$(loading~spin) 2 nodes starting');
  c = applyLiveEvent(c, { type: 'node', node: 'a', phase: 'scheduled' });
  c = applyLiveEvent(c, { type: 'node', node: 'a', phase: 'capturing', endsAt: 10_000 });
  c = applyLiveEvent(c, { type: 'node', node: 'b', phase: 'capturing', endsAt: 9_000 });
  assert.equal(liveStatusText([c], 2_000)?.text, '$(record) 2/2 capturing, 0:08 left');
  assert.match(liveStatusText([c], 2_000)!.tooltip, /cap-1:\n {2}a: capturing, 0:08 left/);
});

test('a failed worker is not counted as capturing (the "2/2 capturing after failure" bug)', () => {
  let c = applyLiveEvent(empty, { type: 'planned', nodes: ['a', 'b'] });
  c = applyLiveEvent(c, { type: 'node', node: 'a', phase: 'capturing', endsAt: 10_000 });
  c = applyLiveEvent(c, { type: 'node', node: 'b', phase: 'failed', message: 'worker exited with code 3' });
  const s = liveStatusText([c], 5_000)!;
  assert.equal(s.text, '$(warning) 1/2 capturing · 1 failed, 0:05 left');
  assert.match(s.tooltip, /b: failed — worker exited with code 3/);
  // A late replayed non-final event does not revive a failed node.
  c = applyLiveEvent(c, { type: 'node', node: 'b', phase: 'capturing' });
  assert.equal(c.nodes[1]!.phase, 'failed');
});

test('uploading, waiting with reason, then idle when every node is final or finished', () => {
  let c = applyLiveEvent(empty, { type: 'planned', nodes: ['a', 'b'] });
  c = applyLiveEvent(c, { type: 'node', node: 'a', phase: 'finishing' });
  c = applyLiveEvent(c, { type: 'node', node: 'b', phase: 'waiting', reason: 'ImagePullBackOff' });
  assert.equal(liveStatusText([c], 0)?.text, '$(loading~spin) 1/2 uploading · 1 waiting');
  assert.match(liveStatusText([c], 0)!.tooltip, /b: waiting \(ImagePullBackOff\)/);
  c = applyLiveEvent(c, { type: 'node', node: 'a', phase: 'done' });
  c = applyLiveEvent(c, { type: 'node', node: 'b', phase: 'failed' });
  assert.equal(isLive(c), false);
  assert.equal(liveStatusText([c], 0), undefined);
  assert.equal(isLive(applyLiveEvent(empty, { type: 'finished' })), false);
  assert.equal(liveStatusText([empty], 0)?.text, '$(loading~spin) starting');
});
