import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants } from 'node:zlib';
import { gzipOptionsFor, startArchive } from '../../../worker/src/archive.js';
import { copyInto, publish, tempPathFor } from '../../../worker/src/outputs/hostpath.js';

test('archive: relative entries at the root, sha256 of the bytes written, temp name then rename', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rcx-arch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const work = path.join(dir, 'work');
  const out = path.join(dir, 'out');
  mkdirSync(path.join(work, 'proc-net'), { recursive: true });
  mkdirSync(out);
  writeFileSync(path.join(work, 'c-n-ts.pcapng'), randomBytes(5000));
  writeFileSync(path.join(work, 'proc-net', 'dev'), 'eth0: 1 2 3\n');
  writeFileSync(path.join(work, 'manifest.json'), '{}\n');
  const tmp = tempPathFor(out, 'c-n-ts.tar.gz');
  const a = await startArchive(work, tmp);
  a.add(['c-n-ts.pcapng']);
  a.add(['proc-net']);
  a.add(['manifest.json']);
  const r = await a.finish();
  const final = await publish(tmp, out, 'c-n-ts.tar.gz');
  assert.equal(r.sha256, createHash('sha256').update(readFileSync(final)).digest('hex'));
  const entries = execFileSync('tar', ['-tzf', final], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(entries[0], 'c-n-ts.pcapng', 'the capture is packed first');
  assert.deepEqual(entries.sort(), ['c-n-ts.pcapng', 'manifest.json', 'proc-net/', 'proc-net/dev']);
  const copy = await copyInto(final, path.join(dir), 'copy.tar.gz');
  assert.equal(readFileSync(copy).length, r.bytes);
  assert.deepEqual(execFileSync('ls', ['-A', out], { encoding: 'utf8' }).trim(), 'c-n-ts.tar.gz');
});

test('gzip settings follow capture size and compressibility', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rcx-gz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rnd = path.join(dir, 'rnd');
  const txt = path.join(dir, 'txt');
  writeFileSync(rnd, randomBytes(3 << 20));
  writeFileSync(txt, Buffer.alloc(3 << 20, 'GET /index.html HTTP/1.1\r\nHost: example\r\n'));
  assert.deepEqual(gzipOptionsFor(1000, rnd), { level: 1 });
  assert.deepEqual(gzipOptionsFor(100 << 20, rnd), { level: 0 });
  assert.deepEqual(gzipOptionsFor(100 << 20, txt), { level: 1, strategy: constants.Z_HUFFMAN_ONLY });
});
