// The capture worker end to end inside network namespaces: real traffic of known count and
// content, real pcapng files checked with tshark and capinfos, real archives.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT, type CaptureManifest } from '../../../src/contract/index.js';
import { createNetns, sendUdp, type NetnsPair } from '../../support/netns.js';
import {
  TEST_TIMESTAMP,
  capinfos,
  listDir,
  readResult,
  runWorker,
  tshark,
  unpack,
  workerEnv,
} from '../../support/worker.js';

const TS = TEST_TIMESTAMP;

function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `rcx-${prefix}-`));
}

function sha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Tags (payload prefixes) of UDP packets to `port`, in file order. */
function udpTags(file: string, port: number): string[] {
  const out = tshark(file, '-Y', `udp.dstport == ${port} && !icmp`, '-T', 'fields', '-e', 'data.data');
  return out
    .split('\n')
    .filter(Boolean)
    .map((hex) => Buffer.from(hex.replace(/:/g, ''), 'hex').toString('latin1').split('-').slice(0, 2).join('-'));
}

function assertMonotonicPerInterface(file: string): void {
  const rows = tshark(file, '-T', 'fields', '-e', 'frame.interface_id', '-e', 'frame.time_epoch')
    .trim()
    .split('\n')
    .filter(Boolean);
  const last = new Map<string, number>();
  for (const r of rows) {
    const [id = '', t = ''] = r.split('\t');
    const v = Number(t);
    assert.ok(v >= (last.get(id) ?? 0), `timestamps go back on interface ${id}: ${v} < ${last.get(id)}`);
    last.set(id, v);
  }
}

