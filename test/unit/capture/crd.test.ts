// The Capture resource we build against the CRD schema the integration test installs (written
// from Retina's CRD): every field we write is declared there, the duration matches Retina's
// pattern, and the blob Secret is referenced by name as Retina's operator looks it up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadYaml } from '@kubernetes/client-node';
import { buildCaptureResource } from '../../../src/capture/crd.js';
import { planCapture } from '../../../src/capture/plan.js';
import { withDefaultOptions } from '../../../src/capture/request.js';
import { validateRequest } from '../../../src/capture/validate.js';
import { FAKE_SAS, NOW, baseRequest, snapshot } from './fixtures.js';

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  pattern?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}
const here = path.dirname(fileURLToPath(import.meta.url));
const crd = loadYaml<{ spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } }>(
  readFileSync(path.join(here, '../../support/retina-captures-crd.yaml'), 'utf8'),
);
const root = crd.spec.versions[0]?.schema.openAPIV3Schema as Schema;

/** Paths of `value` that the schema does not declare (preserve-unknown-fields does not count). */
function undeclared(value: unknown, schema: Schema, at = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => undeclared(v, schema.items ?? {}, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const sub = schema.properties?.[k] ?? schema.additionalProperties;
    return sub ? undeclared(v, sub, `${at}.${k}`) : [`${at}.${k}`];
  });
}

test('the built Capture only uses fields of the CRD schema; duration and Secret as Retina expects', () => {
  const req = baseRequest({
    targets: [{ kind: 'node', name: 'node-a' }],
    outputs: { hostPath: { subPath: 'retina' }, blob: { sasUrl: FAKE_SAS } },
    options: withDefaultOptions({
      durationSeconds: 90,
      include: ['10.0.0.1:80'],
      exclude: ['*:22'],
      filter: 'tcp',
      snapLength: 96,
      sourceIPs: ['10.0.0.2'],
      interfaces: ['eth0'],
      fileCount: 3,
      cleanupAfterUpload: true,
    }),
  });
  const r = buildCaptureResource(planCapture(req, snapshot(), { now: NOW }), req, {
    blobSecretName: 'capture-blob-upload-secretx1y2z',
  });
  assert.ok('resource' in r, JSON.stringify(r.problems));
  assert.deepEqual(undeclared({ spec: r.resource.spec }, root), []);
  const pattern = new RegExp(
    root.properties?.spec?.properties?.captureConfiguration?.properties?.captureOption?.properties?.duration
      ?.pattern as string,
  );
  assert.equal(r.resource.spec.captureConfiguration.captureOption.duration, '1m30s');
  assert.match(r.resource.spec.captureConfiguration.captureOption.duration, pattern);
  assert.equal(r.resource.spec.outputConfiguration.blobUpload, 'capture-blob-upload-secretx1y2z');
  assert.ok(!JSON.stringify(r.resource).includes(FAKE_SAS), 'the SAS URL stays in the Secret');
});

test('via is validated', () => {
  assert.deepEqual(validateRequest(baseRequest({ via: 'captureResource' }), { now: NOW }), []);
  const bad = validateRequest(baseRequest({ via: 'operator' as never }), { now: NOW });
  assert.equal(bad[0]?.field, 'via');
});
