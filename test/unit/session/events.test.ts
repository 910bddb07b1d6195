// Pod/Job/Event/Node objects (shaped as the API server sends them) → per-node progress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreV1Event, V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import { deriveNodeState, nodeOfJob } from '../../../src/session/events.js';
import { groupCaptures } from '../../../src/session/rediscover.js';

const T0 = Date.parse('2026-11-26T06:00:00Z');

// JSON from the API has string timestamps, not Dates: the cast mirrors what the informer holds.
const job = (extra: Partial<V1Job> = {}): V1Job =>
  ({
    metadata: {
      name: 'cap-abcde',
      namespace: 'ns',
      uid: 'j1',
      labels: {
        'retina.sh/app': 'capture',
        'capture-name': 'cap',
        'app.kubernetes.io/created-by': 'retina-capture-vscode',
      },
      annotations: { 'retina-capture-vscode/request': '{"v":1,"durationSeconds":60}' },
    },
    spec: {
      template: {
        metadata: {
          annotations: {
            'retina-capture-timestamp': '20261126060000UTC',
            'retina-capture-hostpath': '/var/log/retina/captures/retina',
          },
        },
        spec: {
          containers: [{ name: 'capture', image: 'w' }],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] },
                ],
              },
            },
          },
        },
      },
    },
    ...extra,
  }) as V1Job;

const pod = (status: unknown, meta: Record<string, unknown> = {}): V1Pod =>
  ({
    metadata: {
      name: 'cap-abcde-xyz',
      namespace: 'ns',
      labels: { 'capture-name': 'cap' },
      ownerReferences: [{ kind: 'Job', name: 'cap-abcde', uid: 'j1', apiVersion: 'batch/v1' }],
      ...meta,
    },
    spec: { nodeName: 'n1' },
    status,
  }) as unknown as V1Pod;

const running = (startedAt: string) =>
  pod({ phase: 'Running', containerStatuses: [{ name: 'capture', state: { running: { startedAt } } }] });

test('node of a Job from its required node affinity', () => {
  assert.equal(nodeOfJob(job()), 'n1');
});

test('pending → scheduled → waiting → capturing with time left → finishing → done with result', () => {
  assert.equal(deriveNodeState({ node: 'n1', job: job(), now: T0 }).phase, 'pending');
  assert.equal(
    deriveNodeState({
      node: 'n1',
      job: job(),
      pod: pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] }),
      now: T0,
    }).phase,
    'scheduled',
  );
  const w = deriveNodeState({
    node: 'n1',
    job: job(),
    pod: pod({
      phase: 'Pending',
      containerStatuses: [{ name: 'capture', state: { waiting: { reason: 'ContainerCreating' } } }],
    }),
    now: T0,
  });
  assert.deepEqual([w.phase, w.reason], ['waiting', 'ContainerCreating']);
  const c = deriveNodeState({
    node: 'n1',
    job: job(),
    pod: running('2026-11-26T06:00:00Z'),
    durationMs: 60_000,
    now: T0 + 15_000,
  });
  assert.equal(c.phase, 'capturing');
  assert.equal(c.endsAt, T0 + 60_000);
  assert.equal(c.timeLeftMs, 45_000);
  const f = deriveNodeState({
    node: 'n1',
    job: job(),
    pod: running('2026-11-26T06:00:00Z'),
    durationMs: 60_000,
    now: T0 + 61_000,
  });
  assert.deepEqual([f.phase, f.reason], ['finishing', 'Uploading']);
  const result = { v: 1, status: 'ok', exitCode: 0, capture: 'cap', node: 'n1', workerVersion: '1', packets: 42 };
  const d = deriveNodeState({
    node: 'n1',
    job: job(),
    pod: pod({
      phase: 'Succeeded',
      containerStatuses: [
        {
          name: 'capture',
          state: { terminated: { exitCode: 0, reason: 'Completed', message: JSON.stringify(result) } },
        },
      ],
    }),
    now: T0,
  });
  assert.equal(d.phase, 'done');
  assert.equal(d.result?.packets, 42);
});

