import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  archiveName,
  captureTimestamp,
  fitResult,
  formatGoDuration,
  parseArchiveName,
  parseCaptureTimestamp,
  parseGoDuration,
  parseResult,
  redact,
  type WorkerResult,
} from '../../../src/contract/index.js';

test('capture timestamp round-trips and matches Retina format', () => {
  const d = new Date(Date.UTC(2026, 10, 26, 5, 7, 9));
  assert.equal(captureTimestamp(d), '20261126050709UTC');
  assert.equal(parseCaptureTimestamp('20261126050709UTC')?.getTime(), d.getTime());
  assert.equal(parseCaptureTimestamp('2026112605070UTC'), undefined);
});

test('archive names split back even when node names contain dashes', () => {
  const name = archiveName('cap-1', 'aks-nodepool1-123-vmss000000', '20261126050709UTC');
  assert.equal(name, 'cap-1-aks-nodepool1-123-vmss000000-20261126050709UTC.tar.gz');
  assert.deepEqual(parseArchiveName(name, 'cap-1'), {
    node: 'aks-nodepool1-123-vmss000000',
    timestamp: '20261126050709UTC',
  });
  assert.equal(parseArchiveName(name, 'cap-2'), undefined);
  assert.equal(parseArchiveName('cap-1-node.tar.gz', 'cap-1'), undefined);
});

test('Go durations parse and format', () => {
  assert.equal(parseGoDuration('1m30s'), 90_000);
  assert.equal(parseGoDuration('1h'), 3_600_000);
  assert.equal(parseGoDuration('250ms'), 250);
  assert.equal(parseGoDuration('1.5s'), 1500);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('90'), undefined);
  assert.equal(parseGoDuration('1m30'), undefined);
  assert.equal(parseGoDuration('-1s'), undefined);
  assert.equal(parseGoDuration(''), undefined);
  assert.equal(formatGoDuration(90), '1m30s');
  assert.equal(formatGoDuration(3600), '1h');
  assert.equal(formatGoDuration(0), '0s');
});

test('redact removes SAS signatures, account keys and tokens', () => {
  const url = 'https://acct.blob.core.windows.net/c?sv=2024&sp=cw&sig=abc%2Fdef%3D&se=2026';
  const out = redact(`upload to ${url}`);
  assert.ok(!out.includes('abc%2Fdef'), out);
  assert.ok(out.includes('sig=REDACTED&se=2026'));
  assert.ok(!redact('DefaultEndpointsProtocol=https;AccountKey=SECRETKEY==;').includes('SECRETKEY'));
  assert.ok(!redact('Authorization: Bearer eyJhbGciOi.abc.def').includes('eyJhbGciOi'));
  assert.ok(!redact('{"token":"t0psecret"}').includes('t0psecret'));
});

test('result JSON always fits the termination message', () => {
  const big: WorkerResult = {
    v: 1,
    status: 'partial',
    exitCode: 0,
    capture: 'c',
    node: 'n',
    workerVersion: '0.1.0',
    interfaces: Array.from({ length: 200 }, (_, i) => ({ name: `veth${i}`, packets: i, dropped: 0, ifDropped: 0 })),
    warnings: Array.from({ length: 50 }, () => 'w'.repeat(300)),
  };
  const text = fitResult(big);
  assert.ok(text.length <= 4096);
  assert.equal(parseResult(text)?.status, 'partial');
  assert.equal(parseResult('not json'), undefined);
});
