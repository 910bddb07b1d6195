// Live packet capture for the worker: libpcap through the patched `cap` (patches/cap+0.2.1.patch).
//
// The patched binding formats every packet in C as a pcapng Enhanced Packet Block (timestamps in
// nanoseconds, i.e. the IDB must say if_tsresol=9, whatever `tsPrecision` is) into one reusable
// buffer and makes one JavaScript call per pcap_dispatch. This module turns that into:
//
//   const cap = LiveCapture.open({ device, filter, snapLength, bufferBytes, interfaceId });
//   cap.on('records', (chunk, packets) => fs.writeSync(fd, chunk)); // chunk: complete EPBs
//   ...
//   cap.close();        // final dispatch: 'records' may fire synchronously inside close()
//   cap.stats();        // still valid after close(): the counters at close time
//
// The `chunk` Buffer is a view of the native buffer and is only valid during the callback: write
// it synchronously or copy it. A listener that throws does not unwind through the native code: the
// error is re-emitted as 'error' on the next tick (unhandled 'error' ends the process, as usual).
// 'error' is also emitted (next tick) when capturing fails after open, e.g. the interface was
// deleted ("The interface went down" / ENODEV): no more records come; call close() as usual.
// close() called from inside a 'records' listener stops at once: the rest of that dispatch and
// what the kernel still holds are not delivered (the final drain only runs outside listeners).
//
// Open failures throw CaptureOpenError. Each open() uses a fresh native instance and a failed one
// is never touched again (the patch also makes a failed instance safe, belt and braces).
//
// Beyond the agreed shape: options `promiscuous` (default true) and `recordBufferBytes`; the
// 'error' event; `snapLength` (effective) and `warning` properties; `packets` (EPBs delivered).
import { EventEmitter } from 'node:events';
import capModule from 'cap';
import type { NativeOpenError, NativeStats, OpenResult } from 'cap';

/** tcpdump's default snap length; what snapLength 0 means. */
export const FULL_SNAPLEN = 262144;
/** Bytes of an EPB around the packet data (28-byte header + 4-byte trailing length). */
export const EPB_OVERHEAD = 32;
const DEFAULT_RECORD_BUFFER = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 150;

export interface LiveCaptureOptions {
  device: string;
  /** libpcap filter expression; '' captures everything. */
  filter: string;
  /** Bytes kept per packet; 0 = full (262144). */
  snapLength: number;
  /** Kernel ring buffer size in bytes; 0 = libpcap's default (2 MiB). */
  bufferBytes: number;
  /** Read timeout: how long a partly filled kernel block waits before delivery (default 150). */
  timeoutMs?: number;
  /** pcapng interface id written into every EPB. */
  interfaceId: number;
  /** Promiscuous mode (default true). */
  promiscuous?: boolean;
  /** Size of the reusable record buffer (default 1 MiB, at least snap length + 32). */
  recordBufferBytes?: number;
}

export interface CaptureStats {
  /** pcap_stats ps_recv: packets that passed the filter, including those dropped. */
  received: number;
  /** ps_drop: dropped because the kernel buffer was full. */
  dropped: number;
  /** ps_ifdrop: dropped by the interface/driver. */
  ifDropped: number;
}

export type CaptureOpenErrorKind = 'filter' | 'device' | 'permission' | 'other';

export class CaptureOpenError extends Error {
  override readonly name = 'CaptureOpenError';
  constructor(
    /** libpcap's own text, e.g. "can't parse filter expression: syntax error". */
    readonly libpcapMessage: string,
    readonly kind: CaptureOpenErrorKind,
    readonly device: string,
  ) {
    super(`cannot capture on ${device}: ${libpcapMessage}`);
  }
}

// libpcap status codes (pcap/pcap.h).
const PCAP_ERROR_NO_SUCH_DEVICE = -5;
const PCAP_ERROR_PERM_DENIED = -8;
const PCAP_ERROR_IFACE_NOT_UP = -9;
const PCAP_ERROR_PROMISC_PERM_DENIED = -11;