describe('capture worker in network namespaces', { timeout: 150_000 }, () => {
  let net: NetnsPair;
  let podNet: NetnsPair;
  const dirs: string[] = [];
  before(() => {
    net = createNetns(false);
    podNet = createNetns(true);
  });
  after(() => {
    net?.destroy();
    podNet?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const workDirs = (): { hostDir: string; term: string } => {
    const d = tmp('w');
    dirs.push(d);
    return { hostDir: path.join(d, 'host'), term: path.join(d, 'term.json') };
  };

  test('node mode, duration stop: every packet in the file, metadata, manifest, ISBs', async () => {
    const { hostDir, term } = workDirs();
    const w = runWorker(net.node, workerEnv(hostDir, term, { CAPTURE_DURATION: '4s', CAPTURE_INTERFACES: net.nodeIf }));
    try {
      await w.waitFor(/capturing on/);
      await sendUdp(net.peer, net.nodeIp, 40000, 2000, { tag: 'node', size: 200 });
      const { code } = await w.exited;
      assert.equal(code, 0, w.stderr());
    } finally {
      w.kill('SIGKILL');
    }
    const r = readResult(term);
    assert.equal(r.status, 'ok');
    assert.equal(r.stopReason, 'duration');
    assert.equal(r.mode, 'node');
    const name = `rcx-cap-rc-node-1-${TS}.tar.gz`;
    assert.equal(r.archive?.name, name);
    assert.deepEqual(listDir(hostDir), [name], 'only the finished archive, no temp file');
    const archive = path.join(hostDir, name);
    assert.equal(r.archive?.sha256, sha(archive));
    assert.equal(r.archive?.bytes, statSync(archive).size);
    assert.match(w.stdout(), /^capture rcx-cap on rc-node-1: ok, \d+ packets/);

    const u = unpack(archive);
    try {
      const pcap = `rcx-cap-rc-node-1-${TS}.pcapng`;
      for (const e of [pcap, 'manifest.json', 'ip-resources.txt', 'iptables-rules.txt', 'socket-stats.txt'])
        assert.ok(u.entries.includes(e), `${e} in ${u.entries.slice(0, 12).join(', ')}`);
      assert.ok(u.entries.some((e) => e.startsWith('proc-net/')));
      assert.ok(u.entries.some((e) => e.startsWith('proc-sys-net/')));
      assert.ok(u.entries.every((e) => !e.startsWith('/') && !e.startsWith('..')));
      const file = path.join(u.dir, pcap);
      const tags = udpTags(file, 40000);
      assert.equal(tags.length, 2000, 'every sent packet is in the file');
      assert.equal(new Set(tags).size, 2000, 'no duplicates');
      assertMonotonicPerInterface(file);
      const read = spawnSync('tshark', ['-r', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.equal(read.status, 0);
      assert.equal(read.stderr.replace(/^Running as user "root".*\n/m, '').trim(), '', 'tshark -r warns');
      const info = capinfos(file);
      assert.match(info, /Capture application:\s+retina-capture-worker \d+\.\d+\.\d+/);
      assert.match(info, new RegExp(`Name = ${net.nodeIf}`));
      assert.match(info, new RegExp(`Description = node=rc-node-1 if=${net.nodeIf}`));
      assert.match(info, /Time precision = nanoseconds/);
      assert.match(info, /Number of stat entries = 1/);
      const m = JSON.parse(readFileSync(path.join(u.dir, 'manifest.json'), 'utf8')) as CaptureManifest;
      assert.equal(m.capture, 'rcx-cap');
      assert.equal(m.mode, 'node');
      assert.equal(m.interfaces[0]?.name, net.nodeIf);
      assert.ok((m.interfaces[0]?.packets ?? 0) >= 2000);
      assert.equal(m.interfaces[0]?.dropped, 0, 'no kernel drops at this rate');
      assert.equal(m.packets, r.packets);
      for (const f of m.files) assert.equal(sha(path.join(u.dir, f.path)), f.sha256, f.path);
      // ISB counters as tshark reads them.
      const isb = tshark(file, '-q', '-z', 'io,phs');
      assert.match(isb, /udp/);
      const stats = capinfos(file);
      assert.match(stats, /Number of packets:\s+\d+/);
    } finally {
      u.cleanup();
    }
  });

  test('pod-precise mode captures only the pod interface; SIGTERM mid-capture still yields an archive', async () => {
    const { hostDir, term } = workDirs();
    const pods = [{ namespace: 'default', name: 'web-0', ip: podNet.podIp as string }];
    const w = runWorker(
      podNet.node,
      workerEnv(hostDir, term, { CAPTURE_DURATION: '60s', RCAP_TARGET_PODS: JSON.stringify(pods) }),
    );
    let stopMs = 0;
    try {
      await w.waitFor(/capturing on/);
      await Promise.all([
        sendUdp(podNet.pod as string, podNet.podGwIp as string, 40001, 500, { tag: 'pod' }),
        sendUdp(podNet.peer, podNet.nodeIp, 40001, 500, { tag: 'peer' }),
      ]);
      const t = Date.now();
      w.kill('SIGTERM');
      const { code } = await w.exited;
      stopMs = Date.now() - t;
      assert.equal(code, 0, w.stderr());
    } finally {
      w.kill('SIGKILL');
    }
    const r = readResult(term);
    assert.equal(r.status, 'ok');
    assert.equal(r.stopReason, 'signal');
    assert.equal(r.mode, 'pod');
    assert.deepEqual(
      r.interfaces?.map((i) => [i.name, i.pod]),
      [[podNet.podHostIf, 'default/web-0']],
    );
    assert.ok(stopMs < 10_000, `stop took ${stopMs} ms`);
    const u = unpack(path.join(hostDir, r.archive?.name ?? ''));
    try {
      const file = path.join(u.dir, `rcx-cap-rc-node-1-${TS}.pcapng`);
      const tags = udpTags(file, 40001);
      assert.equal(tags.filter((t) => t.startsWith('pod-')).length, 500);
      assert.equal(tags.filter((t) => t.startsWith('peer-')).length, 0, 'no traffic of other interfaces');
      assertMonotonicPerInterface(file);
      assert.match(capinfos(file), /Description = node=rc-node-1 if=\S+ pod=default\/web-0/);
    } finally {
      u.cleanup();
    }
  });

  test('pod on another node / node subnet falls back to node interfaces with a pod-IP filter', async () => {
    const { hostDir, term } = workDirs();
    const pods = [{ namespace: 'default', name: 'elsewhere', ip: net.peerIp }];
    const w = runWorker(
      net.node,
      workerEnv(hostDir, term, {
        CAPTURE_DURATION: '60s',
        RCAP_TARGET_PODS: JSON.stringify(pods),
        INCLUDE_METADATA: 'false',
      }),
    );
    try {
      await w.waitFor(/capturing on/);
      await sendUdp(net.peer, net.nodeIp, 40002, 300, { tag: 'fb' });
      w.kill('SIGTERM');
      assert.equal((await w.exited).code, 0, w.stderr());
    } finally {
      w.kill('SIGKILL');
    }
    const r = readResult(term);
    assert.equal(r.mode, 'pod-fallback');
    assert.ok(
      r.warnings?.some((x) => x.includes('default/elsewhere') && x.includes('by IP')),
      JSON.stringify(r.warnings),
    );
    const u = unpack(path.join(hostDir, r.archive?.name ?? ''));
    try {
      assert.ok(!u.entries.includes('ip-resources.txt'), 'INCLUDE_METADATA=false');
      const file = path.join(u.dir, `rcx-cap-rc-node-1-${TS}.pcapng`);
      assert.equal(udpTags(file, 40002).length, 300);
      assert.match(capinfos(file), new RegExp(`Filter string = host ${net.peerIp.replace(/\./g, '\\.')}`));
    } finally {
      u.cleanup();
    }
  });

  test('rotation keeps the newest N self-contained files', async () => {
    const { hostDir, term } = workDirs();
    const w = runWorker(
      net.node,
      workerEnv(hostDir, term, {
        CAPTURE_MAX_SIZE: '1',
        CAPTURE_FILE_COUNT: '3',
        CAPTURE_INTERFACES: net.nodeIf,
        INCLUDE_METADATA: 'false',
        PCAP_FILTER: 'udp port 40003',
      }),
    );
    try {
      await w.waitFor(/capturing on/);
      await sendUdp(net.peer, net.nodeIp, 40003, 5000, { tag: 'rot', size: 1200 }); // ≈ 6.2 MB of pcapng
      w.kill('SIGTERM');
      assert.equal((await w.exited).code, 0, w.stderr());
    } finally {
      w.kill('SIGKILL');
    }
    const r = readResult(term);
    const u = unpack(path.join(hostDir, r.archive?.name ?? ''));
    try {
      const pcaps = u.entries
        .filter((e) => e.endsWith('.pcapng'))
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      assert.equal(pcaps.length, 3, pcaps.join(', '));
      const nums = pcaps.map((p) => Number(/-(\d+)\.pcapng$/.exec(p)?.[1] ?? 0));
      assert.ok(nums[0] !== undefined && nums[0] >= 3, `oldest files dropped: ${pcaps.join(', ')}`);
      assert.deepEqual(nums, [nums[0], (nums[0] ?? 0) + 1, (nums[0] ?? 0) + 2]);
      let seqs: number[] = [];
      for (const p of pcaps) {
        const file = path.join(u.dir, p);
        assert.match(capinfos(file), /Number of interfaces in file: 1/);
        seqs = seqs.concat(udpTags(file, 40003).map((t) => Number(t.split('-')[1])));
      }
      assert.ok(seqs.length > 1000);
      assert.equal(seqs.at(-1), 4999, 'the newest packets are kept');
      for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1] ?? 0) + 1, 'contiguous across files');
      assert.ok(r.warnings?.some((x) => /rotation: \d+ older file/.test(x)));
    } finally {
      u.cleanup();
    }
  });

  test('max size without file count stops the capture by itself', async () => {
    const { hostDir, term } = workDirs();
    const w = runWorker(
      net.node,
      workerEnv(hostDir, term, {
        CAPTURE_MAX_SIZE: '1',
        CAPTURE_DURATION: '60s',
        CAPTURE_INTERFACES: net.nodeIf,
        INCLUDE_METADATA: 'false',
      }),
    );
    try {
      await w.waitFor(/capturing on/);
      const sending = sendUdp(net.peer, net.nodeIp, 40004, 3000, { tag: 'max', size: 1200 });
      assert.equal((await w.exited).code, 0, w.stderr());
      await sending;
    } finally {
      w.kill('SIGKILL');
    }
    const r = readResult(term);
    assert.equal(r.stopReason, 'maxSize');
    const u = unpack(path.join(hostDir, r.archive?.name ?? ''));
    try {
      const size = statSync(path.join(u.dir, `rcx-cap-rc-node-1-${TS}.pcapng`)).size;
      assert.ok(size >= 1 << 20 && size < 3 << 20, `file size ${size}`);
    } finally {
      u.cleanup();
    }
  });

  test('a bad filter ends the worker with libpcap text and EXIT.badFilter before capturing', async () => {
    const { hostDir, term } = workDirs();
    const w = runWorker(net.node, workerEnv(hostDir, term, { CAPTURE_DURATION: '5s', PCAP_FILTER: 'tcp port and (' }));
    const { code } = await w.exited;
    assert.equal(code, EXIT.badFilter);
    const r = readResult(term);
    assert.equal(r.status, 'failed');
    assert.match(r.reason ?? '', /PCAP_FILTER: .*syntax error/);
    assert.doesNotMatch(w.stderr(), /capturing on/);
  });

  test('a missing interface ends the worker with EXIT.badInterface', async () => {
    const { hostDir, term } = workDirs();
    const w = runWorker(net.node, workerEnv(hostDir, term, { CAPTURE_DURATION: '5s', CAPTURE_INTERFACES: 'nope0' }));
    assert.equal((await w.exited).code, EXIT.badInterface);
    assert.match(readResult(term).reason ?? '', /interface nope0 does not exist/);
  });
});
