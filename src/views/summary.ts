// Capture summary for the webview shown when Wireshark is missing: packets and bytes per node,
// interface and pod, protocols, top conversations, a timeline, and the manifests' drops and
// warnings. Computed in plain Node from the merged pcapng (src/pcap/reader.ts); no vscode.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { InterfaceResult } from '../contract/result.js';
import { readCapture, type InterfaceBlock, type PacketBlock } from '../pcap/reader.js';

export interface Counter {
  packets: number;
  bytes: number;
}

export interface Conversation extends Counter {
  /** `10.0.0.1:443` (or the bare address for ICMP and others). */
  a: string;
  b: string;
  protocol: string;
}

export interface CaptureSummaryData {
  file: string;
  packets: number;
  bytes: number;
  /** Epoch ms of the first and last packet. */
  first?: number;
  last?: number;
  nodes: ({ node: string } & Counter)[];
  interfaces: ({ node: string; name: string; pod?: string } & Counter)[];
  pods: ({ pod: string } & Counter)[];
  protocols: ({ name: string } & Counter)[];
  conversations: Conversation[];
  timeline: { bucketMs: number; start: number; packets: number[]; bytes: number[] };
  drops: { node: string; interface: string; pod?: string; dropped: number; ifDropped: number }[];
  warnings: string[];
  /** Stopped reading after this many packets (huge files). */
  truncatedAt?: number;
}

const TIMELINE_BUCKETS = 60;
const TOP_CONVERSATIONS = 10;

/** `rc-node-1/eth0` + `rc-node-1: node=rc-node-1 if=eth0 pod=ns/web` (merge.ts + worker plan). */
export function interfaceLabel(idb: Pick<InterfaceBlock, 'name' | 'description'>): {
  node: string;
  name: string;
  pod?: string;
} {
  const full = idb.name ?? '?';
  const slash = full.indexOf('/');
  const desc = idb.description ?? '';
  const node = /\bnode=(\S+)/.exec(desc)?.[1] ?? (slash > 0 ? full.slice(0, slash) : '?');
  const name = /\bif=(\S+)/.exec(desc)?.[1] ?? (slash > 0 ? full.slice(slash + 1) : full);
  const pod = /\bpod=(\S+)/.exec(desc)?.[1];
  return { node, name, ...(pod ? { pod } : {}) };
}

const IP_PROTO: Record<number, string> = {
  1: 'ICMP',
  2: 'IGMP',
  6: 'TCP',
  17: 'UDP',
  47: 'GRE',
  58: 'ICMPv6',
  132: 'SCTP',
};
const PORTS: Record<number, string> = {
  53: 'DNS',
  80: 'HTTP',
  443: 'TLS',
  8080: 'HTTP',
  6443: 'Kubernetes API',
  10250: 'kubelet',
  4789: 'VXLAN',
  123: 'NTP',
  67: 'DHCP',
  68: 'DHCP',
};

interface Decoded {
  /** Layers, outermost first: ['IPv4', 'TCP', 'HTTP']. */
  layers: string[];
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
}

function ipv4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function ipv6(b: Buffer, o: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(o + i).toString(16));
  return parts
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::')
    .replace(/:{3,}/, '::');
}

function transport(b: Buffer, o: number, proto: number, d: Decoded): void {
  const name = IP_PROTO[proto] ?? `IP proto ${proto}`;
  d.layers.push(name);
  if ((proto === 6 || proto === 17 || proto === 132) && b.length >= o + 4) {
    d.sport = b.readUInt16BE(o);
    d.dport = b.readUInt16BE(o + 2);
    const app = PORTS[Math.min(d.sport, d.dport)] ?? PORTS[d.dport] ?? PORTS[d.sport];
    if (app) d.layers.push(app);
  }
}

function network(b: Buffer, o: number, ethertype: number, d: Decoded): void {
  if (ethertype === 0x0800 && b.length >= o + 20) {
    d.layers.push('IPv4');
    d.src = ipv4(b, o + 12);
    d.dst = ipv4(b, o + 16);
    const ihl = (b[o]! & 0x0f) * 4;
    const fragOffset = b.readUInt16BE(o + 6) & 0x1fff;
    if (fragOffset === 0) transport(b, o + ihl, b[o + 9]!, d);
  } else if (ethertype === 0x86dd && b.length >= o + 40) {
    d.layers.push('IPv6');
    d.src = ipv6(b, o + 8);
    d.dst = ipv6(b, o + 24);
    transport(b, o + 40, b[o + 6]!, d);
  } else if (ethertype === 0x0806) d.layers.push('ARP');
  else if (ethertype === 0x88cc) d.layers.push('LLDP');
  else d.layers.push(`EtherType 0x${ethertype.toString(16).padStart(4, '0')}`);
}

