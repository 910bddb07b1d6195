// Streaming reader for pcapng (both byte orders, several sections) and classic pcap
// (microsecond and nanosecond magic, both byte orders). One block at a time, pulled by the
// caller: memory stays at one read chunk plus the current block, whatever the file size.
//
// Interface ids in the blocks this reader returns are *file-wide*: the n-th interface
// description in the file is interface n, across sections (pcapng resets ids per section).
// Classic pcap files get one synthetic interface (id 0) built from the file header.
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { BLOCK, BYTE_ORDER_MAGIC, OPT } from './format.js';

export interface RawOption {
  code: number;
  value: Buffer;
}

export interface SectionBlock {
  kind: 'shb';
  littleEndian: boolean;
  major: number;
  minor: number;
  comments: string[];
  /** shb_hardware, shb_os, shb_userappl when present. */
  hardware?: string;
  os?: string;
  userAppl?: string;
  options: RawOption[];
}

export interface InterfaceBlock {
  kind: 'idb';
  /** File-wide interface index. */
  id: number;
  linkType: number;
  snapLength: number;
  name?: string;
  description?: string;
  /** libpcap filter string (if_filter with type byte 0). */
  filter?: string;
  os?: string;
  /** Timestamp units per second (1e6 by default, 1e9 with if_tsresol=9, …). */
  unitsPerSecond: bigint;
  /** if_tsoffset in seconds, already added to every `timestampNs` of this interface. */
  tsOffsetSeconds: bigint;
  comments: string[];
  options: RawOption[];
  /** Byte order of the section it came from (options' raw values are in it). */
  littleEndian: boolean;
}

export interface PacketBlock {
  kind: 'packet';
  /** 'epb', 'spb' (no timestamp: the previous packet's is used), 'opb' (obsolete), 'pcap'. */
  source: 'epb' | 'spb' | 'opb' | 'pcap';
  interfaceId: number;
  /** Absolute time in nanoseconds since the epoch (interface resolution and offset applied). */
  timestampNs: bigint;
  capturedLength: number;
  originalLength: number;
  data: Buffer;
  options: RawOption[];
  littleEndian: boolean;
}

export interface StatisticsBlock {
  kind: 'isb';
  interfaceId: number;
  timestampNs: bigint;
  /** isb_starttime / isb_endtime converted to ns; counters as read. */
  startTimeNs?: bigint;
  endTimeNs?: bigint;
  ifRecv?: bigint;
  ifDrop?: bigint;
  filterAccept?: bigint;
  osDrop?: bigint;
  usrDeliv?: bigint;
  comments: string[];
  options: RawOption[];
}

export interface OtherBlock {
  kind: 'other';
  type: number;
  body: Buffer;
}

export type CaptureBlock = SectionBlock | InterfaceBlock | PacketBlock | StatisticsBlock | OtherBlock;

export type CaptureFormat = 'pcapng' | 'pcap';

/** Largest block accepted (a 256 KiB snap length packet is far below this). */
const MAX_BLOCK = 64 * 1024 * 1024;
const CHUNK = 256 * 1024;

export class CaptureFormatError extends Error {
  override name = 'CaptureFormatError';
}

interface ChunkSource {
  next(): Promise<Buffer | null>;
  close(): Promise<void>;
}

function fileSource(fh: FileHandle): ChunkSource {
  return {
    async next() {
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      return bytesRead === 0 ? null : buf.subarray(0, bytesRead);
    },
    close: () => fh.close(),
  };
}

function streamSource(stream: Readable): ChunkSource {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return {
    async next() {
      const r = await it.next();
      return r.done ? null : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    },
    async close() {
      stream.destroy();
    },
  };
}

