import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import { gzipOptionsFor, startArchive } from '../../../worker/src/archive.js';
import { copyInto, publish, tempPathFor } from '../../../worker/src/outputs/hostpath.js';

test('archive: relative entries at the root, sha256 of the bytes written, temp name then rename', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rcx-arch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const work = path.join(dir, 'work');
  const out = path.join(dir, 'out');
  mkdirSync(work);
  mkdirSync(out);
  const pcap = randomBytes(5000);
  writeFileSync(path.join(work, 'c-n-ts.pcapng'), pcap);
  const tmp = tempPathFor(out, 'c-n-ts.tar.gz');
  const a = await startArchive(work, tmp);
  a.add(['c-n-ts.pcapng']);
  a.addData([{ path: 'proc-net/' }, { path: 'proc-net/dev', data: Buffer.from('eth0: 1 2 3\n') }]);
  // The file's SHA-256, from packing it (the manifest is made from it before being added last).
  assert.equal(await a.digest('c-n-ts.pcapng'), createHash('sha256').update(pcap).digest('hex'));
  await assert.rejects(a.digest('other.pcapng'), /was not added/);
  a.addData([{ path: 'manifest.json', data: Buffer.from('{}\n') }]);
  const r = await a.finish();
  const final = await publish(tmp, out, 'c-n-ts.tar.gz');
  assert.equal(r.sha256, createHash('sha256').update(readFileSync(final)).digest('hex'));
  const entries = execFileSync('tar', ['-tzf', final], { encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(entries, ['c-n-ts.pcapng', 'proc-net/', 'proc-net/dev', 'manifest.json'], 'in call order');
  assert.deepEqual(readdirSync(work), ['c-n-ts.pcapng'], 'memory entries leave no file behind');
  const copy = await copyInto(final, path.join(dir), 'copy.tar.gz');
  assert.equal(readFileSync(copy).length, r.bytes);
  assert.deepEqual(execFileSync('ls', ['-A', out], { encoding: 'utf8' }).trim(), 'c-n-ts.tar.gz');
});

interface Listed {
  path: string;
  type: string;
  mode?: number;
  size?: number;
  mtime: boolean;
  uid?: number;
  uname?: string;
  sha256?: string;
}

/** Every entry of a .tar.gz as node-tar's parser reads it, content hashed. */
async function list(file: string): Promise<Listed[]> {
  const { Parser } = await import('tar');
  const out: Listed[] = [];
  const p = new Parser();
  p.on('entry', (e) => {
    const h = createHash('sha256');
    e.on('data', (b: Buffer) => h.update(b));
    e.on('end', () =>
      out.push({
        path: e.path,
        type: e.type,
        mode: e.mode,
        size: e.size,
        mtime: !!e.mtime && e.mtime.getTime() > 0,
        uid: e.uid,
        uname: e.uname,
        ...(e.type === 'File' ? { sha256: h.digest('hex') } : {}),
      }),
    );
  });
  await pipeline(createReadStream(file), p as unknown as NodeJS.WritableStream);
  return out;
}

test('memory entries come out as node-tar Pack (portable) writes the same tree from disk, long paths too', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rcx-arch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const work = path.join(dir, 'work');
  // ustar fits 100-byte names (255 with its prefix field); beyond, a pax header carries the path.
  const deep = `proc-sys-net/${'d'.repeat(90)}/${'e'.repeat(90)}/${'f'.repeat(60)}/`;
  const longName = `proc-net/${'n'.repeat(150)}`;
  const mem = [
    { path: 'ip-resources.txt', data: Buffer.from('Summary:\n\nip -d -j addr show\n') },
    { path: 'proc-net/' },
    { path: 'proc-net/dev', data: Buffer.from('eth0: 1 2 3\n') },
    { path: 'proc-net/empty', data: Buffer.alloc(0) },
    { path: longName, data: randomBytes(1500) },
    { path: 'proc-sys-net/' },
    { path: `proc-sys-net/${'d'.repeat(90)}/` },
    { path: `proc-sys-net/${'d'.repeat(90)}/${'e'.repeat(90)}/` },
    { path: deep },
    { path: `${deep}value`, data: Buffer.from('1\n') },
    { path: 'manifest.json', data: Buffer.from('{"v":1}\n') },
  ];
  assert.ok(`${deep}value`.length > 255);
  mkdirSync(work);
  writeFileSync(path.join(work, 'c.pcapng'), randomBytes(70_000));
  for (const e of mem)
    if (e.data) {
      mkdirSync(path.dirname(path.join(work, e.path)), { recursive: true });
      writeFileSync(path.join(work, e.path), e.data);
    }

  const ours = path.join(dir, 'ours.tar.gz');
  const a = await startArchive(work, ours);
  a.add(['c.pcapng']);
  a.addData(mem);
  await a.finish();

  // The reference: what the worker wrote before (temp files packed by Pack), one entry at a time
  // so the order is the same.
  const { Pack } = await import('tar');
  const ref = path.join(dir, 'ref.tar.gz');
  const pack = new Pack({ cwd: work, portable: true, noDirRecurse: true });
  const written = pipeline(pack as unknown as NodeJS.ReadableStream, createGzip(), createWriteStream(ref));
  for (const p of ['c.pcapng', ...mem.map((e) => e.path)]) pack.add(p.replace(/\/$/, ''));
  pack.end();
  await written;

  const [got, want] = [await list(ours), await list(ref)];
  assert.deepEqual(got, want);
  assert.equal(got.length, mem.length + 1);
  assert.ok(got.some((e) => e.type === 'Directory' && !e.mtime && e.mode === 0o755));

  // GNU tar reads it the same way: paths (pax included) and contents.
  const x = path.join(dir, 'x');
  mkdirSync(x);
  execFileSync('tar', ['-xzf', ours, '-C', x]);
  for (const e of mem) if (e.data) assert.deepEqual(readFileSync(path.join(x, e.path)), e.data, e.path);
  assert.deepEqual(readFileSync(path.join(x, 'c.pcapng')), readFileSync(path.join(work, 'c.pcapng')));
});

test('archive: a file that is not regular, or an unsafe memory path, fails the archive', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rcx-arch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = await startArchive(dir, path.join(dir, 'a.tar.gz'));
  a.add(['missing.pcapng']);
  await assert.rejects(a.digest('missing.pcapng'), /ENOENT/, 'a waiting digest fails with the archive');
  await assert.rejects(a.finish(), /ENOENT/);
  const b = await startArchive(dir, path.join(dir, 'b.tar.gz'));
  b.addData([{ path: '../escape', data: Buffer.from('x') }]);
  await assert.rejects(b.finish(), /unsafe entry path/);
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

test('archive: a symlink planted at the temp name in the shared host folder is never followed', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rcx-plant-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const work = path.join(dir, 'work');
  const host = path.join(dir, 'host');
  mkdirSync(work);
  mkdirSync(host);
  writeFileSync(path.join(work, 'c.pcapng'), 'x');
  const victim = path.join(dir, 'victim');
  writeFileSync(victim, 'precious');
  // Temp names are random: a name planted in advance (the old `.partial-<pid>`) is not used.
  const a = tempPathFor(host, 'c-n-ts.tar.gz');
  assert.notEqual(a, tempPathFor(host, 'c-n-ts.tar.gz'));
  assert.ok(!a.endsWith(`.partial-${process.pid}`));
  // And should one exist anyway, the archive is not written through it.
  symlinkSync(victim, a);
  await assert.rejects(startArchive(work, a), /EEXIST/);
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  assert.ok(lstatSync(a).isSymbolicLink());
  assert.deepEqual(readdirSync(host), [path.basename(a)]);
});
