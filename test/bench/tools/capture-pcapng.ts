// Capture child used by the live-capture test and the worker benchmark: LiveCapture writing a
// pcapng file (SHB, IDB with if_tsresol=9, the EPBs of the native record mode, an ISB at the end)
// with one fs.writeSync per batch, as the worker does. Run inside a namespace:
//
//   ip netns exec NS node --import tsx capture-pcapng.ts --device D --out F [--filter F]
//       [--snap N] [--buffer BYTES] [--timeout MS] [--if-id N] [--record-buffer BYTES]
//
// stdout, one JSON line each: {"event":"ready",...} once capturing, {"event":"done",...} after
// SIGTERM/SIGINT (or "stop" on stdin) once the file is complete, {"event":"error",...} when open
// fails (exit 2).
import { closeSync, openSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  OPT,
  interfaceDescription,
  interfaceStatistics,
  sectionHeader,
  filterOption,
  timestampOption,
} from '../../../src/pcap/format.js';
import { CaptureOpenError, LiveCapture } from '../../../worker/src/capture/live.js';

const { values } = parseArgs({
  options: {
    device: { type: 'string' },
    out: { type: 'string' },
    filter: { type: 'string', default: '' },
    snap: { type: 'string', default: '0' },
    buffer: { type: 'string', default: String(8 * 1024 * 1024) },
    timeout: { type: 'string', default: '150' },
    'if-id': { type: 'string', default: '0' },
    'record-buffer': { type: 'string' },
  },
});
if (!values.device || !values.out) {
  console.error('usage: capture-pcapng.ts --device D --out FILE [...]');
  process.exit(64);
}

function line(obj: Record<string, unknown>): void {
  writeSync(1, JSON.stringify(obj) + '\n');
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const startNs = nowNs();
let cap: LiveCapture;
try {
  cap = LiveCapture.open({
    device: values.device,
    filter: values.filter,
    snapLength: Number(values.snap),
    bufferBytes: Number(values.buffer),
    timeoutMs: Number(values.timeout),
    interfaceId: Number(values['if-id']),
    ...(values['record-buffer'] ? { recordBufferBytes: Number(values['record-buffer']) } : {}),
  });
} catch (e) {
  if (e instanceof CaptureOpenError) {
    line({ event: 'error', kind: e.kind, libpcapMessage: e.libpcapMessage, message: e.message });
    process.exit(2);
  }
  throw e;
}

const fd = openSync(values.out, 'w');
let bytes = 0;
let batches = 0;
const put = (b: Buffer): void => {
  writeSync(fd, b);
  bytes += b.length;
};
put(sectionHeader([{ code: OPT.shb_userappl, value: 'retina-capture live-capture test' }]));
// The IDBs of interfaces 0..id-1 are placeholders so that the EPBs' interface id is valid.
for (let i = 0; i <= cap.interfaceId; i++) {
  put(
    interfaceDescription(cap.linkType, cap.snapLength, [
      { code: OPT.if_name, value: i === cap.interfaceId ? cap.device : `unused${i}` },
      { code: OPT.if_tsresol, value: 9 },
      ...(values.filter ? [filterOption(values.filter)] : []),
    ]),
  );
}
cap.on('records', (chunk) => {
  batches++;
  put(chunk);
});
line({
  event: 'ready',
  linkType: cap.linkType,
  tsPrecision: cap.tsPrecision,
  snapLength: cap.snapLength,
  warning: cap.warning ?? null,
  pid: process.pid,
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  cap.close();
  const s = cap.stats();
  put(
    interfaceStatistics(cap.interfaceId, nowNs(), [
      timestampOption(OPT.isb_starttime, startNs),
      { code: OPT.isb_ifrecv, value: BigInt(s.received) },
      { code: OPT.isb_ifdrop, value: BigInt(s.ifDropped) },
      { code: OPT.isb_osdrop, value: BigInt(s.dropped) },
      { code: OPT.isb_usrdeliv, value: BigInt(cap.packets) },
    ]),
  );
  closeSync(fd);
  line({ event: 'done', stats: s, packets: cap.packets, batches, bytes });
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('data', (d) => {
  if (d.toString().includes('stop')) stop();
});