/** Pull-based byte buffer over a chunk source. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private eof = false;
  offset = 0; // bytes consumed from the start of the source

  constructor(private readonly src: ChunkSource) {}

  /** Ensures n bytes are buffered; returns how many are (less than n only at end of input). */
  async fill(n: number): Promise<number> {
    while (this.buf.length - this.pos < n && !this.eof) {
      const chunk = await this.src.next();
      if (chunk === null) {
        this.eof = true;
        break;
      }
      const rest = this.buf.subarray(this.pos);
      this.buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
      this.pos = 0;
    }
    return Math.min(n, this.buf.length - this.pos);
  }

  peek(n: number): Buffer {
    return this.buf.subarray(this.pos, this.pos + n);
  }

  /** Takes n buffered bytes (copied, so callers may keep them while the reader moves on). */
  take(n: number): Buffer {
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    this.offset += n;
    return out;
  }

  close(): Promise<void> {
    return this.src.close();
  }
}

const u16 = (b: Buffer, o: number, le: boolean): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
const u32 = (b: Buffer, o: number, le: boolean): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
const u64 = (b: Buffer, o: number, le: boolean): bigint => (le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
const ts64 = (b: Buffer, o: number, le: boolean): bigint => (BigInt(u32(b, o, le)) << 32n) | BigInt(u32(b, o + 4, le));

export function parseOptions(body: Buffer, start: number, le: boolean): RawOption[] {
  const out: RawOption[] = [];
  let o = start;
  while (o + 4 <= body.length) {
    const code = u16(body, o, le);
    const len = u16(body, o + 2, le);
    if (code === OPT.endofopt) break;
    if (o + 4 + len > body.length) break; // malformed: keep what parsed
    out.push({ code, value: Buffer.from(body.subarray(o + 4, o + 4 + len)) });
    o += 4 + ((len + 3) & ~3);
  }
  return out;
}

const str = (opts: RawOption[], code: number): string | undefined => {
  const o = opts.find((x) => x.code === code);
  return o ? o.value.toString('utf8') : undefined;
};
const strs = (opts: RawOption[], code: number): string[] =>
  opts.filter((x) => x.code === code).map((x) => x.value.toString('utf8'));

/** Units per second from an if_tsresol byte. */
export function unitsFromTsresol(v: number): bigint {
  return v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v);
}

/** Converts a count of `unitsPerSecond` units to nanoseconds. */
export function toNs(ts: bigint, unitsPerSecond: bigint): bigint {
  if (unitsPerSecond === 1_000_000_000n) return ts;
  if (unitsPerSecond === 1_000_000n) return ts * 1000n;
  return (ts * 1_000_000_000n) / unitsPerSecond;
}

interface IfState {
  units: bigint;
  offsetNs: bigint;
  snap: number;
}

/**
 * Reads a pcapng or classic pcap file block by block. `next()` returns undefined at the end;
 * a truncated last block ends the file with a warning (as a killed writer leaves it).
 */
export class CaptureReader {
  format: CaptureFormat = 'pcapng';
  readonly warnings: string[] = [];
  private le = true;
  private started = false;
  private done = false;
  /** Interfaces of the current section: section-local id → file-wide state. */
  private section: number[] = [];
  private ifaces: IfState[] = [];
  private lastTs = 0n;
  private pcapNano = false;
  private pcapLinkType = 0;
  private pcapSnap = 0;

  private constructor(
    private readonly r: ByteReader,
    readonly label: string,
  ) {}

  static async open(file: string): Promise<CaptureReader> {
    const fh = await open(file, 'r');
    return new CaptureReader(new ByteReader(fileSource(fh)), file);
  }

  static fromStream(stream: Readable, label = 'stream'): CaptureReader {
    return new CaptureReader(new ByteReader(streamSource(stream)), label);
  }

  close(): Promise<void> {
    return this.r.close();
  }

