// pcapng building blocks (draft-ietf-opsawg-pcapng), little-endian. Shared by the worker
// (writing), the downloader (merging) and the summary view (reading).

export const BLOCK = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  SPB: 0x00000003,
  ISB: 0x00000005,
  EPB: 0x00000006,
} as const;

export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

export const OPT = {
  endofopt: 0,
  comment: 1,
  shb_hardware: 2,
  shb_os: 3,
  shb_userappl: 4,
  if_name: 2,
  if_description: 3,
  if_tsresol: 9,
  if_filter: 11,
  if_os: 12,
  if_hardware: 15,
  isb_starttime: 2,
  isb_endtime: 3,
  isb_ifrecv: 4,
  isb_ifdrop: 5,
  isb_filteraccept: 6,
  isb_osdrop: 7,
  isb_usrdeliv: 8,
} as const;

/** LINKTYPE_ETHERNET; the only link type our Linux interfaces produce (veth, eth, bridge). */
export const LINKTYPE_ETHERNET = 1;

export type OptionValue = string | Buffer | bigint | number;
export interface Option {
  code: number;
  /** string → UTF-8; bigint → u64; number → u8 (if_tsresol); Buffer → raw. */
  value: OptionValue;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function optionBytes(opt: Option): Buffer {
  let value: Buffer;
  if (typeof opt.value === 'string') value = Buffer.from(opt.value, 'utf8');
  else if (typeof opt.value === 'bigint') {
    value = Buffer.alloc(8);
    value.writeBigUInt64LE(opt.value);
  } else if (typeof opt.value === 'number') value = Buffer.from([opt.value & 0xff]);
  else value = opt.value;
  const out = Buffer.alloc(4 + pad4(value.length));
  out.writeUInt16LE(opt.code, 0);
  out.writeUInt16LE(value.length, 2);
  value.copy(out, 4);
  return out;
}

/** Encodes options, skipping empty strings, with the end-of-options marker. */
export function encodeOptions(options: readonly Option[]): Buffer {
  const parts = options.filter((o) => !(typeof o.value === 'string' && o.value === '')).map(optionBytes);
  if (parts.length === 0) return Buffer.alloc(0);
  parts.push(Buffer.alloc(4)); // opt_endofopt
  return Buffer.concat(parts);
}

/** Wraps a block body with type and both total-length fields. */
export function encodeBlock(type: number, body: Buffer): Buffer {
  const total = 12 + pad4(body.length);
  const out = Buffer.alloc(total);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(total, 4);
  body.copy(out, 8);
  out.writeUInt32LE(total, total - 4);
  return out;
}

export function sectionHeader(options: readonly Option[]): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  fixed.writeUInt16LE(1, 4);
  fixed.writeUInt16LE(0, 6);
  fixed.writeBigInt64LE(-1n, 8); // section length unknown: we stream
  return encodeBlock(BLOCK.SHB, Buffer.concat([fixed, encodeOptions(options)]));
}

export function interfaceDescription(linkType: number, snapLength: number, options: readonly Option[]): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(linkType, 0);
  fixed.writeUInt32LE(snapLength, 4);
  return encodeBlock(BLOCK.IDB, Buffer.concat([fixed, encodeOptions(options)]));
}

/** Timestamp in the interface's units (nanoseconds with if_tsresol=9) as pcapng's high/low pair. */
export function writeTimestamp(buf: Buffer, offset: number, ts: bigint): void {
  buf.writeUInt32LE(Number((ts >> 32n) & 0xffffffffn), offset);
  buf.writeUInt32LE(Number(ts & 0xffffffffn), offset + 4);
}

export function readTimestamp(buf: Buffer, offset: number): bigint {
  return (BigInt(buf.readUInt32LE(offset)) << 32n) | BigInt(buf.readUInt32LE(offset + 4));
}

export function enhancedPacket(interfaceId: number, ts: bigint, data: Buffer, originalLength = data.length): Buffer {
  const fixed = Buffer.alloc(20);
  fixed.writeUInt32LE(interfaceId, 0);
  writeTimestamp(fixed, 4, ts);
  fixed.writeUInt32LE(data.length, 12);
  fixed.writeUInt32LE(originalLength, 16);
  return encodeBlock(BLOCK.EPB, Buffer.concat([fixed, data, Buffer.alloc(pad4(data.length) - data.length)]));
}

export function interfaceStatistics(interfaceId: number, ts: bigint, options: readonly Option[]): Buffer {
  const fixed = Buffer.alloc(12);
  fixed.writeUInt32LE(interfaceId, 0);
  writeTimestamp(fixed, 4, ts);
  return encodeBlock(BLOCK.ISB, Buffer.concat([fixed, encodeOptions(options)]));
}

/** isb_starttime/endtime carry a timestamp as high/low u32 words, not a plain u64. */
export function timestampOption(code: number, ts: bigint): Option {
  const b = Buffer.alloc(8);
  writeTimestamp(b, 0, ts);
  return { code, value: b };
}

/** if_filter value: first byte 0 means "libpcap filter string". */
export function filterOption(filter: string): Option {
  return { code: OPT.if_filter, value: Buffer.concat([Buffer.from([0]), Buffer.from(filter, 'utf8')]) };
}
