// Merges the captures of several nodes into ONE time-ordered pcapng.
//
// Streaming k-way merge: each input holds one pending record (packet or statistics block),
// a min-heap picks the earliest; memory is one read chunk per input plus a write buffer.
// Every input interface becomes its own IDB in the output (renumbered), named
// `<node>/<if_name>` so node-1/eth0 and node-2/eth0 stay apart; all timestamps are written
// in nanoseconds (if_tsresol=9). The same interface seen again in a rotated file of the same
// node (same node, name, link type and snap length) reuses its output IDB.
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import {
  BLOCK,
  OPT,
  encodeBlock,
  encodeOptions,
  filterOption,
  interfaceDescription,
  sectionHeader,
  timestampOption,
  writeTimestamp,
  type Option,
} from './format.js';
import {
  CaptureReader,
  type CaptureBlock,
  type InterfaceBlock,
  type PacketBlock,
  type RawOption,
  type StatisticsBlock,
} from './reader.js';

export interface MergeInput {
  path: string;
  /** Node the capture came from; prefixes interface names and descriptions. */
  node: string;
}

export interface MergeResult {
  packets: number;
  interfaces: number;
  statistics: number;
  /** Non-fatal: truncated inputs, skipped block types. */
  warnings: string[];
}

export interface MergeOptions {
  /** Shown in shb_userappl. */
  application?: string;
  /** Called every ~1000 packets with the count so far. */
  onProgress?: (packets: number) => void;
}

const WRITE_BUFFER = 1024 * 1024;

class BufferedWriter {
  private buf = Buffer.allocUnsafe(WRITE_BUFFER);
  private len = 0;
  constructor(private readonly fh: FileHandle) {}

