// Capture summary model (src/views/summary.ts): a pcapng written with src/pcap, read back with
// src/pcap/reader.ts and counted in plain Node.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { enhancedPacket } from '../../../src/pcap/format.js';
import { PcapngFileWriter } from '../../../src/pcap/writer.js';
import { decodePacket, interfaceLabel, readManifests, summarizeCapture } from '../../../src/views/summary.js';

function ip4(s: string): number[] {
  return s.split('.').map(Number);
}

/** Ethernet + IPv4 + TCP/UDP/ICMP header with `payload` zero bytes. */
function frame(proto: 'tcp' | 'udp' | 'icmp', src: string, dst: string, sport = 0, dport = 0, payload = 10): Buffer {
  const l4 = proto === 'tcp' ? 20 : 8;
  const ipLen = 20 + l4 + payload;
  const b = Buffer.alloc(14 + ipLen);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(ipLen, 16);
  b[23] = proto === 'tcp' ? 6 : proto === 'udp' ? 17 : 1;
  Buffer.from(ip4(src)).copy(b, 26);
  Buffer.from(ip4(dst)).copy(b, 30);
  if (proto !== 'icmp') {
    b.writeUInt16BE(sport, 34);
    b.writeUInt16BE(dport, 36);
  }
  return b;
}

test('interface labels from merged names and worker descriptions', () => {
  assert.deepEqual(interfaceLabel({ name: 'rc-node-1/eth0', description: 'rc-node-1: node=rc-node-1 if=eth0' }), {
    node: 'rc-node-1',
    name: 'eth0',
  });
  assert.deepEqual(interfaceLabel({ name: 'n2/vethab', description: 'n2: node=n2 if=vethab pod=demo/web-1' }), {
    node: 'n2',
    name: 'vethab',
    pod: 'demo/web-1',
  });
  assert.deepEqual(interfaceLabel({ name: 'eth0' }), { node: '?', name: 'eth0' });
});

test('decoder: Ethernet/VLAN, Linux cooked, raw IPv6, ports to app names', () => {
  assert.deepEqual(decodePacket(1, frame('tcp', '10.0.0.1', '10.0.0.2', 40000, 8080)).layers, ['IPv4', 'TCP', 'HTTP']);
  const sll = Buffer.concat([Buffer.alloc(16), frame('udp', '1.1.1.1', '2.2.2.2', 5353, 53).subarray(14)]);
  sll.writeUInt16BE(0x0800, 14);
  assert.deepEqual(decodePacket(113, sll).layers, ['IPv4', 'UDP', 'DNS']);
  const v6 = Buffer.alloc(48);
  v6[0] = 0x60;
  v6[6] = 58;
  v6[8 + 15] = 1;
  v6[24 + 15] = 2;
  const d = decodePacket(101, v6);
  assert.deepEqual(d.layers, ['IPv6', 'ICMPv6']);
  assert.equal(d.src, '::1');
  assert.deepEqual(decodePacket(1, Buffer.alloc(4)).layers, ['link type 1']);
});