  async next(): Promise<CaptureBlock | undefined> {
    if (this.done) return undefined;
    if (!this.started) {
      this.started = true;
      const first = await this.start();
      if (first) return first;
    }
    const b = this.format === 'pcap' ? await this.nextPcap() : await this.nextPcapng();
    if (!b) this.done = true;
    return b;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CaptureBlock> {
    for (;;) {
      const b = await this.next();
      if (!b) return;
      yield b;
    }
  }

  private async start(): Promise<CaptureBlock | undefined> {
    const n = await this.r.fill(4);
    if (n < 4) throw new CaptureFormatError(`${this.label}: empty or too short to be a capture file`);
    const m = this.r.peek(4);
    const le32 = m.readUInt32LE(0);
    const be32 = m.readUInt32BE(0);
    if (le32 === BLOCK.SHB) {
      this.format = 'pcapng';
      return undefined;
    }
    const micro = 0xa1b2c3d4;
    const nano = 0xa1b23c4d;
    if (le32 === micro || le32 === nano) this.le = true;
    else if (be32 === micro || be32 === nano) this.le = false;
    else throw new CaptureFormatError(`${this.label}: not a pcap or pcapng file (magic 0x${be32.toString(16)})`);
    this.format = 'pcap';
    this.pcapNano = (this.le ? le32 : be32) === nano;
    if ((await this.r.fill(24)) < 24) throw new CaptureFormatError(`${this.label}: truncated pcap file header`);
    const h = this.r.take(24);
    const major = u16(h, 4, this.le);
    const minor = u16(h, 6, this.le);
    this.pcapSnap = u32(h, 16, this.le);
    this.pcapLinkType = u32(h, 20, this.le) & 0x0fffffff; // upper bits: FCS info
    const units = this.pcapNano ? 1_000_000_000n : 1_000_000n;
    this.ifaces = [{ units, offsetNs: 0n, snap: this.pcapSnap }];
    this.section = [0];
    this.pendingIdb = {
      kind: 'idb',
      id: 0,
      linkType: this.pcapLinkType,
      snapLength: this.pcapSnap,
      unitsPerSecond: units,
      tsOffsetSeconds: 0n,
      comments: [],
      options: [],
      littleEndian: this.le,
    };
    return {
      kind: 'shb',
      littleEndian: this.le,
      major,
      minor,
      comments: [],
      options: [],
    };
  }

  private pendingIdb: InterfaceBlock | undefined;

  private async nextPcap(): Promise<CaptureBlock | undefined> {
    if (this.pendingIdb) {
      const idb = this.pendingIdb;
      this.pendingIdb = undefined;
      return idb;
    }
    const n = await this.r.fill(16);
    if (n === 0) return undefined;
    if (n < 16) return this.truncated('record header');
    const h = this.r.peek(16);
    const sec = u32(h, 0, this.le);
    const frac = u32(h, 4, this.le);
    const incl = u32(h, 8, this.le);
    const orig = u32(h, 12, this.le);
    if (incl > MAX_BLOCK)
      throw new CaptureFormatError(`${this.label}: record of ${incl} bytes at offset ${this.r.offset}`);
    if ((await this.r.fill(16 + incl)) < 16 + incl) return this.truncated('packet record');
    this.r.take(16);
    const data = this.r.take(incl);
    const ts = BigInt(sec) * 1_000_000_000n + BigInt(frac) * (this.pcapNano ? 1n : 1000n);
    this.lastTs = ts;
    return {
      kind: 'packet',
      source: 'pcap',
      interfaceId: 0,
      timestampNs: ts,
      capturedLength: incl,
      originalLength: orig,
      data,
      options: [],
      littleEndian: this.le,
    };
  }

  private truncated(what: string): undefined {
    this.warnings.push(`${this.label}: truncated ${what} at offset ${this.r.offset}; the rest of the file is ignored`);
    return undefined;
  }

  private async nextPcapng(): Promise<CaptureBlock | undefined> {
    for (;;) {
      const n = await this.r.fill(12);
      if (n === 0) return undefined;
      if (n < 12) return this.truncated('block header');
      const head = this.r.peek(12);
      let le = this.le;
      if (head.readUInt32LE(0) === BLOCK.SHB) {
        const bom = head.readUInt32LE(8);
        if (bom === BYTE_ORDER_MAGIC) le = true;
        else if (head.readUInt32BE(8) === BYTE_ORDER_MAGIC) le = false;
        else throw new CaptureFormatError(`${this.label}: bad byte-order magic at offset ${this.r.offset}`);
      }
      const type = u32(head, 0, le);
      const total = u32(head, 4, le);
      if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) {
        throw new CaptureFormatError(`${this.label}: bad block length ${total} at offset ${this.r.offset}`);
      }
      if ((await this.r.fill(total)) < total) return this.truncated('block');
      const block = this.r.take(total);
      if (u32(block, total - 4, le) !== total) {
        throw new CaptureFormatError(`${this.label}: block lengths disagree at offset ${this.r.offset - total}`);
      }
      const body = block.subarray(8, total - 4);
      const parsed = this.parseBlock(type, body, le);
      if (parsed) return parsed;
    }
  }

