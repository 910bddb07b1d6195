import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  imageReferenceProblem,
  interfaceNameProblem,
  validateRequest,
  type ValidationProblem,
} from '../../../src/capture/validate.js';
import { withDefaultOptions, type CaptureRequest } from '../../../src/capture/request.js';
import { FAKE_SAS, NOW, baseRequest } from './fixtures.js';

function problems(req: CaptureRequest): ValidationProblem[] {
  return validateRequest(req, { now: NOW });
}
function messagesFor(overrides: Partial<CaptureRequest>): string[] {
  return problems(baseRequest(overrides)).map((p) => p.message);
}
function optionMessages(o: Partial<CaptureRequest['options']>): string[] {
  return messagesFor({ options: withDefaultOptions({ durationSeconds: 90, ...o }) });
}

test('the base request is valid', () => {
  assert.deepEqual(problems(baseRequest()), []);
  assert.deepEqual(problems(baseRequest({ outputs: { blob: { sasUrl: FAKE_SAS } } })), []);
});

test('every problem names its field and is returned together with the others', () => {
  const all = problems(
    baseRequest({
      name: 'Bad_Name',
      namespace: '',
      targets: [],
      outputs: {},
      workerImage: '',
      options: withDefaultOptions({ durationSeconds: 0, maxSizeMB: 0, maxConcurrentJobs: 0 }),
    }),
  );
  assert.deepEqual(
    all.map((p) => p.field),
    [
      'name',
      'namespace',
      'targets',
      'options.durationSeconds',
      'options.maxSizeMB',
      'options.maxConcurrentJobs',
      'outputs',
      'workerImage',
    ],
  );
  for (const p of all) assert.ok(p.message.startsWith(p.field), p.message);
});

test('name: RFC 1123, at most 50 characters', () => {
  assert.deepEqual(messagesFor({ name: 'Cap_1' }), [
    `name must be a lowercase RFC 1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit) of 1 to 50 characters (got "Cap_1")`,
  ]);
  assert.equal(messagesFor({ name: 'a'.repeat(51) }).length, 1);
  assert.deepEqual(messagesFor({ name: 'a'.repeat(50) }), []);
  assert.equal(messagesFor({ name: '-cap' }).length, 1);
});

test('numeric options: messages name the field and the range', () => {
  assert.deepEqual(optionMessages({ durationSeconds: 0 }), [
    'options.durationSeconds must be a whole number between 1 and 86400 (got 0)',
  ]);
  assert.deepEqual(optionMessages({ durationSeconds: 86401 }), [
    'options.durationSeconds must be a whole number between 1 and 86400 (got 86401)',
  ]);
  assert.deepEqual(optionMessages({ durationSeconds: 1.5 }), [
    'options.durationSeconds must be a whole number between 1 and 86400 (got 1.5)',
  ]);
  assert.deepEqual(optionMessages({ maxSizeMB: 20000 }), [
    'options.maxSizeMB must be a whole number between 1 and 10240 (got 20000)',
  ]);
  assert.deepEqual(optionMessages({ fileCount: 0 }), [
    'options.fileCount must be a whole number between 1 and 1000 (got 0)',
  ]);
  assert.deepEqual(optionMessages({ snapLength: 10 }), [
    'options.snapLength must be 0 (whole packet) or between 64 and 262144 bytes (got 10)',
  ]);
  assert.deepEqual(optionMessages({ snapLength: 0 }), []);
  assert.deepEqual(optionMessages({ snapLength: 64 }), []);
  assert.deepEqual(optionMessages({ maxConcurrentJobs: 101 }), [
    'options.maxConcurrentJobs must be a whole number between 1 and 100 (got 101) — it is the number of Job create requests in flight at once while the capture starts, not a limit on nodes',
  ]);
});

test('include/exclude: Retina forms plus bracketed IPv6', () => {
  assert.deepEqual(
    optionMessages({
      include: ['10.0.0.1', '10.0.0.1:80', '*:443', ':53', '8080', 'fd00::1', '[fd00::1]:443', '10.0.0.1:*'],
    }),
    [],
  );
  assert.deepEqual(optionMessages({ include: ['10.0.0.300'], exclude: ['10.0.0.1:99999', '*:*', '[fd00::1'] }), [
    'options.include[0]: "10.0.0.300" is not IP, IP:port, *:port or port (IPv6 with a port is written [addr]:port)',
    'options.exclude[0]: "10.0.0.1:99999": the port must be between 1 and 65535 or *',
    'options.exclude[1]: "*:*" matches every packet; leave it out instead',
    'options.exclude[2]: "[fd00::1" is not IP, IP:port, *:port or port (IPv6 with a port is written [addr]:port)',
  ]);
});

