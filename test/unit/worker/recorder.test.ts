import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { enhancedPacket, LINKTYPE_ETHERNET } from '../../../src/pcap/format.js';
import { Recorder, rotatedName, type CaptureSource, type OpenOptions } from '../../../worker/src/recorder.js';
import { collectMetadata } from '../../../worker/src/metadata.js';

class FakeSource extends EventEmitter implements CaptureSource {
  readonly linkType = LINKTYPE_ETHERNET;
  readonly tsPrecision = 'nano' as const;
  readonly snapLength = 262144;
  sent = 0;
  closed = false;
  constructor(readonly opts: OpenOptions) {
    super();
  }
  /** Emits `n` 1000-byte frames as one chunk, like a pcap_dispatch batch. */
  push(n: number): void {
    const frame = Buffer.alloc(1000, 0x42);
    const base = 1_700_000_000_000_000_000n;
    const recs = Array.from({ length: n }, (_, k) =>
      enhancedPacket(this.opts.interfaceId, base + BigInt(this.sent + k) * 1000n, frame),
    );
    this.sent += n;
    this.emit('records', Buffer.concat(recs), n);
  }
  stats() {
    return { received: this.sent + 2, dropped: 2, ifDropped: 0 };
  }
  close(): void {
    if (!this.closed) this.push(1); // final flush inside close(), as LiveCapture does
    this.closed = true;
  }
}

function setup(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rcx-rec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sources: FakeSource[] = [];
  const open = (o: OpenOptions): FakeSource => {
    const s = new FakeSource(o);
    sources.push(s);
    return s;
  };
  return { dir, sources, open };
}

const plan = [
  { name: 'eth0', filter: 'udp', description: 'node=n1 if=eth0' },
  { name: 'veth1', filter: '', description: 'node=n1 if=veth1 pod=default/web-0', pod: 'default/web-0' },
];

test('rotation: numbered files in capture order, newest N kept, each self-contained with ISBs', (t) => {
  const { dir, sources, open } = setup(t);
  const r = new Recorder(plan, {
    dir,
    baseName: 'cap-n1-ts',
    section: { userAppl: 'test' },
    snapLength: 0,
    bufferBytes: 1 << 20,
    maxSizeBytes: 100_000,
    fileCount: 2,
    open,
  });
  r.start();
  for (let i = 0; i < 10; i++) sources[i % 2]?.push(30); // ≈ 31 KB per chunk → a new file every 4 chunks
  const res = r.stop();
  assert.deepEqual(
    res.files.map((f) => f.name),
    ['cap-n1-ts-1.pcapng', 'cap-n1-ts-2.pcapng'],
  );
  assert.deepEqual(readdirSync(dir).sort(), ['cap-n1-ts-1.pcapng', 'cap-n1-ts-2.pcapng']);
  assert.equal(res.rotatedOut, 1);
  assert.equal(rotatedName('b', 0), 'b.pcapng');
  assert.deepEqual(res.interfaces, [
    { name: 'eth0', packets: 151, dropped: 2, ifDropped: 0 },
    { name: 'veth1', pod: 'default/web-0', packets: 151, dropped: 2, ifDropped: 0 },
  ]);
  for (const f of res.files) {
    const info = execFileSync('capinfos', ['-M', path.join(dir, f.name)], { encoding: 'utf8' });
    assert.match(info, /Number of interfaces in file: 2/);
    assert.match(info, /Number of stat entries = 1/);
  }
  const isb = execFileSync(
    'tshark',
    ['-r', path.join(dir, 'cap-n1-ts-2.pcapng'), '-c', '1', '-T', 'fields', '-e', 'frame.number'],
    { encoding: 'utf8' },
  );
  assert.ok(isb.trim().length > 0);
});