  async write(b: Buffer): Promise<void> {
    if (this.len + b.length > this.buf.length) await this.flush();
    if (b.length > this.buf.length) {
      await this.fh.write(b);
      return;
    }
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  async flush(): Promise<void> {
    let off = 0;
    while (off < this.len) {
      const { bytesWritten } = await this.fh.write(this.buf, off, this.len - off);
      off += bytesWritten;
    }
    this.len = 0;
  }
}

interface Pending {
  input: number;
  seq: number;
  ts: bigint;
  block: PacketBlock | StatisticsBlock;
}

/** Min-heap on (timestamp, input index, sequence): stable for equal timestamps. */
class Heap {
  private a: Pending[] = [];
  get size(): number {
    return this.a.length;
  }
  private less(x: Pending, y: Pending): boolean {
    if (x.ts !== y.ts) return x.ts < y.ts;
    if (x.input !== y.input) return x.input < y.input;
    return x.seq < y.seq;
  }
  push(p: Pending): void {
    const a = this.a;
    a.push(p);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  pop(): Pending | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

// IDB options whose value bytes do not depend on the byte order: safe to copy from any section.
const BYTE_NEUTRAL_IF_OPTIONS = new Set([1, 4, 5, 6, 7, 11, 12, 13, 15]);
// Rewritten by the merge: name, description, tsresol, tsoffset.
const REWRITTEN_IF_OPTIONS = new Set<number>([OPT.if_name, OPT.if_description, OPT.if_tsresol, 14]);

function outputIdb(idb: InterfaceBlock, input: MergeInput, fileLabel: string): Buffer {
  const name = `${input.node}/${idb.name ?? fileLabel}`;
  const description = idb.description ? `${input.node}: ${idb.description}` : `${name} (${path.basename(input.path)})`;
  const options: Option[] = [
    { code: OPT.if_name, value: name },
    { code: OPT.if_description, value: description },
    { code: OPT.if_tsresol, value: 9 },
  ];
  for (const o of idb.options) {
    if (REWRITTEN_IF_OPTIONS.has(o.code)) continue;
    if (o.code === OPT.if_filter && idb.filter !== undefined) {
      options.push(filterOption(idb.filter));
      continue;
    }
    if (idb.littleEndian || BYTE_NEUTRAL_IF_OPTIONS.has(o.code)) options.push({ code: o.code, value: o.value });
  }
  return interfaceDescription(idb.linkType, idb.snapLength, options);
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function packetOptions(p: PacketBlock): Option[] {
  // EPB options are copied when their bytes need no swapping; comments always are.
  return p.options
    .filter((o: RawOption) => p.littleEndian || o.code === OPT.comment)
    .map((o) => ({ code: o.code, value: o.value }));
}

function outputEpb(interfaceId: number, p: PacketBlock): Buffer {
  const opts = p.source === 'epb' ? encodeOptions(packetOptions(p)) : Buffer.alloc(0);
  const body = Buffer.alloc(20 + pad4(p.data.length) + opts.length);
  body.writeUInt32LE(interfaceId, 0);
  writeTimestamp(body, 4, p.timestampNs);
  body.writeUInt32LE(p.data.length, 12);
  body.writeUInt32LE(p.originalLength, 16);
  p.data.copy(body, 20);
  opts.copy(body, 20 + pad4(p.data.length));
  return encodeBlock(BLOCK.EPB, body);
}

function outputIsb(interfaceId: number, s: StatisticsBlock): Buffer {
  const opts: Option[] = [];
  for (const c of s.comments) opts.push({ code: OPT.comment, value: c });
  if (s.startTimeNs !== undefined) opts.push(timestampOption(OPT.isb_starttime, s.startTimeNs));
  if (s.endTimeNs !== undefined) opts.push(timestampOption(OPT.isb_endtime, s.endTimeNs));
  if (s.ifRecv !== undefined) opts.push({ code: OPT.isb_ifrecv, value: s.ifRecv });
  if (s.ifDrop !== undefined) opts.push({ code: OPT.isb_ifdrop, value: s.ifDrop });
  if (s.filterAccept !== undefined) opts.push({ code: OPT.isb_filteraccept, value: s.filterAccept });
  if (s.osDrop !== undefined) opts.push({ code: OPT.isb_osdrop, value: s.osDrop });
  if (s.usrDeliv !== undefined) opts.push({ code: OPT.isb_usrdeliv, value: s.usrDeliv });
  const fixed = Buffer.alloc(12);
  fixed.writeUInt32LE(interfaceId, 0);
  writeTimestamp(fixed, 4, s.timestampNs);
  return encodeBlock(BLOCK.ISB, Buffer.concat([fixed, encodeOptions(opts)]));
}

interface InputState {
  input: MergeInput;
  reader: CaptureReader;
  /** File-wide interface id → output interface id. */
  ifMap: Map<number, number>;
  seq: number;
  done: boolean;
  label: string;
}

/**
 * Merges `inputs` (pcapng or classic pcap, any byte order) into one pcapng at `outPath`.
 * The output is written to `outPath` directly; on failure or abort it is removed.
 */
export async function mergeCaptures(
  inputs: readonly MergeInput[],
  outPath: string,
  signal?: AbortSignal,
  options: MergeOptions = {},
): Promise<MergeResult> {
  signal?.throwIfAborted();
  if (inputs.length === 0) throw new Error('mergeCaptures: no inputs');
  const states: InputState[] = [];
  const warnings: string[] = [];
  let out: FileHandle | undefined;
  let ok = false;
  try {
    for (const input of inputs) {
      const reader = await CaptureReader.open(input.path);
      states.push({
        input,
        reader,
        ifMap: new Map(),
        seq: 0,
        done: false,
        label: path.basename(input.path).replace(/\.(pcapng|pcap|cap)$/i, ''),
      });
    }
    out = await open(outPath, 'w', 0o600);
    const w = new BufferedWriter(out);
    const sources = inputs.map((i) => `${i.node}: ${path.basename(i.path)}`).join('; ');
    await w.write(
      sectionHeader([
        { code: OPT.comment, value: `Merged from ${inputs.length} capture file(s): ${sources}` },
        { code: OPT.shb_userappl, value: options.application ?? 'Retina Capture for VS Code' },
      ]),
    );

    const idbKeys = new Map<string, number>();
    let nextIf = 0;
    let statistics = 0;
    const skipped = new Set<string>();

    /** Reads an input up to its next timed record, writing IDBs as they come. */
    const advance = async (i: number): Promise<Pending | undefined> => {
      const st = states[i]!;
      for (;;) {
        const b: CaptureBlock | undefined = await st.reader.next();
        if (!b) {
          st.done = true;
          warnings.push(...st.reader.warnings);
          return undefined;
        }
        switch (b.kind) {
          case 'idb': {
            const key =
              b.name !== undefined ? `${st.input.node}\0${b.name}\0${b.linkType}\0${b.snapLength}` : undefined;
            const known = key === undefined ? undefined : idbKeys.get(key);
            if (known !== undefined) {
              st.ifMap.set(b.id, known);
            } else {
              const id = nextIf++;
              st.ifMap.set(b.id, id);
              if (key !== undefined) idbKeys.set(key, id);
              await w.write(outputIdb(b, st.input, st.label));
            }
            break;
          }
          case 'packet':
          case 'isb':
            return { input: i, seq: st.seq++, ts: b.timestampNs, block: b };
          case 'shb':
            break; // a new section: its IDBs follow and get fresh output ids
          case 'other': {
            const k = `${path.basename(st.input.path)}:0x${b.type.toString(16)}`;
            if (!skipped.has(k)) {
              skipped.add(k);
              warnings.push(`${path.basename(st.input.path)}: block type 0x${b.type.toString(16)} not carried over`);
            }
            break;
          }
        }
      }
    };

    const heap = new Heap();
    for (let i = 0; i < states.length; i++) {
      const p = await advance(i);
      if (p) heap.push(p);
    }
    let packets = 0;
    while (heap.size > 0) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('merge cancelled');
      const p = heap.pop()!;
      const st = states[p.input]!;
      const outId = st.ifMap.get(p.block.interfaceId);
      if (outId === undefined) throw new Error(`${st.input.path}: record for unknown interface ${p.block.interfaceId}`);
      if (p.block.kind === 'packet') {
        await w.write(outputEpb(outId, p.block));
        packets++;
        if (packets % 1000 === 0) options.onProgress?.(packets);
      } else {
        await w.write(outputIsb(outId, p.block));
        statistics++;
      }
      const next = await advance(p.input);
      if (next) heap.push(next);
    }
    await w.flush();
    ok = true;
    options.onProgress?.(packets);
    return { packets, interfaces: nextIf, statistics, warnings };
  } finally {
    await Promise.all(states.map((s) => s.reader.close().catch(() => undefined)));
    if (out) await out.close().catch(() => undefined);
    if (!ok && out) {
      const { rm } = await import('node:fs/promises');
      await rm(outPath, { force: true });
    }
  }
}