test('source/destination IPs and interfaces', () => {
  assert.deepEqual(optionMessages({ sourceIPs: ['10.0.0.1', 'fd00::2'], destinationIPs: ['host'] }), [
    'options.destinationIPs[0] must be an IPv4 or IPv6 address (got "host")',
  ]);
  assert.deepEqual(optionMessages({ interfaces: ['eth0', 'lxc12345678abcdef', 'a/b', 'any', ''] }), [
    'options.interfaces[1] "lxc12345678abcdef" is 17 bytes long; Linux allows 15 (IFNAMSIZ 16 includes the NUL)',
    `options.interfaces[2] "a/b" contains '/', ':', ',' or whitespace, which interface names cannot`,
    'options.interfaces[3] "any" is not supported; leave the list empty to capture on every interface',
    'options.interfaces[4] is empty',
  ]);
  assert.equal(interfaceNameProblem('cilium_host'), undefined);
  // Bytes, not characters: 8 characters of 2 bytes do not fit; NUL and control characters never.
  assert.match(interfaceNameProblem('éééééééé') ?? '', /16 bytes long; Linux allows 15/);
  assert.equal(interfaceNameProblem('ééééééé'), undefined);
  assert.match(interfaceNameProblem('eth0\0') ?? '', /control characters/);
  assert.match(interfaceNameProblem('eth\u202e0') ?? '', /bidirectional/);
});

test('host sub-path: newlines, control and bidi characters are refused', () => {
  for (const sub of ['retina\nx', 'a\rb', 'a\u0085b', 'a\u202eb']) {
    assert.equal(messagesFor({ outputs: { hostPath: { subPath: sub } } }).length, 1, JSON.stringify(sub));
  }
  assert.match(messagesFor({ outputs: { hostPath: { subPath: 'retina\nx' } } })[0] ?? '', /control characters/);
  assert.deepEqual(messagesFor({ outputs: { hostPath: { subPath: 'retina/x' } } }), []);
});

test('filter: syntactic problems are reported with the field name', () => {
  assert.deepEqual(optionMessages({ filter: 'tcp and (port 80' }), ['options.filter has 1 unclosed "("']);
  assert.deepEqual(optionMessages({ filter: 'tcp and' }), [
    'options.filter ends with "and", which needs something after it',
  ]);
  assert.deepEqual(optionMessages({ filter: 'tcp port 80' }), []);
});

test('targets: names and selectors are checked per target', () => {
  assert.deepEqual(
    messagesFor({
      targets: [
        { kind: 'node', name: 'Node_A' },
        { kind: 'pod', namespace: 'Shop', name: 'web-0' },
        { kind: 'podSelector', podLabels: 'app in (web', namespace: 'shop' },
        { kind: 'workload', namespace: 'shop', workloadKind: 'CronJob' as 'Job', name: 'x' },
      ],
    }),
    [
      'targets[0].name must be a node name (lowercase RFC 1123, ≤ 253 characters) (got "Node_A")',
      'targets[1].namespace must be a namespace name (lowercase RFC 1123 label, ≤ 63 characters) (got "Shop")',
      'targets[2].podLabels is not a valid label selector: unbalanced parentheses in selector "app in (web"',
      'targets[3].workloadKind must be one of Deployment, StatefulSet, DaemonSet, ReplicaSet, Job (got "CronJob")',
    ],
  );
});

test('outputs: at least one; host path relative without ..; blob SAS checked for the capture length', () => {
  assert.deepEqual(messagesFor({ outputs: {} }), [
    'outputs must name at least one destination: hostPath, blob, s3 or pvc',
  ]);
  assert.deepEqual(messagesFor({ outputs: { hostPath: { subPath: '/tmp/x' } } }), [
    'outputs.hostPath.subPath must be relative to /var/log/retina/captures, not absolute (got "/tmp/x")',
  ]);
  assert.deepEqual(messagesFor({ outputs: { hostPath: { subPath: 'a/../../etc' } } }), [
    'outputs.hostPath.subPath must not contain ".." segments (got "a/../../etc")',
  ]);
  // FAKE_SAS expires at 08:00; a 4 h capture from 05:07 ends after that.
  const long = problems(
    baseRequest({
      outputs: { blob: { sasUrl: FAKE_SAS } },
      options: withDefaultOptions({ durationSeconds: 4 * 3600 }),
    }),
  );
  assert.deepEqual(
    long.map((p) => p.message),
    [
      'outputs.blob.sasUrl: the SAS expires at 2026-11-26T08:00:00Z, before the capture ends at 2026-11-26T09:07:09Z; create one that lasts longer',
    ],
  );
  assert.ok(!JSON.stringify(long).includes('FAKESIGNATURE'));
  assert.deepEqual(messagesFor({ outputs: { pvc: 'PVC' } }), [
    'outputs.pvc must be a PersistentVolumeClaim name (lowercase RFC 1123) (got "PVC")',
  ]);
});

test('worker image reference syntax', () => {
  for (const ok of [
    'worker',
    'worker:1.0',
    'ghcr.io/org/worker:v0.1.0',
    'localhost:5000/worker',
    'registry.example.com:443/a/b/c@sha256:' + 'a'.repeat(64),
  ]) {
    assert.equal(imageReferenceProblem(ok), undefined, ok);
  }
  assert.deepEqual(messagesFor({ workerImage: 'Worker:latest' }), [
    'workerImage "Worker:latest" is not an image reference (lowercase name components like registry.example.com/team/worker:1.0)',
  ]);
  assert.match(imageReferenceProblem('worker@sha256:xyz') ?? '', /malformed digest/);
  assert.match(imageReferenceProblem('worker:bad tag') ?? '', /whitespace/);
});

test('mode must be node or pod', () => {
  assert.deepEqual(messagesFor({ mode: 'cluster' as 'node' }), ['mode must be "node" or "pod" (got "cluster")']);
});