  private parseBlock(type: number, body: Buffer, le: boolean): CaptureBlock | undefined {
    switch (type) {
      case BLOCK.SHB: {
        // Byte-order magic, version and section length: 16 bytes before any option.
        if (body.length < 16) throw new CaptureFormatError(`${this.label}: short section header block`);
        this.le = le;
        this.section = [];
        const options = parseOptions(body, 16, le);
        const shb: SectionBlock = {
          kind: 'shb',
          littleEndian: le,
          major: u16(body, 4, le),
          minor: u16(body, 6, le),
          comments: strs(options, OPT.comment),
          options,
        };
        const hw = str(options, OPT.shb_hardware);
        const os = str(options, OPT.shb_os);
        const app = str(options, OPT.shb_userappl);
        if (hw !== undefined) shb.hardware = hw;
        if (os !== undefined) shb.os = os;
        if (app !== undefined) shb.userAppl = app;
        return shb;
      }
      case BLOCK.IDB: {
        if (body.length < 8) throw new CaptureFormatError(`${this.label}: short interface block`);
        const options = parseOptions(body, 8, le);
        const tsresol = options.find((o) => o.code === OPT.if_tsresol);
        const units = tsresol && tsresol.value.length >= 1 ? unitsFromTsresol(tsresol.value[0]!) : 1_000_000n;
        const tsoff = options.find((o) => o.code === 14);
        const offsetSeconds = tsoff && tsoff.value.length >= 8 ? BigInt.asIntN(64, u64(tsoff.value, 0, le)) : 0n;
        const id = this.ifaces.length;
        const snap = u32(body, 4, le);
        this.ifaces.push({ units, offsetNs: offsetSeconds * 1_000_000_000n, snap });
        this.section.push(id);
        const idb: InterfaceBlock = {
          kind: 'idb',
          id,
          linkType: u16(body, 0, le),
          snapLength: snap,
          unitsPerSecond: units,
          tsOffsetSeconds: offsetSeconds,
          comments: strs(options, OPT.comment),
          options,
          littleEndian: le,
        };
        const name = str(options, OPT.if_name);
        const desc = str(options, OPT.if_description);
        const os = str(options, OPT.if_os);
        const filt = options.find((o) => o.code === OPT.if_filter);
        if (name !== undefined) idb.name = name;
        if (desc !== undefined) idb.description = desc;
        if (os !== undefined) idb.os = os;
        if (filt && filt.value.length >= 1 && filt.value[0] === 0) idb.filter = filt.value.subarray(1).toString('utf8');
        return idb;
      }
      case BLOCK.EPB: {
        if (body.length < 20) throw new CaptureFormatError(`${this.label}: short enhanced packet block`);
        const local = u32(body, 0, le);
        const iface = this.iface(local);
        const cap = u32(body, 12, le);
        if (20 + cap > body.length) throw new CaptureFormatError(`${this.label}: packet longer than its block`);
        const raw = ts64(body, 4, le);
        const ts = toNs(raw, iface.units) + iface.offsetNs;
        this.lastTs = ts;
        return {
          kind: 'packet',
          source: 'epb',
          interfaceId: this.section[local]!,
          timestampNs: ts,
          capturedLength: cap,
          originalLength: u32(body, 16, le),
          data: body.subarray(20, 20 + cap),
          options: parseOptions(body, 20 + ((cap + 3) & ~3), le),
          littleEndian: le,
        };
      }
      case BLOCK.SPB: {
        if (body.length < 4) throw new CaptureFormatError(`${this.label}: short simple packet block`);
        const iface = this.iface(0);
        const orig = u32(body, 0, le);
        const cap = Math.min(orig, iface.snap || orig, body.length - 4);
        return {
          kind: 'packet',
          source: 'spb',
          interfaceId: this.section[0]!,
          timestampNs: this.lastTs,
          capturedLength: cap,
          originalLength: orig,
          data: body.subarray(4, 4 + cap),
          options: [],
          littleEndian: le,
        };
      }
      case 2: {
        // Obsolete Packet Block: u16 interface, u16 drops, ts, caplen, len.
        if (body.length < 20) throw new CaptureFormatError(`${this.label}: short packet block`);
        const local = u16(body, 0, le);
        const iface = this.iface(local);
        const cap = u32(body, 12, le);
        if (20 + cap > body.length) throw new CaptureFormatError(`${this.label}: packet longer than its block`);
        const ts = toNs(ts64(body, 4, le), iface.units) + iface.offsetNs;
        this.lastTs = ts;
        return {
          kind: 'packet',
          source: 'opb',
          interfaceId: this.section[local]!,
          timestampNs: ts,
          capturedLength: cap,
          originalLength: u32(body, 16, le),
          data: body.subarray(20, 20 + cap),
          options: [],
          littleEndian: le,
        };
      }
      case BLOCK.ISB: {
        if (body.length < 12) throw new CaptureFormatError(`${this.label}: short statistics block`);
        const local = u32(body, 0, le);
        const iface = this.iface(local);
        const options = parseOptions(body, 12, le);
        const isb: StatisticsBlock = {
          kind: 'isb',
          interfaceId: this.section[local]!,
          timestampNs: toNs(ts64(body, 4, le), iface.units) + iface.offsetNs,
          comments: strs(options, OPT.comment),
          options,
        };
        for (const o of options) {
          if (o.value.length < 8) continue;
          switch (o.code) {
            case OPT.isb_starttime:
              isb.startTimeNs = toNs(ts64(o.value, 0, le), iface.units) + iface.offsetNs;
              break;
            case OPT.isb_endtime:
              isb.endTimeNs = toNs(ts64(o.value, 0, le), iface.units) + iface.offsetNs;
              break;
            case OPT.isb_ifrecv:
              isb.ifRecv = u64(o.value, 0, le);
              break;
            case OPT.isb_ifdrop:
              isb.ifDrop = u64(o.value, 0, le);
              break;
            case OPT.isb_filteraccept:
              isb.filterAccept = u64(o.value, 0, le);
              break;
            case OPT.isb_osdrop:
              isb.osDrop = u64(o.value, 0, le);
              break;
            case OPT.isb_usrdeliv:
              isb.usrDeliv = u64(o.value, 0, le);
              break;
          }
        }
        return isb;
      }
      default:
        return { kind: 'other', type, body };
    }
  }

  private iface(local: number): IfState {
    const id = this.section[local];
    const st = id === undefined ? undefined : this.ifaces[id];
    if (!st) throw new CaptureFormatError(`${this.label}: packet refers to undeclared interface ${local}`);
    return st;
  }
}

/** Convenience: iterate every block of a file and close it afterwards. */
export async function* readCapture(file: string, signal?: AbortSignal): AsyncGenerator<CaptureBlock> {
  const reader = await CaptureReader.open(file);
  try {
    for (;;) {
      signal?.throwIfAborted();
      const b = await reader.next();
      if (!b) return;
      yield b;
    }
  } finally {
    await reader.close();
  }
}
