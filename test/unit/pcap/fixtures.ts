// Capture files built from format.ts encoders (and hand-rolled big-endian / classic pcap
// writers), independent of tcpdump and mergecap, for reader and merge tests.
import {
  BLOCK,
  OPT,
  enhancedPacket,
  filterOption,
  interfaceDescription,
  interfaceStatistics,
  LINKTYPE_ETHERNET,
  sectionHeader,
  timestampOption,
} from '../../../src/pcap/format.js';

/** A small Ethernet/IPv4/UDP frame carrying `tag` so every packet is recognisable. */
export function udpFrame(tag: string, srcLast = 1, dstLast = 2): Buffer {
  const payload = Buffer.from(tag);
  const udpLen = 8 + payload.length;
  const ipLen = 20 + udpLen;
  const f = Buffer.alloc(14 + ipLen);
  Buffer.from([0x02, 0, 0, 0, 0, dstLast, 0x02, 0, 0, 0, 0, srcLast]).copy(f, 0);
  f.writeUInt16BE(0x0800, 12);
  const ip = 14;
  f[ip] = 0x45;
  f.writeUInt16BE(ipLen, ip + 2);
  f[ip + 8] = 64;
  f[ip + 9] = 17;
  Buffer.from([198, 18, 0, srcLast]).copy(f, ip + 12);
  Buffer.from([198, 18, 0, dstLast]).copy(f, ip + 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += f.readUInt16BE(ip + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  f.writeUInt16BE(~sum & 0xffff, ip + 10);
  const udp = ip + 20;
  f.writeUInt16BE(40000, udp);
  f.writeUInt16BE(9000, udp + 2);
  f.writeUInt16BE(udpLen, udp + 4);
  payload.copy(f, udp + 8);
  return f;
}

export const T0 = 1_767_225_600n * 1_000_000_000n; // 2026-01-01T00:00:00Z in ns

/** node-1: little-endian pcapng, eth0 in ns + veth in µs (default resolution), ISB at the end. */
export function node1Pcapng(): { file: Buffer; times: bigint[] } {
  const parts: Buffer[] = [
    sectionHeader([{ code: OPT.shb_userappl, value: 'fixture' }]),
    interfaceDescription(LINKTYPE_ETHERNET, 262144, [
      { code: OPT.if_name, value: 'eth0' },
      { code: OPT.if_description, value: 'node NIC' },
      { code: OPT.if_tsresol, value: 9 },
      filterOption('udp port 9000'),
    ]),
    interfaceDescription(LINKTYPE_ETHERNET, 65535, [{ code: OPT.if_name, value: 'veth1234' }]),
  ];
  const times: bigint[] = [];
  for (let i = 0; i < 10; i++) {
    const ns = T0 + BigInt(i) * 3_000_000n + 111n; // every 3 ms
    times.push(ns);
    parts.push(enhancedPacket(0, ns, udpFrame(`n1-eth0-${i}`)));
    const us = (T0 + BigInt(i) * 3_000_000n + 1_500_000n) / 1000n;
    times.push(us * 1000n);
    parts.push(enhancedPacket(1, us, udpFrame(`n1-veth-${i}`)));
  }
  parts.push(
    interfaceStatistics(0, T0 + 40_000_000n, [
      timestampOption(OPT.isb_starttime, T0),
      timestampOption(OPT.isb_endtime, T0 + 40_000_000n),
      { code: OPT.isb_ifrecv, value: 10n },
      { code: OPT.isb_ifdrop, value: 0n },
    ]),
  );
  return { file: Buffer.concat(parts), times };
}

// Big-endian pcapng writer (format.ts is little-endian only).
function beBlock(type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const total = 12 + padded.length;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(type, 0);
  out.writeUInt32BE(total, 4);
  padded.copy(out, 8);
  out.writeUInt32BE(total, total - 4);
  return out;
}
function beOption(code: number, value: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(code, 0);
  h.writeUInt16BE(value.length, 2);
  return Buffer.concat([h, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

/** node-2: big-endian pcapng, an interface also called eth0 (µs resolution), a comment on a packet. */
export function node2PcapngBE(): { file: Buffer; times: bigint[] } {
  const shbFixed = Buffer.alloc(16);
  shbFixed.writeUInt32BE(0x1a2b3c4d, 0);
  shbFixed.writeUInt16BE(1, 4);
  shbFixed.writeBigInt64BE(-1n, 8);
  const idbFixed = Buffer.alloc(8);
  idbFixed.writeUInt16BE(LINKTYPE_ETHERNET, 0);
  idbFixed.writeUInt32BE(262144, 4);
  const parts = [
    beBlock(BLOCK.SHB, shbFixed),
    beBlock(
      BLOCK.IDB,
      Buffer.concat([
        idbFixed,
        beOption(OPT.if_name, Buffer.from('eth0')),
        beOption(OPT.if_tsresol, Buffer.from([6])),
        Buffer.alloc(4),
      ]),
    ),
  ];
  const times: bigint[] = [];
  for (let i = 0; i < 10; i++) {
    const us = (T0 + BigInt(i) * 3_000_000n + 700_000n) / 1000n;
    times.push(us * 1000n);
    const data = udpFrame(`n2-eth0-${i}`, 3, 4);
    const fixed = Buffer.alloc(20);
    fixed.writeUInt32BE(0, 0);
    fixed.writeUInt32BE(Number(us >> 32n), 4);
    fixed.writeUInt32BE(Number(us & 0xffffffffn), 8);
    fixed.writeUInt32BE(data.length, 12);
    fixed.writeUInt32BE(data.length, 16);
    const pad = Buffer.alloc((4 - (data.length % 4)) % 4);
    const opts =
      i === 0
        ? Buffer.concat([beOption(OPT.comment, Buffer.from('first on node-2')), Buffer.alloc(4)])
        : Buffer.alloc(0);
    parts.push(beBlock(BLOCK.EPB, Buffer.concat([fixed, data, pad, opts])));
  }
  return { file: Buffer.concat(parts), times };
}

/** Classic pcap like Retina's tcpdump writes: `nano` picks the nanosecond magic; `be` the byte order. */
export function classicPcap(opts: { nano: boolean; be: boolean; tag: string; offsetNs: bigint; count: number }): {
  file: Buffer;
  times: bigint[];
} {
  const w32 = (b: Buffer, v: number, o: number): number => (opts.be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  const w16 = (b: Buffer, v: number, o: number): number => (opts.be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const h = Buffer.alloc(24);
  w32(h, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(h, 2, 4);
  w16(h, 4, 6);
  w32(h, 262144, 16);
  w32(h, LINKTYPE_ETHERNET, 20);
  const parts: Buffer[] = [h];
  const times: bigint[] = [];
  for (let i = 0; i < opts.count; i++) {
    let ns = T0 + BigInt(i) * 3_000_000n + opts.offsetNs;
    if (!opts.nano) ns = (ns / 1000n) * 1000n;
    times.push(ns);
    const data = udpFrame(`${opts.tag}-${i}`, 5, 6);
    const r = Buffer.alloc(16);
    w32(r, Number(ns / 1_000_000_000n), 0);
    w32(r, Number(opts.nano ? ns % 1_000_000_000n : (ns % 1_000_000_000n) / 1000n), 4);
    w32(r, data.length, 8);
    w32(r, data.length + 4, 12); // original longer: snapped
    parts.push(r, data);
  }
  return { file: Buffer.concat(parts), times };
}
