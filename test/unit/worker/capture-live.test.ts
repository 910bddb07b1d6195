// Pure helpers of worker/src/capture/live.ts (the live capture itself is covered by
// test/integration/worker/live-capture.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EPB_OVERHEAD,
  FULL_SNAPLEN,
  classifyOpenError,
  dltToLinkType,
  recordBufferSize,
  validateFilter,
} from '../../../worker/src/capture/live.js';

test('classifyOpenError maps libpcap stages, status codes and texts to kinds', () => {
  assert.equal(classifyOpenError('filter', -1, "can't parse filter expression: syntax error"), 'filter');
  assert.equal(classifyOpenError('activate', -5, 'eth9: No such device exists'), 'device');
  assert.equal(classifyOpenError('activate', -9, 'eth0: interface not up'), 'device');
  assert.equal(classifyOpenError('activate', -8, 'socket: Operation not permitted'), 'permission');
  assert.equal(classifyOpenError('activate', -1, 'socket: Operation not permitted'), 'permission');
  assert.equal(classifyOpenError('create', -1, 'No such device exists'), 'device');
  assert.equal(classifyOpenError(undefined, undefined, 'something else'), 'other');
});

test('dltToLinkType: identical except raw IP', () => {
  assert.equal(dltToLinkType(1), 1);
  assert.equal(dltToLinkType(113), 113);
  assert.equal(dltToLinkType(12), 101);
  assert.equal(dltToLinkType(14), 101);
});

test('recordBufferSize always holds one full packet', () => {
  assert.equal(recordBufferSize(0), Math.max(1024 * 1024, EPB_OVERHEAD + FULL_SNAPLEN));
  assert.equal(recordBufferSize(64, 4096), 4096);
  assert.equal(recordBufferSize(65535, 1000), EPB_OVERHEAD + 65536);
  assert.equal(recordBufferSize(0, 1000), EPB_OVERHEAD + FULL_SNAPLEN);
});

test('validateFilter compiles without a device and returns libpcap text on error', () => {
  assert.equal(validateFilter('tcp port 443 or udp port 53'), undefined);
  assert.equal(validateFilter('   '), undefined);
  assert.equal(validateFilter('host 10.0.0.1 and'), "can't parse filter expression: syntax error");
  assert.match(validateFilter('port 99999') ?? '', /port/);
});