test('max size without file count asks to stop once and keeps writing until closed', (t) => {
  const { dir, sources, open } = setup(t);
  let limits = 0;
  const r = new Recorder(plan.slice(0, 1), {
    dir,
    baseName: 'b',
    section: {},
    snapLength: 0,
    bufferBytes: 1 << 20,
    maxSizeBytes: 50_000,
    fileCount: 0,
    open,
    onLimit: () => limits++,
  });
  r.start();
  sources[0]?.push(30);
  sources[0]?.push(30);
  sources[0]?.push(30);
  const res = r.stop();
  assert.equal(limits, 1);
  assert.equal(res.files.length, 1);
  assert.equal(res.packets, 91);
});

test('an open failure closes the interfaces already opened', (t) => {
  const { dir, sources } = setup(t);
  let n = 0;
  const open = (o: OpenOptions): FakeSource => {
    if (n++ === 1) throw new Error('No such device exists');
    const s = new FakeSource(o);
    sources.push(s);
    return s;
  };
  const r = new Recorder(plan, {
    dir,
    baseName: 'b',
    section: {},
    snapLength: 0,
    bufferBytes: 1 << 20,
    fileCount: 0,
    open,
  });
  assert.throws(() => r.start(), /No such device/);
  assert.equal(sources[0]?.closed, true);
});

test('metadata: bounded /proc copies, missing tools recorded, never fatal', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rcx-meta-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const proc = path.join(root, 'proc');
  mkdirSync(path.join(proc, 'ipv4'), { recursive: true });
  writeFileSync(path.join(proc, 'small'), 'x'.repeat(100));
  writeFileSync(path.join(proc, 'ipv4', 'big'), 'y'.repeat(5000));
  for (let i = 0; i < 5; i++) writeFileSync(path.join(proc, `f${i}`), 'z'.repeat(900));
  const r = await collectMetadata({
    procNet: proc,
    procSysNet: path.join(root, 'none'),
    maxFileBytes: 1000,
    commandTimeoutMs: 3000,
  });
  const paths = r.entries.map((e) => e.path);
  assert.ok(paths.includes('ip-resources.txt'));
  assert.ok(paths.includes('proc-net/') && paths.includes('proc-net/ipv4/'), paths.join(' '));
  assert.ok(!paths.some((p) => p.startsWith('proc-sys-net')));
  assert.deepEqual(paths, [...paths].sort(), 'tar order: by path, directories before their contents');
  assert.equal(r.entries.find((e) => e.path === 'proc-net/small')?.data?.toString(), 'x'.repeat(100));
  for (const f of r.files) {
    const data = r.entries.find((e) => e.path === f.path)?.data;
    assert.ok(data, f.path);
    assert.equal(f.bytes, data.length, f.path);
    assert.equal(f.sha256, createHash('sha256').update(data).digest('hex'), f.path);
  }
  assert.equal(r.files.filter((f) => f.path.startsWith('proc-net/')).length, 6);
  assert.ok(!r.files.some((f) => f.path === 'proc-net/ipv4/big'), 'files over the per-file cap are skipped');
  assert.ok(
    r.warnings.some((w) => /larger than 1000 bytes/.test(w)),
    r.warnings.join('; '),
  );
  const rt = await collectMetadata({
    procNet: proc,
    procSysNet: path.join(root, 'none'),
    maxFileBytes: 1000,
    maxTotalBytes: 3000,
  });
  assert.ok(rt.files.filter((f) => f.path.startsWith('proc-net/')).reduce((a, f) => a + f.bytes, 0) <= 3000);
  assert.ok(rt.entries.reduce((a, e) => a + (e.path.startsWith('proc-net/') ? (e.data?.length ?? 0) : 0), 0) <= 3000);
  assert.ok(
    rt.warnings.some((w) => /stopped at/.test(w)),
    rt.warnings.join('; '),
  );
  // With PATH emptied every command is "missing": recorded, and no empty files are written.
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const r2 = await collectMetadata({ procNet: path.join(root, 'none'), procSysNet: path.join(root, 'none') });
    assert.deepEqual(r2.missingTools, ['conntrack', 'ip', 'iptables', 'iptables-save', 'nft', 'ss']);
    assert.deepEqual(r2.entries, []);
  } finally {
    process.env.PATH = saved;
  }
});