test('summary of a two-node merged capture: nodes, pods, protocols, conversations, timeline, manifest drops', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'summary-'));
  try {
    const file = path.join(dir, 'cap.pcapng');
    const w = PcapngFileWriter.create(file, { comment: 'test' }, [
      {
        name: 'rc-node-1/eth0',
        description: 'rc-node-1: node=rc-node-1 if=eth0',
        linkType: 1,
        snapLength: 65535,
        tsResolution: 'nano',
      },
      {
        name: 'rc-node-2/veth1',
        description: 'rc-node-2: node=rc-node-2 if=veth1 pod=demo/client',
        linkType: 1,
        snapLength: 65535,
        tsResolution: 'nano',
      },
    ]);
    const t0 = 1_700_000_000_000_000_000n;
    const recs: Buffer[] = [];
    for (let i = 0; i < 10; i++)
      recs.push(
        enhancedPacket(0, t0 + BigInt(i) * 1_000_000_000n, frame('tcp', '198.19.1.5', '198.19.2.7', 40000, 8080)),
      );
    for (let i = 0; i < 4; i++)
      recs.push(enhancedPacket(1, t0 + BigInt(i) * 2_000_000_000n, frame('icmp', '198.19.2.7', '198.18.0.11')));
    w.writeRecords(Buffer.concat(recs), recs.length);
    w.close();
    const nodeDir = path.join(dir, 'rc-node-2');
    mkdirSync(nodeDir);
    writeFileSync(
      path.join(nodeDir, 'manifest.json'),
      JSON.stringify({
        v: 1,
        node: 'rc-node-2',
        interfaces: [{ name: 'veth1', pod: 'demo/client', packets: 4, dropped: 3, ifDropped: 0 }],
        warnings: ['ring buffer full once'],
        missingTools: ['nft'],
      }),
    );
    const manifests = await readManifests(dir);
    const s = await summarizeCapture(file, { manifests });
    assert.equal(s.packets, 14);
    assert.deepEqual(
      s.nodes.map((n) => [n.node, n.packets]),
      [
        ['rc-node-1', 10],
        ['rc-node-2', 4],
      ],
    );
    assert.deepEqual(
      s.pods.map((p) => [p.pod, p.packets]),
      [['demo/client', 4]],
    );
    assert.deepEqual(s.interfaces.find((i) => i.pod)?.name, 'veth1');
    const proto = Object.fromEntries(s.protocols.map((p) => [p.name, p.packets]));
    assert.deepEqual(proto, { IPv4: 14, TCP: 10, HTTP: 10, ICMP: 4 });
    assert.equal(s.conversations[0]?.protocol, 'TCP');
    assert.deepEqual([s.conversations[0]?.a, s.conversations[0]?.b], ['198.19.1.5:40000', '198.19.2.7:8080']);
    assert.equal(s.conversations[0]?.packets, 10);
    assert.equal(s.last! - s.first!, 9000);
    assert.equal(
      s.timeline.packets.reduce((a, b) => a + b, 0),
      14,
    );
    assert.ok(s.timeline.packets.length <= 60);
    assert.deepEqual(s.drops, [
      { node: 'rc-node-2', interface: 'veth1', pod: 'demo/client', dropped: 3, ifDropped: 0 },
    ]);
    assert.deepEqual(s.warnings, ['rc-node-2: ring buffer full once', 'rc-node-2: metadata tools missing: nft']);
    const capped = await summarizeCapture(file, { maxPackets: 5 });
    assert.equal(capped.packets, 5);
    assert.equal(capped.truncatedAt, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('manifests with wrongly typed fields: bad fields are dropped, the summary still opens', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'summary-bad-'));
  try {
    const file = path.join(dir, 'cap.pcapng');
    const w = PcapngFileWriter.create(file, {}, [
      { name: 'n/eth0', linkType: 1, snapLength: 65535, tsResolution: 'nano' },
    ]);
    w.writeRecords(enhancedPacket(0, 1_700_000_000_000_000_000n, frame('udp', '10.0.0.1', '10.0.0.2', 1, 53)), 1);
    w.close();
    const bad = [
      { node: 'n1', interfaces: 'eth0', warnings: 'one', missingTools: 'nft' },
      { node: 'n2', interfaces: { name: 'x' }, warnings: [1, 'ok'], missingTools: [null] },
      { node: 'n3', interfaces: [null, 7, { name: 3 }, { name: 'eth1', dropped: '5', ifDropped: 2, pod: {} }] },
      { node: 42 },
      'not an object',
    ];
    bad.forEach((m, i) => {
      mkdirSync(path.join(dir, `m${i}`));
      writeFileSync(path.join(dir, `m${i}`, 'manifest.json'), JSON.stringify(m));
    });
    const manifests = await readManifests(dir);
    assert.deepEqual(manifests.map((m) => m.node).sort(), ['n1', 'n2', 'n3']);
    const s = await summarizeCapture(file, { manifests });
    assert.equal(s.packets, 1);
    assert.deepEqual(s.drops, [{ node: 'n3', interface: 'eth1', dropped: 0, ifDropped: 2 }]);
    assert.deepEqual(s.warnings, ['n2: ok']);
    // Raw, unchecked manifests handed straight to the summary are cleaned the same way.
    const direct = await summarizeCapture(file, { manifests: bad });
    assert.deepEqual(direct.drops, s.drops);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
