// Types for the native `cap` module (0.2.1 with patches/cap+0.2.1.patch applied). cap ships no
// types; only what the worker uses is declared. The patch adds the options object of open(),
// record mode ('records' events), stats() and compileFilter().
declare module 'cap' {
  import { EventEmitter } from 'node:events';

  namespace cap {
    interface OpenOptions {
      /** Bytes kept per packet; 0 = 262144 (tcpdump's default). */
      snaplen?: number;
      /** Read timeout in ms (default 150). */
      timeout?: number;
      /** Immediate mode (default false: the kernel hands over whole TPACKET_V3 blocks). */
      immediate?: boolean;
      /** Promiscuous mode (default true). */
      promisc?: boolean;
      /** Ask for nanosecond timestamps (default true; falls back to microseconds). */
      nanosecond?: boolean;
      /** Record mode: packets are written as pcapng EPBs into the open() buffer. */
      records?: boolean;
      /** Interface id written into each EPB (default 0). */
      interfaceId?: number;
    }

    interface OpenResult {
      /** cap's link type name, e.g. 'ETHERNET'. */
      linkType: string;
      /** libpcap's DLT_ value (pcap_datalink). */
      dlt: number;
      tsPrecision: 'nano' | 'micro';
      /** The snap length libpcap uses (pcap_snapshot). */
      snaplen: number;
      /** pcap_activate warning or timestamp precision fallback. */
      warning?: string;
    }

    interface NativeStats {
      received: number;
      dropped: number;
      ifDropped: number;
      /** Packets handed to the record writer. */
      delivered: number;
      /** Packets cut because they did not fit the record buffer. */
      truncated: number;
    }

    /** Errors thrown by open() with options. */
    interface NativeOpenError extends Error {
      stage?: 'create' | 'activate' | 'filter' | 'setup';
      /** libpcap status code (PCAP_ERROR_*), negative. */
      pcapStatus?: number;
    }

    class Cap extends EventEmitter {
      constructor();
      open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
      open(device: string, filter: string, bufSize: number, buffer: Buffer, options: OpenOptions): OpenResult;
      close(): boolean;
      stats(): NativeStats;
      send(buffer: Buffer, length?: number): void;
      static compileFilter(filter: string, linkType?: number, snaplen?: number): string | undefined;
      static findDevice(ip?: string): string | undefined;
    }
  }

  export = cap;
}
