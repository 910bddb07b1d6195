// The worker image and the staged runtime the tests and bench:worker use must be the same Node:
// worker/Dockerfile's NODE_VERSION = NODE24_VERSION of scripts/node24.sh (the one pin).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKER_NODE_FLAGS } from '../../support/workerRuntime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dockerfile = readFileSync(path.join(root, 'worker/Dockerfile'), 'utf8');
const node24 = readFileSync(path.join(root, 'scripts/node24.sh'), 'utf8');

test('worker/Dockerfile pins the Node version of scripts/node24.sh, an exact 24.x', () => {
  const pinned = /^NODE24_VERSION="\$\{NODE24_VERSION:-(\d+\.\d+\.\d+)\}"$/m.exec(node24)?.[1];
  const image = /^ARG NODE_VERSION=(\S+)$/m.exec(dockerfile)?.[1];
  assert.ok(pinned, 'NODE24_VERSION default in scripts/node24.sh');
  assert.match(pinned, /^24\.\d+\.\d+$/);
  assert.equal(image, pinned);
});

test('both Dockerfile stages run on that version', () => {
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(froms, ['node:${NODE_VERSION}-bookworm-slim', 'node:${NODE_VERSION}-bookworm-slim']);
});

test('the image runs the worker with the Node flags the staged runtime uses', () => {
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  assert.ok(entry, 'ENTRYPOINT in exec form');
  assert.deepEqual(JSON.parse(entry), [
    '/bin/sh',
    '/app/rcap-init.sh',
    'node',
    ...WORKER_NODE_FLAGS,
    '/app/worker.cjs',
  ]);
});
