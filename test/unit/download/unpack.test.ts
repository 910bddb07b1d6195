import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, lstatSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { checkEntryPath, UnpackError, unpackArchive } from '../../../src/download/unpack.js';
import { file, happyArchive, hostileCorpus, tarGz } from './corpus/build.js';

/** Every path under root with type and size: what "nothing written outside" is checked against. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      out.push(
        `${path.relative(root, p)} ${st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f'} ${st.isDirectory() ? 0 : st.size}`,
      );
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

const sandbox = mkdtempSync(path.join(os.tmpdir(), 'unpack-corpus-'));
const outside = path.join(sandbox, 'outside');
const parent = path.join(sandbox, 'parent');
const target = path.join(parent, 'target');
mkdirSync(outside, { recursive: true });
mkdirSync(target, { recursive: true });
writeFileSync(path.join(outside, 'marker.txt'), 'untouched');

test.after(() => rmSync(sandbox, { recursive: true, force: true }));

const passwdBefore = readFileSync('/etc/passwd');

for (const c of hostileCorpus(outside)) {
  test(`hostile: ${c.name}`, async () => {
    const before = snapshot(sandbox);
    const archivePath = path.join(os.tmpdir(), `corpus-${process.pid}-${Math.random().toString(36).slice(2)}.tar.gz`);
    writeFileSync(archivePath, c.archive);
    try {
      await assert.rejects(unpackArchive(archivePath, target, c.limits ?? {}), (err: unknown) => {
        assert.ok(err instanceof UnpackError, `expected UnpackError, got ${String(err)}`);
        assert.match(err.message, c.rule);
        if (c.entry) {
          assert.equal(err.entry, c.entry);
          assert.ok(err.message.startsWith(`archive entry ${c.entry}: `), err.message);
        }
        return true;
      });
    } finally {
      rmSync(archivePath, { force: true });
    }
    assert.deepEqual(snapshot(sandbox), before, 'something was written (or left) outside');
    assert.deepEqual(readdirSync(target), [], 'partial folder not removed');
    assert.deepEqual(readFileSync('/etc/passwd'), passwdBefore);
    assert.equal(readFileSync(path.join(outside, 'marker.txt'), 'utf8'), 'untouched');
  });
}

test('happy path: files, dirs, manifest verified, private folder', async () => {
  const { archive, files } = happyArchive();
  const res = await unpackArchive(
    Readable.from([archive.subarray(0, 1), archive.subarray(1, 5000), archive.subarray(5000)]),
    target,
    {},
    undefined,
    {
      prefix: 'node-1-',
    },
  );
  try {
    assert.ok(res.dir.startsWith(path.join(target, 'node-1-')));
    assert.equal(statSync(res.dir).mode & 0o777, 0o700);
    assert.ok(res.manifest);
    assert.equal(res.manifest.files.length, Object.keys(files).length);
    for (const [p, b] of Object.entries(files)) {
      assert.deepEqual(readFileSync(path.join(res.dir, p)), b, p);
      const f = res.files.find((x) => x.path === p);
      assert.ok(f, p);
      assert.equal(f.bytes, b.length);
      assert.equal(f.sha256, createHash('sha256').update(b).digest('hex'));
    }
    assert.ok(res.files.some((f) => f.path === 'manifest.json'));
  } finally {
    rmSync(res.dir, { recursive: true, force: true });
  }
});

test('plain (not gzipped) tar and an archive without manifest', async () => {
  const plain = Buffer.concat([file('a.txt', 'aaa'), Buffer.alloc(1024)]);
  const res = await unpackArchive(Readable.from([plain]), target);
  try {
    assert.equal(res.manifest, undefined);
    assert.deepEqual(
      res.files.map((f) => [f.path, f.bytes]),
      [['a.txt', 3]],
    );
  } finally {
    rmSync(res.dir, { recursive: true, force: true });
  }
});

test('abort mid-stream removes the partial folder', async () => {
  const big = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  const archive = tarGz(file('one.bin', big), file('two.bin', big));
  const ac = new AbortController();
  let fed = 0;
  const src = new Readable({
    read() {
      if (fed >= archive.length) return this.push(null);
      const n = Math.min(16 * 1024, archive.length - fed);
      this.push(archive.subarray(fed, fed + n));
      fed += n;
      if (fed > archive.length / 2) ac.abort(new Error('user cancelled'));
    },
  });
  await assert.rejects(unpackArchive(src, target, {}, ac.signal), /user cancelled/);
  assert.deepEqual(readdirSync(target), []);
});

test('already-aborted signal creates nothing', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(unpackArchive(Readable.from([Buffer.alloc(10)]), target, {}, ac.signal));
  assert.deepEqual(readdirSync(target), []);
});

test('entry paths: the same rules on every platform, Windows names refused under Windows rules', () => {
  for (const raw of ['..\\..\\x', 'a\\b', 'C:x', 'c:/x', '/etc/x', 'a/../../x', 'a\u202eb', 'a\u0085b', 'a\u007fb']) {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      assert.throws(() => checkEntryPath(raw, 16, platform), UnpackError, `${JSON.stringify(raw)} on ${platform}`);
    }
  }
  for (const raw of ['con', 'NUL.txt', 'file.txt:stream', 'trailing.', 'trailing ', 'a|b']) {
    assert.throws(() => checkEntryPath(raw, 16, 'win32'), /not a valid Windows file name/, raw);
  }
  for (const parts of [checkEntryPath('proc-net/dev', 16, 'win32'), checkEntryPath('./a/b.pcapng', 16, 'linux')]) {
    const dir = path.win32.resolve('C:\\dl\\unpack-x');
    assert.ok(path.win32.resolve(dir, ...parts).startsWith(dir + '\\'));
    assert.ok(path.posix.resolve('/dl/unpack-x', ...parts).startsWith('/dl/unpack-x/'));
  }
});
