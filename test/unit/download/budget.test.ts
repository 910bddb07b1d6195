// Unpack disk budget: per archive, per capture (shared by every archive of a download) and the
// free space of the target's filesystem minus a margin; bombs are made on the fly, limits small.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { DiskBudget, UnpackError, unpackArchive } from '../../../src/download/unpack.js';
import { file, tarGz } from './corpus/build.js';

const MiB = 1024 * 1024;
const root = mkdtempSync(path.join(os.tmpdir(), 'unpack-budget-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

function freshTarget(): string {
  return mkdtempSync(path.join(root, 't-'));
}

/** Incompressible, so only the byte budgets (not the ratio guard) can stop it. */
function noise(n: number): Buffer {
  return randomBytes(n);
}

test('a gzip bomb (zeros, ~1000:1) stops at the ratio guard after ~1 MiB, nothing left', async () => {
  const target = freshTarget();
  const bomb = gzipSync(Buffer.concat([file('bomb.pcapng', Buffer.alloc(64 * MiB)), Buffer.alloc(1024)]));
  assert.ok(bomb.length < 100 * 1024, `bomb is ${bomb.length} bytes`);
  await assert.rejects(unpackArchive(Readable.from([bomb]), target), (err: unknown) => {
    assert.ok(err instanceof UnpackError);
    assert.match(err.message, /compression ratio over 500:1/);
    return true;
  });
  assert.deepEqual(readdirSync(target), []);
});

test('the ratio limit is an option; a plain tar is never judged by it', async () => {
  const target = freshTarget();
  const ten = tarGz(file('ten.bin', Buffer.alloc(2 * MiB, 1)));
  await assert.rejects(
    unpackArchive(Readable.from([ten]), target, { maxCompressionRatio: 50, ratioCheckAfterBytes: 64 * 1024 }),
    /compression ratio over 50:1/,
  );
  const plain = Buffer.concat([file('zeros.bin', Buffer.alloc(2 * MiB)), Buffer.alloc(1024)]);
  const res = await unpackArchive(Readable.from([plain]), target, { maxCompressionRatio: 2 });
  assert.equal(res.files[0]?.bytes, 2 * MiB);
  rmSync(res.dir, { recursive: true });
});

test('free space minus the margin bounds an archive; a disk already too full fails before creating anything', async () => {
  const target = freshTarget();
  const archive = tarGz(file('a.bin', noise(3 * MiB)));
  const freeSpace = async (): Promise<number> => 2 * MiB + 512 * 1024;
  await assert.rejects(
    unpackArchive(Readable.from([archive]), target, { minFreeBytes: MiB }, undefined, { freeSpace }),
    /would leave less than 1\.0 MiB free on the download folder's disk.*retinaCapture\.downloadFolder/,
  );
  assert.deepEqual(readdirSync(target), []);
  await assert.rejects(
    unpackArchive(Readable.from([archive]), target, { minFreeBytes: 4 * MiB }, undefined, { freeSpace }),
    /only 2\.5 MiB free .* 4\.0 MiB must stay free/,
  );
  assert.deepEqual(readdirSync(target), []);
});

test('the real statfs is asked: a margin larger than any disk refuses the unpack', async () => {
  const target = freshTarget();
  await assert.rejects(
    unpackArchive(Readable.from([tarGz(file('a.txt', 'a'))]), target, { minFreeBytes: 2 ** 60 }),
    /must stay free/,
  );
  assert.deepEqual(readdirSync(target), []);
});

test('one budget per capture: the archive that crosses it fails and its files are removed, the others stay', async () => {
  const target = freshTarget();
  const budget = new DiskBudget(5 * MiB, 0);
  const first = await unpackArchive(Readable.from([tarGz(file('n1.pcapng', noise(3 * MiB)))]), target, {}, undefined, {
    prefix: 'n1-',
    budget,
  });
  await assert.rejects(
    unpackArchive(Readable.from([tarGz(file('n2.pcapng', noise(3 * MiB)))]), target, {}, undefined, {
      prefix: 'n2-',
      budget,
    }),
    /archive entry n2\.pcapng: the capture's unpacked files exceed the 5242880-byte budget per capture/,
  );
  assert.deepEqual(readdirSync(target), [path.basename(first.dir)]);
  // What the failed archive wrote was given back: a smaller one still fits.
  const third = await unpackArchive(Readable.from([tarGz(file('n3.pcapng', noise(MiB)))]), target, {}, undefined, {
    prefix: 'n3-',
    budget,
  });
  assert.equal(third.files[0]?.bytes, MiB);
});

test('the merge (a second copy) is skipped with a reason when it would eat into the margin', async () => {
  const { mergeRoomProblem } = await import('../../../src/download/unpack.js');
  const free = async (): Promise<number> => 10 * MiB;
  assert.equal(await mergeRoomProblem('/dl/cap', 4 * MiB, 2 * MiB, free), undefined);
  assert.match(
    (await mergeRoomProblem('/dl/cap', 9 * MiB, 2 * MiB, free)) ?? '',
    /^not merged: the merged file needs about 9\.0 MiB and only 10 MiB is free .*per-node files are in \/dl\/cap$/,
  );
});
