import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { V1Job } from '@kubernetes/client-node';
import * as contract from '../../../src/contract/index.js';
import { buildCaptureResource } from '../../../src/capture/crd.js';
import {
  buildBlobSecret,
  buildJobs,
  buildS3Secret,
  ownerReferencesFor,
  resolveHostPath,
} from '../../../src/capture/manifests.js';
import { planCapture, planErrors } from '../../../src/capture/plan.js';
import { withDefaultOptions, type CaptureRequest } from '../../../src/capture/request.js';
import { FAKE_SAS, NOW, baseRequest, snapshot } from './fixtures.js';
import { assertGolden } from './golden.js';

function build(req: CaptureRequest, opts: Parameters<typeof buildJobs>[2] = {}): V1Job[] {
  const plan = planCapture(req, snapshot(), { now: NOW });
  assert.deepEqual(planErrors(plan), []);
  return buildJobs(plan, req, opts);
}

const envOf = (job: V1Job): Record<string, string> =>
  Object.fromEntries(
    (job.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [
      e.name,
      e.value ?? `<${e.valueFrom?.fieldRef?.fieldPath}>`,
    ]),
  );

const podSelectorRequest = (extra: Partial<CaptureRequest> = {}): CaptureRequest =>
  baseRequest({
    targets: [{ kind: 'podSelector', podLabels: 'app in (web,api)', namespaceLabels: { team: 'web' } }],
    options: withDefaultOptions({
      durationSeconds: 90,
      include: ['10.0.0.1:80', '*:443', '[fd00::1]:53'],
      exclude: ['10.0.0.9'],
      filter: 'tcp',
      sourceIPs: ['10.0.0.1'],
      destinationIPs: ['10.0.0.2', '10.0.0.3'],
      interfaces: ['eth0', 'cilium_host'],
      fileCount: 3,
      snapLength: 128,
    }),
    ...extra,
  });

