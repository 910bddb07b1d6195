import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CaptureReader, type CaptureBlock } from '../../../src/pcap/reader.js';
import { mergeCaptures } from '../../../src/pcap/merge.js';
import { classicPcap, node1Pcapng, node2PcapngBE } from './fixtures.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pcap-merge-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const n1 = node1Pcapng();
const n2 = node2PcapngBE();
const n3 = classicPcap({ nano: true, be: false, tag: 'n3', offsetNs: 2_200_123n, count: 7 });
const n4 = classicPcap({ nano: false, be: true, tag: 'n4', offsetNs: 2_600_000n, count: 5 });
const files = {
  n1: path.join(dir, 'cap-node-1-20260101000000UTC.pcapng'),
  n2: path.join(dir, 'cap-node-2-20260101000000UTC.pcapng'),
  n3: path.join(dir, 'cap-node-3-20260101000000UTC.pcap'),
  n4: path.join(dir, 'cap-node-4-20260101000000UTC.pcap'),
};
writeFileSync(files.n1, n1.file);
writeFileSync(files.n2, n2.file);
writeFileSync(files.n3, n3.file);
writeFileSync(files.n4, n4.file);
const inputs = [
  { path: files.n1, node: 'node-1' },
  { path: files.n2, node: 'node-2' },
  { path: files.n3, node: 'node-3' },
  { path: files.n4, node: 'node-4' },
];
const total = n1.times.length + n2.times.length + n3.times.length + n4.times.length;

async function readAll(file: string): Promise<CaptureBlock[]> {
  const r = await CaptureReader.open(file);
  const out: CaptureBlock[] = [];
  try {
    for await (const b of r) out.push(b);
  } finally {
    await r.close();
  }
  return out;
}

/** tshark fields, one row per packet. frame.time_epoch parsed to integer ns. */
function tshark(file: string, ...fields: string[]): { ns: bigint; rest: string[] }[] {
  const out = execFileSync(
    'tshark',
    ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch', ...fields.flatMap((f) => ['-e', f])],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [t, ...rest] = line.split('\t');
      const [s, frac = ''] = t!.split('.');
      return { ns: BigInt(s!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9)), rest };
    });
}

test('reader: little-endian pcapng with options, two resolutions, ISB', async () => {
  const blocks = await readAll(files.n1);
  const idbs = blocks.filter((b) => b.kind === 'idb');
  assert.equal(idbs.length, 2);
  const [eth0, veth] = idbs;
  assert.equal(eth0?.name, 'eth0');
  assert.equal(eth0?.description, 'node NIC');
  assert.equal(eth0?.filter, 'udp port 9000');
  assert.equal(eth0?.unitsPerSecond, 1_000_000_000n);
  assert.equal(veth?.name, 'veth1234');
  assert.equal(veth?.unitsPerSecond, 1_000_000n);
  const pk = blocks.filter((b) => b.kind === 'packet');
  assert.deepEqual(
    pk.map((p) => p.timestampNs),
    n1.times,
  );
  const isb = blocks.find((b) => b.kind === 'isb');
  assert.equal(isb?.ifRecv, 10n);
  assert.equal(isb?.ifDrop, 0n);
  assert.ok(isb?.startTimeNs !== undefined && isb.endTimeNs !== undefined && isb.endTimeNs > isb.startTimeNs);
});

test('reader: big-endian pcapng and classic pcap (nano LE, micro BE)', async () => {
  const b2 = await readAll(files.n2);
  assert.equal(b2[0]?.kind === 'shb' && b2[0].littleEndian, false);
  const i2 = b2.find((b) => b.kind === 'idb');
  assert.equal(i2?.name, 'eth0');
  assert.deepEqual(
    b2.filter((b) => b.kind === 'packet').map((p) => p.timestampNs),
    n2.times,
  );
  const p2 = b2.find((b) => b.kind === 'packet');
  assert.equal(p2?.data.subarray(42).toString(), 'n2-eth0-0');
  for (const [file, fx] of [
    [files.n3, n3],
    [files.n4, n4],
  ] as const) {
    const r = await CaptureReader.open(file);
    const bs: CaptureBlock[] = [];
    for await (const b of r) bs.push(b);
    await r.close();
    assert.equal(r.format, 'pcap');
    const pk = bs.filter((b) => b.kind === 'packet');
    assert.deepEqual(
      pk.map((p) => p.timestampNs),
      fx.times,
    );
    assert.equal(pk[0]!.originalLength, pk[0]!.capturedLength + 4);
  }
});

test('reader: truncated file ends with a warning, not an error', async () => {
  const cut = path.join(dir, 'cut.pcapng');
  writeFileSync(cut, n1.file.subarray(0, n1.file.length - 30));
  const r = await CaptureReader.open(cut);
  let packets = 0;
  for await (const b of r) if (b.kind === 'packet') packets++;
  await r.close();
  assert.equal(packets, n1.times.length);
  assert.match(r.warnings[0] ?? '', /truncated block/);
});