test('failures: image pull, worker exit message, PodSecurity FailedCreate, NotReady node, deleted pod', () => {
  const img = deriveNodeState({
    node: 'n1',
    job: job(),
    pod: pod({
      phase: 'Pending',
      containerStatuses: [
        { name: 'capture', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } } },
      ],
    }),
    now: T0,
  });
  assert.deepEqual([img.phase, img.reason], ['failed', 'ImagePullBackOff']);
  assert.match(img.message ?? '', /cannot pull the worker image/);

  const res = {
    v: 1,
    status: 'failed',
    exitCode: 13,
    reason: "can't parse filter expression: syntax error",
    capture: 'cap',
    node: 'n1',
    workerVersion: '1',
  };
  const ex = deriveNodeState({
    node: 'n1',
    job: job(),
    pod: pod({
      phase: 'Failed',
      containerStatuses: [
        { name: 'capture', state: { terminated: { exitCode: 13, reason: 'Error', message: JSON.stringify(res) } } },
      ],
    }),
    now: T0,
  });
  assert.equal(ex.phase, 'failed');
  assert.match(ex.message ?? '', /code 13: can't parse filter expression/);
  assert.equal(ex.result?.exitCode, 13);

  const ev = {
    metadata: { name: 'e1' },
    involvedObject: { kind: 'Job', name: 'cap-abcde', namespace: 'ns' },
    reason: 'FailedCreate',
    type: 'Warning',
    message:
      'Error creating: pods "cap-abcde-x" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)',
    lastTimestamp: '2026-11-26T06:00:01Z',
  } as unknown as CoreV1Event;
  const fc = deriveNodeState({ node: 'n1', job: job(), events: [ev], now: T0 });
  assert.deepEqual([fc.phase, fc.reason], ['failed', 'FailedCreate']);
  assert.match(fc.message ?? '', /violates PodSecurity.*pod-security\.kubernetes\.io\/enforce=privileged/);

  const notReady = {
    metadata: { name: 'n1' },
    status: { conditions: [{ type: 'Ready', status: 'Unknown', message: 'Kubelet stopped posting node status.' }] },
  } as V1Node;
  const nr = deriveNodeState({
    node: 'n1',
    job: job(),
    pod: running('2026-11-26T06:00:00Z'),
    nodeObj: notReady,
    durationMs: 60_000,
    now: T0,
  });
  assert.deepEqual([nr.phase, nr.reason], ['failed', 'NodeNotReady']);

  const gone = deriveNodeState({
    node: 'n1',
    job: job(),
    pod: running('2026-11-26T06:00:00Z'),
    podGone: true,
    now: T0,
  });
  assert.deepEqual([gone.phase, gone.reason], ['failed', 'PodDeleted']);

  const dl = deriveNodeState({
    node: 'n1',
    job: job({
      status: {
        conditions: [
          {
            type: 'Failed',
            status: 'True',
            reason: 'DeadlineExceeded',
            message: 'Job was active longer than specified deadline',
          },
        ],
      },
    } as Partial<V1Job>),
    now: T0,
  });
  assert.deepEqual([dl.phase, dl.reason], ['failed', 'DeadlineExceeded']);
});

test('a pod being deleted (cancel) is finishing until it reports', () => {
  const p = running('2026-11-26T06:00:00Z');
  p.metadata = { ...p.metadata, deletionTimestamp: '2026-11-26T06:00:10Z' as unknown as Date };
  const s = deriveNodeState({ node: 'n1', job: job(), pod: p, durationMs: 60_000, now: T0 + 10_000 });
  assert.deepEqual([s.phase, s.reason], ['finishing', 'Stopping']);
});

test('rediscovery groups Jobs by capture and reads duration, host path and origin', () => {
  const retinaJob = job();
  retinaJob.metadata = {
    ...retinaJob.metadata,
    name: 'r-1',
    uid: 'r1',
    labels: { 'retina.sh/app': 'capture', 'capture-name': 'theirs' },
    annotations: {},
  };
  retinaJob.spec!.template.spec!.containers[0]!.env = [{ name: 'CAPTURE_DURATION', value: '1m30s' }];
  const list = groupCaptures([job(), retinaJob], [running('2026-11-26T06:00:00Z')], T0 + 1000);
  const ours = list.find((c) => c.name === 'cap');
  assert.equal(ours?.origin, 'ours');
  assert.equal(ours?.durationSeconds, 60);
  assert.equal(ours?.hostPath, '/var/log/retina/captures/retina');
  assert.equal(ours?.nodes[0]?.phase, 'capturing');
  const theirs = list.find((c) => c.name === 'theirs');
  assert.equal(theirs?.origin, 'retina');
  assert.equal(theirs?.durationSeconds, 90);
});