/** Decodes the headers we count (Ethernet, Linux cooked v1/v2, raw IP). */
export function decodePacket(linkType: number, b: Buffer): Decoded {
  const d: Decoded = { layers: [] };
  if (linkType === 1 && b.length >= 14) {
    let o = 12;
    let et = b.readUInt16BE(o);
    while ((et === 0x8100 || et === 0x88a8) && b.length >= o + 6) {
      o += 4;
      et = b.readUInt16BE(o);
    }
    network(b, o + 2, et, d);
  } else if (linkType === 113 && b.length >= 16) network(b, 16, b.readUInt16BE(14), d);
  else if (linkType === 276 && b.length >= 20) network(b, 20, b.readUInt16BE(0), d);
  else if ((linkType === 101 || linkType === 228 || linkType === 229) && b.length >= 1) {
    const v = b[0]! >> 4;
    network(b, 0, v === 6 ? 0x86dd : 0x0800, d);
  } else d.layers.push(`link type ${linkType}`);
  return d;
}

function add<K>(m: Map<K, Counter>, k: K, bytes: number): void {
  const c = m.get(k);
  if (c) {
    c.packets++;
    c.bytes += bytes;
  } else m.set(k, { packets: 1, bytes });
}

function sorted<T extends Counter>(xs: T[]): T[] {
  return xs.sort((a, b) => b.bytes - a.bytes || b.packets - a.packets);
}

/** Accumulates packets; `finish` produces the summary. Fed by `summarizeCapture` or by tests. */
export class SummaryBuilder {
  private readonly ifaces = new Map<number, { node: string; name: string; pod?: string; linkType: number }>();
  private readonly perIf = new Map<number, Counter>();
  private readonly perProto = new Map<string, Counter>();
  private readonly perConv = new Map<string, Conversation>();
  private readonly times: { t: number; bytes: number }[] = [];
  private packets = 0;
  private bytes = 0;
  readonly warnings: string[] = [];

  addInterface(idb: Pick<InterfaceBlock, 'id' | 'name' | 'description' | 'linkType'>): void {
    this.ifaces.set(idb.id, { ...interfaceLabel(idb), linkType: idb.linkType });
  }

  addPacket(p: Pick<PacketBlock, 'interfaceId' | 'timestampNs' | 'originalLength' | 'data'>): void {
    const iface = this.ifaces.get(p.interfaceId);
    const bytes = p.originalLength;
    this.packets++;
    this.bytes += bytes;
    add(this.perIf, p.interfaceId, bytes);
    this.times.push({ t: Number(p.timestampNs / 1_000_000n), bytes });
    const d = decodePacket(iface?.linkType ?? 1, p.data);
    // Protocol hierarchy: every layer counts (IPv4 ⊇ TCP ⊇ HTTP), as Wireshark's statistics do.
    for (const l of d.layers) add(this.perProto, l, bytes);
    if (d.src && d.dst) {
      const proto = d.layers[1] ?? d.layers[0] ?? '?';
      const ends = [
        d.sport === undefined ? d.src : `${d.src}:${d.sport}`,
        d.dport === undefined ? d.dst : `${d.dst}:${d.dport}`,
      ].sort();
      const key = `${proto} ${ends[0]} ${ends[1]}`;
      const c = this.perConv.get(key);
      if (c) {
        c.packets++;
        c.bytes += bytes;
      } else this.perConv.set(key, { a: ends[0]!, b: ends[1]!, protocol: proto, packets: 1, bytes });
    }
  }

  get packetCount(): number {
    return this.packets;
  }