test('merge: one time-ordered pcapng, distinct interfaces, tshark/capinfos agree', async () => {
  const out = path.join(dir, 'merged.pcapng');
  const res = await mergeCaptures(inputs, out);
  assert.equal(res.packets, total);
  assert.equal(res.interfaces, 5);
  assert.equal(res.statistics, 1);
  assert.deepEqual(res.warnings, []);

  const rows = tshark(out, 'frame.interface_name', 'frame.interface_id');
  assert.equal(rows.length, total);
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i]!.ns >= rows[i - 1]!.ns, `not monotonic at ${i}`);
  const expectedTimes = [...n1.times, ...n2.times, ...n3.times, ...n4.times].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  assert.deepEqual(
    rows.map((r) => r.ns),
    expectedTimes,
  );
  const names = new Set(rows.map((r) => r.rest[0]));
  assert.deepEqual([...names].sort(), [
    'node-1/eth0',
    'node-1/veth1234',
    'node-2/eth0',
    'node-3/cap-node-3-20260101000000UTC',
    'node-4/cap-node-4-20260101000000UTC',
  ]);
  // interface ids and names are one-to-one
  const byId = new Map<string, string>();
  for (const r of rows) {
    const prev = byId.get(r.rest[1]!);
    if (prev !== undefined) assert.equal(prev, r.rest[0]);
    byId.set(r.rest[1]!, r.rest[0]!);
  }
  assert.equal(byId.size, 5);

  const cap = spawnSync('capinfos', ['-M', out], { encoding: 'utf8' });
  assert.equal(cap.status, 0, cap.stderr);
  assert.equal(cap.stderr.trim(), '');
  assert.doesNotMatch(cap.stdout, /warn|error|cut short/i);
  assert.match(cap.stdout, /File encapsulation:\s+ether/);
  assert.match(cap.stdout, /Strict time order:\s+True/);
  assert.match(cap.stdout, new RegExp(`Number of packets:\\s+${total}\\b`));
  assert.match(cap.stdout, /Number of interfaces in file: 5/);

  // SHB comment lists the sources; descriptions carry the node.
  const blocks = await readAll(out);
  const shb = blocks[0];
  assert.ok(shb?.kind === 'shb');
  assert.match(shb.comments[0] ?? '', /node-1: cap-node-1-20260101000000UTC\.pcapng; node-2: /);
  const idb1 = blocks.find((b) => b.kind === 'idb' && b.name === 'node-1/eth0');
  assert.ok(idb1?.kind === 'idb');
  assert.equal(idb1.description, 'node-1: node NIC');
  assert.equal(idb1.filter, 'udp port 9000');
  assert.equal(idb1.unitsPerSecond, 1_000_000_000n);
  const isb = blocks.find((b) => b.kind === 'isb');
  assert.ok(isb?.kind === 'isb');
  assert.equal(isb.interfaceId, idb1.id);
  assert.equal(isb.ifRecv, 10n);
  assert.equal(isb.endTimeNs, isb.timestampNs);
  // the big-endian packet comment survives
  const first2 = blocks.find((b) => b.kind === 'packet' && b.data.subarray(42).toString() === 'n2-eth0-0');
  assert.ok(first2?.kind === 'packet');
  assert.equal(first2.options.find((o) => o.code === 1)?.value.toString(), 'first on node-2');
});

test('merge agrees with mergecap on count and order', async () => {
  const out = path.join(dir, 'merged2.pcapng');
  const ref = path.join(dir, 'mergecap.pcapng');
  await mergeCaptures(inputs, out);
  execFileSync('mergecap', ['-w', ref, ...inputs.map((i) => i.path)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ours = tshark(out, 'udp.payload');
  const theirs = tshark(ref, 'udp.payload');
  assert.equal(ours.length, theirs.length);
  assert.deepEqual(
    ours.map((r) => `${r.ns} ${r.rest[0]}`),
    theirs.map((r) => `${r.ns} ${r.rest[0]}`),
  );
});

test('merge: rotated files of one node share interfaces; abort removes output', async () => {
  const out = path.join(dir, 'rotated.pcapng');
  const rot = path.join(dir, 'cap-node-1-20260101000000UTC-1.pcapng');
  writeFileSync(rot, node1Pcapng().file);
  const res = await mergeCaptures(
    [
      { path: files.n1, node: 'node-1' },
      { path: rot, node: 'node-1' },
    ],
    out,
  );
  assert.equal(res.interfaces, 2);
  assert.equal(res.packets, 2 * n1.times.length);
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await assert.rejects(mergeCaptures(inputs, path.join(dir, 'aborted.pcapng'), ac.signal), /stop|aborted/i);
  const ac2 = new AbortController();
  const p = mergeCaptures(inputs, path.join(dir, 'aborted2.pcapng'), ac2.signal, { onProgress: () => undefined });
  ac2.abort(new Error('stop'));
  await assert.rejects(p, /stop/);
  assert.equal(spawnSync('test', ['-e', path.join(dir, 'aborted2.pcapng')]).status, 1);
});