test('host path output: Retina-shaped Jobs with pod IPs AND-ed into TCPDUMP_FILTER', () => {
  const jobs = build(podSelectorRequest());
  assertGolden('jobs-hostpath', jobs);
  assert.equal(jobs.length, 3);
  const job = jobs[0] as V1Job;
  assert.equal(job.metadata?.generateName, 'cap-1-');
  assert.equal(job.spec?.backoffLimit, 0);
  assert.equal(job.spec?.activeDeadlineSeconds, 90 + 1800);
  assert.equal(job.spec?.ttlSecondsAfterFinished, undefined, 'no TTL without remote output');
  const pod = job.spec?.template;
  assert.deepEqual(pod?.metadata?.annotations, {
    'retina-capture-filename': 'cap-1-node-a-20261126050709UTC',
    'retina-capture-timestamp': '20261126050709UTC',
    'retina-capture-hostpath': '/var/log/retina/captures/retina',
  });
  assert.equal(pod?.spec?.hostIPC, undefined);
  const env = envOf(job);
  assert.equal(
    env.TCPDUMP_FILTER,
    '(((port 443) or (host 10.0.0.1 and port 80) or (host fd00::1 and port 53)) and not ((host 10.0.0.9))) and ((host 10.244.1.20 or host 10.244.1.10))',
  );
  assert.equal(env.PCAP_FILTER, '(tcp) and ((src host 10.0.0.1) and (dst host 10.0.0.2 or dst host 10.0.0.3))');
  assert.equal(env.CAPTURE_DURATION, '1m30s');
  assert.equal(env.CAPTURE_INTERFACES, 'eth0,cilium_host');
  assert.equal(env.HOSTPATH, '/var/log/retina/captures/retina');
  assert.equal(env.RCAP_TARGET_PODS, undefined, 'node mode has no pod list');
  // Dual-stack pod: both addresses filtered.
  assert.match(envOf(jobs[1] as V1Job).TCPDUMP_FILTER ?? '', /host 10\.244\.2\.11 or host fd00:10:244:2::11/);
  assert.deepEqual(
    jobs[1]?.spec?.template.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms,
    [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-b.internal'] }] }],
  );
});

test('least privilege: NET_RAW + NET_ADMIN only, everything else dropped, no SYS_ADMIN, no token', () => {
  const [job] = build(baseRequest());
  const c = job?.spec?.template.spec?.containers[0];
  assert.deepEqual(c?.securityContext?.capabilities, { add: ['NET_RAW', 'NET_ADMIN'], drop: ['ALL'] });
  assert.equal(c?.securityContext?.privileged, false);
  assert.equal(c?.securityContext?.allowPrivilegeEscalation, false);
  assert.equal(job?.spec?.template.spec?.automountServiceAccountToken, false);
  assert.equal(c?.terminationMessagePolicy, 'File');
});

test('blob output: Secret mounted read-only, TTL with cleanup-after-upload, Secret shape', () => {
  const req = baseRequest({
    outputs: { blob: { sasUrl: FAKE_SAS } },
    options: withDefaultOptions({ durationSeconds: 600, cleanupAfterUpload: true }),
  });
  assert.throws(() => build(req), /blobSecretName/);
  const jobs = build(req, { blobSecretName: 'capture-blob-upload-secretx7k2p' });
  assertGolden('jobs-blob', jobs);
  assert.equal(jobs[0]?.spec?.ttlSecondsAfterFinished, 300);
  assert.deepEqual(jobs[0]?.spec?.template.spec?.containers[0]?.volumeMounts, [
    { name: 'capture-blob-upload-secretx7k2p', mountPath: '/etc/blob-upload-secret', readOnly: true },
  ]);
  assert.ok(!JSON.stringify(jobs).includes('FAKESIGNATURE'), 'the SAS never appears in a Job');
  assert.equal(jobs[0]?.spec?.template.metadata?.annotations?.['retina-capture-hostpath'], undefined);

  const plan = planCapture(req, snapshot(), { now: NOW });
  const secret = buildBlobSecret(plan, FAKE_SAS);
  assertGolden('secret-blob', secret);
  assert.equal(secret.metadata?.generateName, 'capture-blob-upload-secret');
  assert.deepEqual(secret.metadata?.labels, jobs[0]?.metadata?.labels);
});

test('host path and blob together', () => {
  const req = baseRequest({
    targets: [{ kind: 'nodeSelector', labels: 'pool=blue' }],
    outputs: { hostPath: { subPath: 'team-a/incident-42' }, blob: { sasUrl: FAKE_SAS } },
    options: withDefaultOptions({ durationSeconds: 3600, cleanupAfterUpload: true, includeMetadata: false }),
  });
  const jobs = build(req, { blobSecretName: 'capture-blob-upload-secretabcde' });
  assertGolden('jobs-hostpath-blob', jobs);
  assert.equal(envOf(jobs[0] as V1Job).TCPDUMP_FILTER, undefined, 'whole node, no filter');
  assert.equal(envOf(jobs[0] as V1Job).INCLUDE_METADATA, 'false');
});

test('pod-precise mode: RCAP_TARGET_PODS per node, pod IPs still filtered for fallback', () => {
  const req = baseRequest({
    mode: 'pod',
    targets: [
      { kind: 'pod', namespace: 'shop', name: 'web-0' },
      { kind: 'pod', namespace: 'pay', name: 'api-7d9-x' },
      { kind: 'pod', namespace: 'shop', name: 'web-1' },
    ],
  });
  const jobs = build(req);
  assertGolden('jobs-pod-mode', jobs);
  assert.deepEqual(JSON.parse(envOf(jobs[0] as V1Job).RCAP_TARGET_PODS ?? ''), [
    { namespace: 'pay', name: 'api-7d9-x', ip: '10.244.1.20' },
    { namespace: 'shop', name: 'web-0', ip: '10.244.1.10' },
  ]);
});

test('s3 and pvc outputs mount where Retina mounts them', () => {
  const req = baseRequest({
    outputs: {
      pvc: 'captures',
      s3: { bucket: 'b', accessKeyId: 'AKIAFAKE', secretAccessKey: 'SECRETFAKE', endpoint: 'https://s3.example.com' },
    },
  });
  const [job] = build(req, { s3SecretName: 'capture-s3-upload-secretq' });
  assert.deepEqual(
    job?.spec?.template.spec?.containers[0]?.volumeMounts?.map((m) => m.mountPath),
    ['/etc/s3-upload-secret', '/mnt/azure'],
  );
  assert.ok(!JSON.stringify(job).includes('SECRETFAKE'));
  const env = envOf(job as V1Job);
  assert.equal(env.PERSISTENT_VOLUME_CLAIM, 'captures');
  assert.equal(env.S3_BUCKET, 'b');
  const s = buildS3Secret({ name: 'cap-1', namespace: 'default' }, req.outputs.s3!);
  assert.deepEqual(Object.keys(s.stringData ?? {}), ['s3-access-key-id', 's3-secret-access-key']);
});

test('ownerReferencesFor: one reference per created Job; refuses Jobs not yet created', () => {
  const jobs = build(baseRequest({ targets: [{ kind: 'nodeSelector', labels: 'pool=blue' }] }));
  assert.throws(() => ownerReferencesFor(jobs), /created Jobs/);
  jobs.forEach((j, i) => {
    j.metadata = { ...j.metadata, name: `cap-1-${i}`, uid: `uid-${i}` };
  });
  assert.deepEqual(ownerReferencesFor(jobs), [
    { apiVersion: 'batch/v1', kind: 'Job', name: 'cap-1-0', uid: 'uid-0' },
    { apiVersion: 'batch/v1', kind: 'Job', name: 'cap-1-1', uid: 'uid-1' },
  ]);
});

test('host path resolves under the base dir', () => {
  assert.equal(resolveHostPath('retina'), '/var/log/retina/captures/retina');
  assert.equal(resolveHostPath('./a//b/'), '/var/log/retina/captures/a/b/');
  assert.equal(resolveHostPath('x', '/data'), '/data/x');
});

test('Capture resource: nodes by hostname, pods by name, refusals explained', () => {
  const nodesReq = baseRequest({
    targets: [{ kind: 'nodeSelector', labels: 'pool=blue' }],
    outputs: { hostPath: { subPath: 'retina' }, blob: { sasUrl: FAKE_SAS } },
    options: withDefaultOptions({ durationSeconds: 120, include: ['10.0.0.1:80'], filter: 'tcp', snapLength: 96 }),
  });
  const plan = planCapture(nodesReq, snapshot(), { now: NOW });
  const r = buildCaptureResource(plan, nodesReq, { blobSecretName: 'capture-blob-upload-secretabcde' });
  assert.ok('resource' in r);
  assertGolden('capture-resource-nodes', r);

  const podsReq = baseRequest({ namespace: 'shop', targets: [{ kind: 'podSelector', podLabels: 'app=web' }] });
  const pr = buildCaptureResource(planCapture(podsReq, snapshot(), { now: NOW }), podsReq);
  assert.ok('resource' in pr);
  assert.deepEqual(pr.resource.spec.captureConfiguration.captureTarget, { podNames: ['web-0', 'web-1'] });

  const foreign = baseRequest({ targets: [{ kind: 'pod', namespace: 'shop', name: 'web-0' }] });
  const fr = buildCaptureResource(planCapture(foreign, snapshot(), { now: NOW }), foreign);
  assert.ok(!('resource' in fr));
  assert.match(fr.problems[0]?.message ?? '', /only in its own namespace \(default\)/);
});

// ---- one copy of the contract ----

const here = path.dirname(fileURLToPath(import.meta.url));
const srcDirs = ['../../../src/capture', '../../../src/storage'].map((d) => path.join(here, d));

function contractStrings(): Set<string> {
  const values = new Set<string>();
  for (const v of Object.values(contract)) {
    if (typeof v === 'string') values.add(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) if (typeof x === 'string') values.add(x);
  }
  // Generic words that legitimately appear in other roles (e.g. the `capture` container is CONTAINER_NAME,
  // but 'capture' is also an English word in messages): only distinctive names are checked.
  for (const generic of ['capture', 'download', 'hostpath']) values.delete(generic);
  return values;
}

test('labels, annotations, env names and paths come from src/contract (no second copy)', () => {
  const values = contractStrings();
  assert.ok(values.has('CAPTURE_NAME') && values.has('retina.sh/app') && values.has('/etc/blob-upload-secret'));
  const offenders: string[] = [];
  for (const dir of srcDirs) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      // Comments may quote contract values when explaining them; only code counts.
      const text = readFileSync(path.join(dir, f), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .split('\n')
        .filter((l) => !l.trim().startsWith('//'))
        .map((l) => l.replace(/\s\/\/ .*$/, ''))
        .join('\n');
      for (const m of text.matchAll(/'([^'\\\n]*)'|"([^"\\\n]*)"|`([^`$\\\n]*)`/g)) {
        const s = m[1] ?? m[2] ?? m[3] ?? '';
        if (values.has(s)) offenders.push(`${f}: '${s}'`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

test('every env name, label and annotation in the Jobs is a contract name', () => {
  const req = podSelectorRequest({
    mode: 'pod',
    outputs: { hostPath: { subPath: 'r' }, blob: { sasUrl: FAKE_SAS }, pvc: 'p' },
  });
  const jobs = build(req, { blobSecretName: 's' });
  const envNames = new Set<string>(Object.values(contract.ENV));
  const labelKeys = new Set([contract.LABEL_APP, contract.LABEL_CAPTURE_NAME, contract.LABEL_CREATED_BY]);
  const annotationKeys = new Set([
    contract.ANNOTATION_FILENAME,
    contract.ANNOTATION_TIMESTAMP,
    contract.ANNOTATION_HOSTPATH,
    contract.ANNOTATION_REQUEST,
  ]);
  for (const j of jobs) {
    for (const e of j.spec?.template.spec?.containers[0]?.env ?? []) assert.ok(envNames.has(e.name), e.name);
    for (const k of [
      ...Object.keys(j.metadata?.labels ?? {}),
      ...Object.keys(j.spec?.template.metadata?.labels ?? {}),
    ]) {
      assert.ok(labelKeys.has(k), k);
    }
    for (const k of [
      ...Object.keys(j.metadata?.annotations ?? {}),
      ...Object.keys(j.spec?.template.metadata?.annotations ?? {}),
    ]) {
      assert.ok(annotationKeys.has(k), k);
    }
  }
});
