import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  errorFromCredentials,
  errorFromNetwork,
  errorFromResponse,
  parseRetryAfter,
} from '../../../src/kube/errors.js';
import { backoffDelay, BACKOFF_CAP_MS, RETRY_AFTER_CAP_MS } from '../../../src/kube/backoff.js';

// A Status body as kube-apiserver sends it for a denied create.
const FORBIDDEN = {
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  message:
    'jobs.batch is forbidden: User "retina-limited" cannot create resource "jobs" in API group "batch" in the namespace "prod"',
  reason: 'Forbidden',
  details: { group: 'batch', kind: 'jobs' },
  code: 403,
};

test('403 names verb, resource and namespace and is not retryable', () => {
  const e = errorFromResponse(403, FORBIDDEN, { verb: 'create', resource: 'jobs.batch', namespace: 'prod' });
  assert.equal(e.kind, 'forbidden');
  assert.match(e.message, /You cannot create jobs\.batch in namespace prod/);
  assert.match(e.message, /Ask a cluster admin/);
  assert.equal(e.retryable, false);
});

test('status codes map to kinds; 429 and 5xx carry Retry-After', () => {
  const ctx = { verb: 'list', resource: 'pods' };
  assert.equal(errorFromResponse(401, {}, ctx).kind, 'unauthorized');
  assert.equal(errorFromResponse(404, {}, ctx).kind, 'notFound');
  assert.equal(errorFromResponse(409, {}, ctx).kind, 'conflict');
  assert.equal(errorFromResponse(410, {}, ctx).kind, 'gone');
  const inv = errorFromResponse(
    422,
    { message: 'x', details: { causes: [{ field: 'spec.containers[0].image', message: 'Required value' }] } },
    ctx,
  );
  assert.equal(inv.kind, 'invalid');
  assert.match(inv.message, /spec\.containers\[0\]\.image: Required value/);
  const tmr = errorFromResponse(429, {}, ctx, '3');
  assert.equal(tmr.kind, 'tooManyRequests');
  assert.equal(tmr.retryAfterMs, 3000);
  assert.ok(tmr.retryable);
  assert.equal(errorFromResponse(503, 'upstream', ctx).kind, 'unavailable');
  assert.equal(errorFromResponse(504, {}, ctx).kind, 'timeout');
});

test('Retry-After as seconds or HTTP date', () => {
  assert.equal(parseRetryAfter('2'), 2000);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(parseRetryAfter('soon'), undefined);
});

test('network errors and failing exec plugins get clear messages', () => {
  const refused = errorFromNetwork(
    Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    { verb: 'list' },
    'https://x:443',
  );
  assert.equal(refused.kind, 'network');
  assert.match(refused.message, /Cannot reach the API server at https:\/\/x:443/);
  const missing = errorFromCredentials(
    Object.assign(new Error('spawn kubelogin ENOENT'), { code: 'ENOENT' }),
    'aks',
    'kubelogin',
  );
  assert.equal(missing.kind, 'config');
  assert.match(missing.message, /credential plugin "kubelogin" of context "aks" was not found.*Install kubelogin/);
  const failed = errorFromCredentials(
    new Error('AADSTS70043: The refresh token has expired'),
    'aks',
    '/usr/local/bin/kubelogin',
  );
  assert.equal(failed.kind, 'unauthorized');
  assert.match(failed.message, /AADSTS70043.*az login/);
});

test('secrets in server messages are redacted', () => {
  const e = errorFromResponse(
    400,
    { message: 'bad url https://a.blob.core.windows.net/c?sv=1&sig=SECRET123' },
    { verb: 'create', resource: 'secrets' },
  );
  assert.doesNotMatch(e.message, /SECRET123/);
});

test('backoff is capped, jittered, and honours (bounded) Retry-After', () => {
  assert.equal(
    backoffDelay(0, undefined, () => 1),
    250,
  );
  assert.equal(
    backoffDelay(0, undefined, () => 0),
    125,
  );
  assert.equal(
    backoffDelay(30, undefined, () => 1),
    BACKOFF_CAP_MS,
  );
  assert.equal(
    backoffDelay(0, 5000, () => 0),
    5000,
  );
  assert.equal(
    backoffDelay(0, 3_600_000, () => 0),
    RETRY_AFTER_CAP_MS,
  );
});
