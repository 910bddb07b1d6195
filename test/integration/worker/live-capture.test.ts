// LiveCapture (patched cap, record mode) against real traffic: two network namespaces joined by a
// veth pair (rcw-t<pid>-a/-b, 198.18.200.0/24), UDP datagrams of known content sent from A, captured
// on B's veth by a child process writing pcapng (test/bench/tools/capture-pcapng.ts), checked with
// tshark and capinfos. Needs root, `ip`, tshark, capinfos. No cluster needed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupPair, teardownPair, type NetnsPair } from '../../bench/tools/netns.js';
import { payload } from '../../bench/tools/udp-send.js';
import { CaptureOpenError, LiveCapture, validateFilter } from '../../../worker/src/capture/live.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tools = path.join(root, 'test/bench/tools');
const isRoot = process.getuid?.() === 0;

interface Child {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: string;
  exited: Promise<number | null>;
  waitFor(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

const started = new Set<ChildProcess>();

/** Spawns `ip netns exec NS <args>` and collects its JSON stdout lines. */
function spawnInNs(ns: string, args: string[]): Child {
  const proc = spawn('ip', ['netns', 'exec', ns, ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  started.add(proc);
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buf = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (l.startsWith('{')) lines.push(JSON.parse(l) as Record<string, unknown>);
    }
    for (const w of waiters) w();
  });
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      started.delete(proc);
      for (const w of waiters) w();
      resolve(code);
    }),
  );
  const child: Child = {
    proc,
    lines,
    get stderr() {
      return stderr;
    },
    exited,
    waitFor(event, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = lines.find((l) => l.event === event);
          if (hit) {
            done();
            resolve(hit);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            done();
            reject(new Error(`child exited (${proc.exitCode ?? proc.signalCode}) before "${event}": ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for "${event}"; stderr: ${stderr}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
  return child;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function send(pair: NetnsPair, count: number, size: number): Promise<void> {
  const s = spawnInNs(pair.nsA, [
    process.execPath,
    '--import',
    'tsx',
    path.join(tools, 'udp-send.ts'),
    String(count),
    String(size),
  ]);
  const code = await s.exited;
  assert.equal(code, 0, `sender failed: ${s.stderr}`);
}

interface CaptureRun {
  done: Record<string, unknown>;
  stopMs: number;
}

async function capture(
  pair: NetnsPair,
  out: string,
  opts: { filter?: string; snap?: number; timeout?: number; recordBuffer?: number },
  traffic: () => Promise<void>,
): Promise<CaptureRun> {
  const args = [
    process.execPath,
    '--import',
    'tsx',
    path.join(tools, 'capture-pcapng.ts'),
    '--device',
    pair.devB,
    '--out',
    out,
    '--filter',
    opts.filter ?? 'udp',
    '--snap',
    String(opts.snap ?? 0),
    '--timeout',
    String(opts.timeout ?? 150),
  ];
  if (opts.recordBuffer) args.push('--record-buffer', String(opts.recordBuffer));
  const c = spawnInNs(pair.nsB, args);
  await c.waitFor('ready');
  await traffic();
  const t0 = Date.now();
  c.proc.kill('SIGTERM');
  const done = await c.waitFor('done');
  const stopMs = Date.now() - t0;
  assert.equal(await c.exited, 0);
  return { done, stopMs };
}

interface Frame {
  tsNs: bigint;
  len: number;
  capLen: number;
  payload: string;
}

function frames(file: string): Frame[] {
  const out = run('tshark', [
    '-r',
    file,
    '-T',
    'fields',
    '-E',
    'separator=|',
    '-e',
    'frame.time_epoch',
    '-e',
    'frame.len',
    '-e',
    'frame.cap_len',
    '-e',
    'udp.payload',
  ]);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [ts = '', len = '', capLen = '', pl = ''] = l.split('|');
      const [sec = '0', frac = ''] = ts.split('.');
      return {
        tsNs: BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9) || '0'),
        len: Number(len),
        capLen: Number(capLen),
        payload: pl.replace(/:/g, ''),
      };
    });
}

describe(
  'LiveCapture on a veth pair',
  { skip: isRoot ? false : 'needs root (network namespaces, raw sockets)' },
  () => {
    let pair: NetnsPair;
    let dir: string;

    before(() => {
      pair = setupPair(`t${process.pid % 100000}`);
      dir = mkdtempSync(path.join(os.tmpdir(), 'rcw-live-'));
    });

    after(async () => {
      for (const p of started) p.kill('SIGKILL');
      await Promise.all(
        [...started].map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))),
      );
      teardownPair(pair);
      rmSync(dir, { recursive: true, force: true });
    });

    test('every packet, exact content, nanosecond timestamps in order, stats', async () => {
      const N = 5000;
      const SIZE = 200;
      const file = path.join(dir, 'full.pcapng');
      const { done } = await capture(pair, file, {}, () => send(pair, N, SIZE));
      assert.equal(done.packets, N);
      const stats = done.stats as { received: number; dropped: number; ifDropped: number };
      assert.equal(stats.received, N);
      assert.equal(stats.dropped, 0);

      const fs = frames(file);
      assert.equal(fs.length, N);
      for (let i = 0; i < N; i++) {
        const f = fs[i]!;
        assert.equal(f.len, 42 + SIZE);
        assert.equal(f.capLen, 42 + SIZE);
        assert.equal(f.payload, payload(i, SIZE).toString('hex'), `payload of packet ${i}`);
        if (i > 0) assert.ok(f.tsNs >= fs[i - 1]!.tsNs, `timestamp ${i} goes backwards`);
      }
      // Nanosecond resolution: kernel timestamps are not multiples of 1 µs.
      const subMicro = fs.filter((f) => f.tsNs % 1000n !== 0n).length;
      assert.ok(subMicro > N * 0.9, `only ${subMicro} of ${N} timestamps have sub-µs digits`);
      const info = run('capinfos', ['-M', file]);
      assert.match(info, /Number of packets:\s+5000\b/);
      assert.match(info, /nanoseconds/);
      assert.match(info, /Strict time order:\s+True/);
    });

    test('small snap length keeps the original length; small record buffer flushes mid-dispatch', async () => {
      const N = 600;
      const SIZE = 1000;
      const file = path.join(dir, 'snap.pcapng');
      const { done } = await capture(pair, file, { snap: 64, recordBuffer: 4096 }, () => send(pair, N, SIZE));
      assert.equal(done.packets, N);
      // 600 records of 96 bytes cannot fit a 4 KiB buffer: many flushes.
      assert.ok((done.batches as number) >= Math.ceil((N * 96) / 4096), `batches ${String(done.batches)}`);
      const fs = frames(file);
      assert.equal(fs.length, N);
      for (const f of fs) {
        assert.equal(f.len, 42 + SIZE);
        assert.equal(f.capLen, 64);
      }
      assert.match(run('capinfos', ['-M', file]), /Capture length = 64/);
    });

    test('close() hands over packets still held in a partly filled kernel block', async () => {
      const N = 300;
      const file = path.join(dir, 'drain.pcapng');
      // A 2 s read timeout: without the drain in close() these packets would still be in the kernel.
      const { done, stopMs } = await capture(pair, file, { timeout: 2000 }, () => send(pair, N, 100));
      assert.equal(done.packets, N);
      assert.equal(frames(file).length, N);
      assert.ok(stopMs < 5000, `stop took ${stopMs} ms`);
    });

    test('a bad filter fails with kind "filter" and libpcap\'s text; a bad device with kind "device"', async () => {
      const bad = spawnInNs(pair.nsB, [
        process.execPath,
        '--import',
        'tsx',
        path.join(tools, 'capture-pcapng.ts'),
        '--device',
        pair.devB,
        '--out',
        path.join(dir, 'x.pcapng'),
        '--filter',
        'udp and and',
      ]);
      const e1 = await bad.waitFor('error');
      assert.equal(await bad.exited, 2);
      assert.equal(e1.kind, 'filter');
      assert.match(String(e1.libpcapMessage), /syntax error/);

      const nodev = spawnInNs(pair.nsB, [
        process.execPath,
        '--import',
        'tsx',
        path.join(tools, 'capture-pcapng.ts'),
        '--device',
        'rcw-nosuchdev',
        '--out',
        path.join(dir, 'y.pcapng'),
      ]);
      const e2 = await nodev.waitFor('error');
      assert.equal(await nodev.exited, 2);
      assert.equal(e2.kind, 'device');
      assert.match(String(e2.libpcapMessage), /No such device/i);
    });

    test('validateFilter and open errors in-process (no device needed for the filter)', () => {
      assert.equal(validateFilter('udp port 9 and host 198.18.200.3'), undefined);
      assert.equal(validateFilter(''), undefined);
      assert.match(validateFilter('udp and and') ?? '', /syntax error/);
      assert.match(validateFilter('port 99999') ?? '', /port/);
      assert.throws(
        () => LiveCapture.open({ device: 'rcw-nosuchdev', filter: '', snapLength: 0, bufferBytes: 0, interfaceId: 0 }),
        (e: unknown) =>
          e instanceof CaptureOpenError && e.kind === 'device' && /No such device/i.test(e.libpcapMessage),
      );
    });

    test('the interface disappearing mid-capture emits "error"; close() and stats() still work', async () => {
      // A veth pair of its own inside B, so that deleting it disturbs nothing else.
      run('ip', ['-n', pair.nsB, 'link', 'add', 'rcw-x0', 'type', 'veth', 'peer', 'name', 'rcw-x1']);
      run('ip', ['-n', pair.nsB, 'link', 'set', 'rcw-x0', 'up']);
      run('ip', ['-n', pair.nsB, 'link', 'set', 'rcw-x1', 'up']);
      const script = `
      import { LiveCapture } from ${JSON.stringify(path.join(root, 'worker/src/capture/live.ts'))};
      const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
      const cap = LiveCapture.open({ device: 'rcw-x0', filter: '', snapLength: 0, bufferBytes: 0, interfaceId: 0 });
      cap.on('records', () => undefined);
      cap.on('error', (e) => {
        out({ event: 'error', message: e.message });
        cap.close();
        out({ event: 'closed', stats: cap.stats(), closed: cap.closed });
        process.exit(0);
      });
      out({ event: 'ready' });
    `;
      const c = spawnInNs(pair.nsB, [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script]);
      await c.waitFor('ready');
      run('ip', ['-n', pair.nsB, 'link', 'del', 'rcw-x0']);
      const err = await c.waitFor('error');
      assert.match(String(err.message), /capture on rcw-x0 failed: .*(went down|No such device|ENODEV|bad file)/i);
      const closed = await c.waitFor('closed');
      assert.equal(closed.closed, true);
      assert.equal(await c.exited, 0);
    });

    test('close() from inside a "records" listener stops safely', async () => {
      const script = `
      import { LiveCapture } from ${JSON.stringify(path.join(root, 'worker/src/capture/live.ts'))};
      const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
      const cap = LiveCapture.open({ device: process.argv[1], filter: 'udp', snapLength: 0, bufferBytes: 0, interfaceId: 0, timeoutMs: 50, recordBufferBytes: 262176 });
      let calls = 0;
      cap.on('records', (chunk, n) => {
        calls++;
        cap.close();
        out({ event: 'closed', n, bytes: chunk.length, calls, stats: cap.stats() });
        setTimeout(() => { out({ event: 'done', calls }); process.exit(0); }, 300);
      });
      out({ event: 'ready' });
    `;
      const c = spawnInNs(pair.nsB, [
        process.execPath,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
        pair.devB,
      ]);
      await c.waitFor('ready');
      await send(pair, 2000, 100);
      const closed = await c.waitFor('closed');
      assert.ok((closed.n as number) >= 1);
      assert.ok((closed.stats as { received: number }).received >= 1);
      const done = await c.waitFor('done');
      assert.equal(done.calls, 1, 'no records after close()');
      assert.equal(await c.exited, 0);
    });

    test('patched native binding: failed open() leaves the instance usable; oversize packets are cut safely; legacy API unchanged', async () => {
      // Runs the native module directly in a child (a crash here must not take the test runner down).
      const script = `
      const { Cap } = require('cap');
      const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
      const c = new Cap();
      let firstError = '';
      try { c.open('rcw-nosuchdev', '', 0, Buffer.alloc(1024), { records: true }); } catch (e) { firstError = e.message + '|' + e.stage + '|' + e.pcapStatus; }
      const closedAfterFail = c.close();
      // Record mode with the smallest buffer (96 bytes: 64 bytes of data per EPB).
      const buf = Buffer.alloc(96);
      const info = c.open(process.argv[1], 'udp', 0, buf, { records: true, interfaceId: 3, timeout: 100 });
      const recs = [];
      c.on('records', (bytes, n) => recs.push({ bytes, n, epb: buf.subarray(0, bytes).toString('hex') }));
      // Legacy API on a second instance: no options, per-packet events.
      const legacy = new Cap();
      const lbuf = Buffer.alloc(65535);
      const linkType = legacy.open(process.argv[1], 'udp', 1024 * 1024, lbuf);
      let legacyPackets = 0, legacyLen = 0;
      legacy.on('packet', (n) => { legacyPackets++; legacyLen = n; if (legacyPackets === 5) out({ event: 'legacy' }); });
      out({ event: 'ready', firstError, closedAfterFail, info, linkType });
      process.stdin.on('data', () => {
        c.close();
        const st = c.stats();
        legacy.close();
        out({ event: 'done', recs, st, legacyPackets, legacyLen });
        process.exit(0);
      });
    `;
      const c = spawnInNs(pair.nsB, [process.execPath, '-e', script, pair.devB]);
      const ready = await c.waitFor('ready');
      assert.match(String(ready.firstError), /No such device.*\|activate\|-5/i);
      assert.equal(ready.closedAfterFail, false);
      assert.deepEqual((ready.info as { tsPrecision: string }).tsPrecision, 'nano');
      assert.equal(ready.linkType, 'ETHERNET');
      await send(pair, 5, 1000);
      // The legacy instance (immediate mode, per-packet events) has seen all 5.
      await c.waitFor('legacy');
      c.proc.stdin?.write('stop\n');
      const done = await c.waitFor('done');
      const recs = done.recs as { bytes: number; n: number; epb: string }[];
      assert.equal(
        recs.reduce((a, r) => a + r.n, 0),
        5,
      );
      for (const r of recs) {
        assert.equal(r.bytes, 96);
        const b = Buffer.from(r.epb, 'hex');
        assert.equal(b.readUInt32LE(0), 6); // EPB
        assert.equal(b.readUInt32LE(4), 96);
        assert.equal(b.readUInt32LE(8), 3); // interface id
        assert.equal(b.readUInt32LE(20), 64); // caplen: cut to the buffer
        assert.equal(b.readUInt32LE(24), 1042); // original length
        assert.equal(b.readUInt32LE(92), 96);
      }
      const st = done.st as { received: number; dropped: number; truncated: number; delivered: number };
      assert.equal(st.truncated, 5);
      assert.equal(st.delivered, 5);
      assert.equal(st.dropped, 0);
      assert.equal(done.legacyPackets, 5);
      assert.equal(done.legacyLen, 1042);
      assert.equal(await c.exited, 0);
    });
  },
);