  finish(file: string, raw: readonly unknown[] = []): CaptureSummaryData {
    const manifests = raw.map(summaryManifest).filter((m) => m !== undefined);
    const nodes = new Map<string, Counter>();
    const pods = new Map<string, Counter>();
    const interfaces: CaptureSummaryData['interfaces'] = [];
    for (const [id, c] of this.perIf) {
      const i = this.ifaces.get(id) ?? { node: '?', name: `#${id}`, linkType: 0 };
      interfaces.push({ node: i.node, name: i.name, ...(i.pod ? { pod: i.pod } : {}), ...c });
      for (const [m, k] of [
        [nodes, i.node],
        [pods, i.pod],
      ] as const) {
        if (k === undefined) continue;
        const have = m.get(k) ?? { packets: 0, bytes: 0 };
        have.packets += c.packets;
        have.bytes += c.bytes;
        m.set(k, have);
      }
    }
    let first: number | undefined;
    let last: number | undefined;
    for (const { t } of this.times) {
      if (first === undefined || t < first) first = t;
      if (last === undefined || t > last) last = t;
    }
    const span = first === undefined || last === undefined ? 0 : last - first;
    const bucketMs = Math.max(1, Math.ceil((span + 1) / TIMELINE_BUCKETS));
    const n = first === undefined ? 0 : Math.min(TIMELINE_BUCKETS, Math.floor(span / bucketMs) + 1);
    const tp = new Array<number>(n).fill(0);
    const tb = new Array<number>(n).fill(0);
    for (const { t, bytes } of this.times) {
      const i = Math.min(n - 1, Math.floor((t - (first ?? 0)) / bucketMs));
      tp[i]!++;
      tb[i]! += bytes;
    }
    const drops: CaptureSummaryData['drops'] = [];
    const warnings = [...this.warnings];
    for (const m of manifests) {
      for (const i of m.interfaces) {
        if (i.dropped || i.ifDropped)
          drops.push({
            node: m.node,
            interface: i.name,
            ...(i.pod ? { pod: i.pod } : {}),
            dropped: i.dropped,
            ifDropped: i.ifDropped,
          });
      }
      for (const w of m.warnings) warnings.push(`${m.node}: ${w}`);
      if (m.missingTools.length) warnings.push(`${m.node}: metadata tools missing: ${m.missingTools.join(', ')}`);
    }
    return {
      file,
      packets: this.packets,
      bytes: this.bytes,
      first,
      last,
      nodes: sorted([...nodes].map(([node, c]) => ({ node, ...c }))),
      interfaces: sorted(interfaces),
      pods: sorted([...pods].map(([pod, c]) => ({ pod, ...c }))),
      protocols: sorted([...this.perProto].map(([name, c]) => ({ name, ...c }))),
      conversations: sorted([...this.perConv.values()]).slice(0, TOP_CONVERSATIONS),
      timeline: { bucketMs, start: first ?? 0, packets: tp, bytes: tb },
      drops,
      warnings,
    };
  }
}

/** The manifest fields the summary reads; a manifest.json comes from a node, typed as it likes. */
export interface SummaryManifest {
  node: string;
  interfaces: Pick<InterfaceResult, 'name' | 'pod' | 'dropped' | 'ifDropped'>[];
  warnings: string[];
  missingTools: string[];
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);

/** Keeps only well-typed fields (a wrongly typed one is dropped, not trusted); no node: none. */
export function summaryManifest(v: unknown): SummaryManifest | undefined {
  const m = v as Record<string, unknown> | null;
  if (!m || typeof m !== 'object' || typeof m.node !== 'string') return undefined;
  const interfaces: SummaryManifest['interfaces'] = [];
  for (const i of Array.isArray(m.interfaces) ? (m.interfaces as unknown[]) : []) {
    const r = i as Record<string, unknown> | null;
    if (!r || typeof r !== 'object' || typeof r.name !== 'string') continue;
    interfaces.push({
      name: r.name,
      ...(typeof r.pod === 'string' ? { pod: r.pod } : {}),
      dropped: count(r.dropped),
      ifDropped: count(r.ifDropped),
    });
  }
  return { node: m.node, interfaces, warnings: strings(m.warnings), missingTools: strings(m.missingTools) };
}

/** manifest.json files of the unpacked node archives under a download folder (depth ≤ 3). */
export async function readManifests(folder: string): Promise<SummaryManifest[]> {
  const { readdir } = await import('node:fs/promises');
  const out: SummaryManifest[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && depth < 3) await walk(p, depth + 1);
      else if (e.isFile() && e.name === 'manifest.json') {
        try {
          const m = summaryManifest(JSON.parse(await readFile(p, 'utf8')));
          if (m) out.push(m);
        } catch {
          // a broken manifest is skipped; the capture file is what counts
        }
      }
    }
  };
  await walk(folder, 0);
  return out;
}

/** Reads the (merged) capture once and summarises it; stops counting after `maxPackets`. */
export async function summarizeCapture(
  file: string,
  opts: { manifests?: readonly unknown[]; signal?: AbortSignal; maxPackets?: number } = {},
): Promise<CaptureSummaryData> {
  const b = new SummaryBuilder();
  const max = opts.maxPackets ?? 2_000_000;
  let truncated = false;
  for await (const block of readCapture(file, opts.signal)) {
    if (block.kind === 'idb') b.addInterface(block);
    else if (block.kind === 'packet') {
      if (b.packetCount >= max) {
        truncated = true;
        break;
      }
      b.addPacket(block);
    }
  }
  const s = b.finish(file, opts.manifests);
  if (truncated) {
    s.truncatedAt = max;
    s.warnings.push(`Only the first ${max} packets were counted.`);
  }
  return s;
}