/** Maps a native open() failure to a kind. Pure; exported for unit tests. */
export function classifyOpenError(
  stage: string | undefined,
  status: number | undefined,
  message: string,
): CaptureOpenErrorKind {
  if (stage === 'filter') return 'filter';
  if (status === PCAP_ERROR_NO_SUCH_DEVICE || status === PCAP_ERROR_IFACE_NOT_UP) return 'device';
  if (status === PCAP_ERROR_PERM_DENIED || status === PCAP_ERROR_PROMISC_PERM_DENIED) return 'permission';
  if (/operation not permitted|permission denied|you don't have permission/i.test(message)) return 'permission';
  if (/no such device|doesn't exist|not up|no such interface/i.test(message)) return 'device';
  return 'other';
}

/** pcap_datalink() gives a DLT_ value; pcapng wants the LINKTYPE_ value. They differ only for raw IP. */
export function dltToLinkType(dlt: number): number {
  if (dlt === 12 || dlt === 14) return 101; // DLT_RAW (Linux / OpenBSD) → LINKTYPE_RAW
  return dlt;
}

/** Record buffer size for a snap length: always room for one full packet. Pure. */
export function recordBufferSize(snapLength: number, requested?: number): number {
  const snap = snapLength > 0 ? snapLength : FULL_SNAPLEN;
  const min = EPB_OVERHEAD + ((snap + 3) & ~3);
  return Math.max(min, requested ?? DEFAULT_RECORD_BUFFER);
}

/** Events of LiveCapture: 'records' (chunk of complete EPBs, packet count) and 'error'. */
export interface LiveCaptureEvents {
  records: [chunk: Buffer, packets: number];
  error: [err: Error];
}

export class LiveCapture extends EventEmitter<LiveCaptureEvents> {
  /** LINKTYPE number for the IDB (1 = Ethernet). */
  readonly linkType: number;
  /** Actual timestamp resolution; EPB timestamps are in nanoseconds either way. */
  readonly tsPrecision: 'nano' | 'micro';
  /** Snap length in effect (for the IDB). */
  readonly snapLength: number;
  /** pcap_activate warning or precision fallback note, if any. */
  readonly warning: string | undefined;
  readonly device: string;
  readonly interfaceId: number;
  /** EPBs handed to 'records' listeners so far. */
  packets = 0;

  #cap: InstanceType<typeof capModule.Cap> | undefined;
  #buffer: Buffer;
  #closed = false;
  #finalStats: NativeStats | undefined;

  private constructor(
    cap: InstanceType<typeof capModule.Cap>,
    buffer: Buffer,
    info: OpenResult,
    opts: LiveCaptureOptions,
  ) {
    super();
    this.#cap = cap;
    this.#buffer = buffer;
    this.linkType = dltToLinkType(info.dlt);
    this.tsPrecision = info.tsPrecision;
    this.snapLength = info.snaplen;
    this.warning = info.warning;
    this.device = opts.device;
    this.interfaceId = opts.interfaceId;
    cap.on('records', (bytes: number, packets: number) => this.#onRecords(bytes, packets));
    // The device went away or polling failed: capture has stopped; close() is still expected.
    cap.on('capError', (message: string) => {
      const err = new Error(`capture on ${this.device} failed: ${message}`);
      process.nextTick(() => this.emit('error', err));
    });
  }

  /** Opens the device and starts capturing; records flow once a 'records' listener is attached. */
  static open(opts: LiveCaptureOptions): LiveCapture {
    const buffer = Buffer.allocUnsafe(recordBufferSize(opts.snapLength, opts.recordBufferBytes));
    // A fresh native instance per attempt: never reuse or close one whose open() failed.
    const cap = new capModule.Cap();
    let info: OpenResult;
    try {
      info = cap.open(opts.device, opts.filter, opts.bufferBytes, buffer, {
        snaplen: opts.snapLength,
        timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        immediate: false,
        promisc: opts.promiscuous ?? true,
        nanosecond: true,
        records: true,
        interfaceId: opts.interfaceId,
      });
    } catch (e) {
      const err = e as NativeOpenError;
      const message = err instanceof Error ? err.message : String(e);
      throw new CaptureOpenError(message, classifyOpenError(err.stage, err.pcapStatus, message), opts.device);
    }
    return new LiveCapture(cap, buffer, info, opts);
  }

  #onRecords(bytes: number, packets: number): void {
    this.packets += packets;
    try {
      this.emit('records', this.#buffer.subarray(0, bytes), packets);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      process.nextTick(() => this.emit('error', err));
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** libpcap's counters; after close(), the counters at close time. */
  stats(): CaptureStats {
    const s = this.#finalStats ?? this.#cap?.stats();
    if (!s) return { received: 0, dropped: 0, ifDropped: 0 };
    return { received: s.received, dropped: s.dropped, ifDropped: s.ifDropped };
  }

  /**
   * Stops capturing. First hands over (as 'records', synchronously) every packet libpcap had
   * accepted when close() was called, waiting at most timeoutMs + 100 ms for the kernel to
   * release a partly filled block. Idempotent.
   */
  close(): void {
    if (this.#closed || !this.#cap) return;
    this.#closed = true;
    const cap = this.#cap;
    cap.close();
    try {
      this.#finalStats = cap.stats();
    } catch {
      this.#finalStats = undefined;
    }
    cap.removeAllListeners('records');
    cap.removeAllListeners('capError');
    this.#cap = undefined;
  }
}

/**
 * Compiles a filter without a device (pcap_open_dead + pcap_compile). Returns libpcap's error
 * text, or undefined when the filter is valid. Link type Ethernet.
 */
export function validateFilter(filter: string, snapLength = 0): string | undefined {
  if (filter.trim() === '') return undefined;
  return capModule.Cap.compileFilter(filter, 1, snapLength > 0 ? snapLength : FULL_SNAPLEN) ?? undefined;
}
