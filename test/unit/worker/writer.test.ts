import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { PcapngFileWriter } from '../../../src/pcap/writer.js';
import { LINKTYPE_ETHERNET, enhancedPacket } from '../../../src/pcap/format.js';

/** A minimal Ethernet/IPv4/UDP frame with a payload marker. */
function udpFrame(seq: number): Buffer {
  const payload = Buffer.from(`seq-${seq}`);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(40001, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from([198, 18, 201, 2]).copy(ip, 12);
  Buffer.from([198, 18, 201, 1]).copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const eth = Buffer.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]);
  return Buffer.concat([eth, ip, udp, payload]);
}

test('pcapng writer: SHB/IDB/EPB/ISB file passes tshark and capinfos', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rcx-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'x.pcapng');
  const w = PcapngFileWriter.create(
    file,
    { comment: 'capture=c1 node=n1', userAppl: 'retina-capture-worker 0.0.0-test', os: 'Linux', hardware: 'x86_64' },
    [
      {
        name: 'eth0',
        description: 'node=n1 if=eth0',
        filter: 'udp',
        linkType: LINKTYPE_ETHERNET,
        snapLength: 262144,
        tsResolution: 'nano',
      },
      {
        name: 'veth1',
        description: 'node=n1 pod=default/web-0',
        linkType: LINKTYPE_ETHERNET,
        snapLength: 96,
        tsResolution: 'micro',
      },
    ],
  );
  const t0 = 1_700_000_000_000_000_000n;
  const chunk0 = Buffer.concat([0, 1, 2].map((i) => enhancedPacket(0, t0 + BigInt(i) * 1000n, udpFrame(i))));
  const chunk1 = Buffer.concat([3, 4].map((i) => enhancedPacket(1, (t0 + BigInt(i) * 1000n) / 1000n, udpFrame(i))));
  w.writeRecords(chunk0, 3);
  w.writeRecords(chunk1, 2);
  const { bytes, sha256 } = w.close([
    { startNs: t0, endNs: t0 + 10_000n, received: 4, ifDrop: 1, osDrop: 1, delivered: 3 },
    { startNs: t0, endNs: t0 + 10_000n, received: 2, ifDrop: 0, osDrop: 0, delivered: 2 },
  ]);
  const data = readFileSync(file);
  assert.equal(bytes, data.length);
  assert.equal(sha256, createHash('sha256').update(data).digest('hex'));

  const fields = execFileSync(
    'tshark',
    ['-r', file, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'data.text', '-o', 'data.show_as_text:TRUE'],
    { encoding: 'utf8' },
  );
  const lines = fields.trim().split('\n');
  assert.equal(lines.length, 5);
  assert.match(lines[0] ?? '', /^eth0\t/);
  assert.match(lines[4] ?? '', /^veth1\t/);
  const info = execFileSync('capinfos', ['-M', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(info, /Number of packets:\s+5/);
  assert.match(info, /Capture application:\s+retina-capture-worker 0.0.0-test/);
  assert.match(info, /Number of interfaces in file: 2/);
  assert.match(info, /Interface #0 info:[\s\S]*Name = eth0[\s\S]*Description = node=n1 if=eth0/);
  assert.match(info, /Capture length = 96/);
  assert.match(info, /Number of stat entries = 1/);
  // ns vs µs resolution both land on the same wall-clock time.
  const times = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch'], { encoding: 'utf8' })
    .trim()
    .split('\n');
  assert.equal(times[0], '1700000000.000000000');
  assert.equal(times[4], '1700000000.000004000');
});
