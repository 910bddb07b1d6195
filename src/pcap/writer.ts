// Streaming pcapng file writer shared by the capture worker and the downloader (merge).
// One section per file: SHB, one IDB per interface, then EPB chunks as they arrive, and at the
// end one ISB per interface. Writes are synchronous (fs.writeSync): a chunk handed over by the
// capture is only valid during its callback, and writeSync of ~256 KiB batches is the cheapest
// path measured (see field notes). The file's SHA-256 is computed while writing, so closing a
// 100 MB file costs no extra read.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { Hash } from 'node:crypto';
import {
  OPT,
  filterOption,
  interfaceDescription,
  interfaceStatistics,
  sectionHeader,
  timestampOption,
  type Option,
} from './format.js';

export interface SectionInfo {
  /** Free text (opt_comment), e.g. capture and node names. */
  comment?: string;
  /** shb_userappl, e.g. `retina-capture-worker 0.1.0`. */
  userAppl?: string;
  /** shb_os */
  os?: string;
  /** shb_hardware */
  hardware?: string;
}

export interface InterfaceInfo {
  /** if_name */
  name: string;
  /** if_description */
  description?: string;
  /** if_filter (libpcap filter string) */
  filter?: string;
  linkType: number;
  /** IDB snaplen; 0 means "no limit" in pcapng, we write the effective value. */
  snapLength: number;
  /** Units of every timestamp for this interface: if_tsresol 9 (ns) or 6 (µs). */
  tsResolution: 'nano' | 'micro';
  /** if_os */
  os?: string;
}

/** Counters at the end of a file; each is cumulative since capture start (pcapng semantics). */
export interface InterfaceStatistics {
  /** Capture start and end as Unix time in nanoseconds (converted to the interface's units). */
  startNs?: bigint;
  endNs?: bigint;
  /** isb_ifrecv: packets received by the filter (pcap_stats ps_recv). */
  received?: number;
  /** isb_ifdrop: packets lost before reaching us (kernel + interface drops), as dumpcap writes it. */
  ifDrop?: number;
  /** isb_osdrop: packets the OS (kernel ring buffer) dropped (ps_drop). */
  osDrop?: number;
  /** isb_usrdeliv: packets written to the file(s). */
  delivered?: number;
}

export function sectionHeaderBlock(info: SectionInfo): Buffer {
  const opts: Option[] = [];
  if (info.comment) opts.push({ code: OPT.comment, value: info.comment });
  if (info.hardware) opts.push({ code: OPT.shb_hardware, value: info.hardware });
  if (info.os) opts.push({ code: OPT.shb_os, value: info.os });
  if (info.userAppl) opts.push({ code: OPT.shb_userappl, value: info.userAppl });
  return sectionHeader(opts);
}

export function interfaceBlock(info: InterfaceInfo): Buffer {
  const opts: Option[] = [{ code: OPT.if_name, value: info.name }];
  if (info.description) opts.push({ code: OPT.if_description, value: info.description });
  opts.push({ code: OPT.if_tsresol, value: info.tsResolution === 'nano' ? 9 : 6 });
  if (info.filter) opts.push(filterOption(info.filter));
  if (info.os) opts.push({ code: OPT.if_os, value: info.os });
  return interfaceDescription(info.linkType, info.snapLength, opts);
}

export function statisticsBlock(interfaceId: number, tsResolution: 'nano' | 'micro', s: InterfaceStatistics): Buffer {
  const unit = (ns: bigint): bigint => (tsResolution === 'nano' ? ns : ns / 1000n);
  const end = s.endNs ?? BigInt(Date.now()) * 1_000_000n;
  const opts: Option[] = [];
  if (s.startNs !== undefined) opts.push(timestampOption(OPT.isb_starttime, unit(s.startNs)));
  opts.push(timestampOption(OPT.isb_endtime, unit(end)));
  if (s.received !== undefined) opts.push({ code: OPT.isb_ifrecv, value: BigInt(s.received) });
  if (s.ifDrop !== undefined) opts.push({ code: OPT.isb_ifdrop, value: BigInt(s.ifDrop) });
  if (s.osDrop !== undefined) opts.push({ code: OPT.isb_osdrop, value: BigInt(s.osDrop) });
  if (s.delivered !== undefined) opts.push({ code: OPT.isb_usrdeliv, value: BigInt(s.delivered) });
  return interfaceStatistics(interfaceId, unit(end), opts);
}

/** A pcapng file being written. Not safe to use after close(). */
export class PcapngFileWriter {
  private fd: number;
  private readonly hash: Hash | undefined;
  private closed = false;
  /** Bytes in the file so far. */
  bytes = 0;
  /** Packets written (as counted by the caller of writeRecords). */
  packets = 0;

  private constructor(
    readonly path: string,
    readonly interfaces: readonly InterfaceInfo[],
    hash: boolean,
  ) {
    this.fd = openSync(path, 'w', 0o644);
    // Loaded only when hashing: the capture worker does not, and keeps crypto out of its RSS.
    this.hash = hash ? process.getBuiltinModule('node:crypto').createHash('sha256') : undefined;
  }

  /**
   * Creates the file and writes SHB + one IDB per interface (interface id = array index).
   * `hash: false`: no SHA-256 while writing (close() returns none). The capture worker hashes
   * its files when it packs them instead: hashing here cost ~0.06 µs of CPU per 64-byte packet
   * in the capture loop, a third of what tcpdump spends on a packet.
   */
  static create(
    path: string,
    section: SectionInfo,
    interfaces: readonly InterfaceInfo[],
    opts: { hash?: boolean } = {},
  ): PcapngFileWriter {
    const w = new PcapngFileWriter(path, interfaces, opts.hash ?? true);
    w.write(Buffer.concat([sectionHeaderBlock(section), ...interfaces.map(interfaceBlock)]));
    return w;
  }

  /** Appends already-encoded blocks (EPBs); `packets` is how many packets they hold. */
  writeRecords(chunk: Buffer, packets: number): void {
    this.write(chunk);
    this.packets += packets;
  }

  private write(buf: Buffer): void {
    if (this.closed) throw new Error(`pcapng writer for ${this.path} is closed`);
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.hash?.update(buf);
    this.bytes += buf.length;
  }

  /**
   * Writes one ISB per interface (index-aligned with the IDBs; undefined skips one), syncs and
   * closes. Returns the file's size and SHA-256 (unless created with `hash: false`).
   */
  close(
    stats: readonly (InterfaceStatistics | undefined)[] = [],
    sync = false,
  ): { bytes: number; sha256: string | undefined } {
    if (this.closed) throw new Error(`pcapng writer for ${this.path} is already closed`);
    const isbs = this.interfaces
      .map((iface, i) => {
        const s = stats[i];
        return s ? statisticsBlock(i, iface.tsResolution, s) : undefined;
      })
      .filter((b): b is Buffer => b !== undefined);
    if (isbs.length) this.write(Buffer.concat(isbs));
    if (sync) fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
    return { bytes: this.bytes, sha256: this.hash?.digest('hex') };
  }
}
