// Blob download against a real Azurite: upload two node archives with the account key, then
// download with a read+list SAS, unpack, merge and read the result with tshark.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  BlobServiceClient,
  ContainerSASPermissions,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type ContainerClient,
} from '@azure/storage-blob';
import { downloadCaptureFromBlob, type BlobDownloadProgress } from '../../../src/download/blob.js';
import { mergeInputsFrom } from '../../../src/download/inputs.js';
import { mergeCaptures } from '../../../src/pcap/merge.js';
import { captureArchive } from '../../unit/download/corpus/build.js';
import { startAzurite, type Azurite } from '../../support/azurite.js';
import { classicPcap, node1Pcapng, node2PcapngBE } from '../../unit/pcap/fixtures.js';

const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const CAPTURE = 'cap-blob';
const TS = '20260101000000UTC';

let azurite: Azurite | undefined;
let port = 0;
let container: ContainerClient;
const cred = new StorageSharedKeyCredential(ACCOUNT, KEY);
const work = mkdtempSync(path.join(os.tmpdir(), 'blob-dl-'));

function sas(permissions: string, base = `http://127.0.0.1:${port}`, key = cred): string {
  const q = generateBlobSASQueryParameters(
    {
      containerName: container.containerName,
      permissions: ContainerSASPermissions.parse(permissions),
      startsOn: new Date(Date.now() - 5 * 60_000),
      expiresOn: new Date(Date.now() + 60 * 60_000),
    },
    key,
  ).toString();
  return `${base}/${ACCOUNT}/${container.containerName}?${q}`;
}

before(async () => {
  azurite = await startAzurite();
  port = azurite.port;
  const service = new BlobServiceClient(azurite.endpoint, cred);
  container = service.getContainerClient('captures');
  await container.create();
  const archives = {
    'node-1': captureArchive(CAPTURE, 'node-1', { [`${CAPTURE}-node-1-${TS}.pcapng`]: node1Pcapng().file }),
    'node-2': captureArchive(CAPTURE, 'node-2', {
      [`${CAPTURE}-node-2-${TS}.pcapng`]: node2PcapngBE().file,
      [`${CAPTURE}-node-2-${TS}-1.pcap`]: classicPcap({
        nano: true,
        be: false,
        tag: 'n2r',
        offsetNs: 900_000n,
        count: 4,
      }).file,
      'ip-resources.txt': Buffer.from('1: lo\n'),
    }),
  };
  for (const [node, buf] of Object.entries(archives)) {
    await container.getBlockBlobClient(`${CAPTURE}-${node}-${TS}.tar.gz`).uploadData(buf);
  }
  // Noise: another capture's archive and an unrelated blob.
  await container.getBlockBlobClient(`other-node-1-${TS}.tar.gz`).uploadData(Buffer.from('x'));
  await container.getBlockBlobClient(`${CAPTURE}-notes.txt`).uploadData(Buffer.from('x'));
});

after(async () => {
  await azurite?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('download with an rl SAS, unpack, merge, tshark reads one ordered capture', async () => {
  const events: BlobDownloadProgress[] = [];
  const target = path.join(work, 'ok');
  const res = await downloadCaptureFromBlob({
    containerSasUrl: sas('rl'),
    capture: CAPTURE,
    targetParent: target,
    concurrency: 2,
    onProgress: (p) => events.push(p),
  });
  assert.deepEqual(res.failures, []);
  assert.deepEqual(
    res.archives.map((a) => [a.node, a.timestamp]),
    [
      ['node-1', TS],
      ['node-2', TS],
    ],
  );
  for (const a of res.archives) {
    assert.ok(a.unpacked.manifest, 'manifest verified');
    assert.ok(a.unpacked.dir.startsWith(path.join(target, `${a.node}-`)));
  }
  assert.ok(events.some((e) => e.node === 'node-1' && e.phase === 'done'));
  assert.ok(events.some((e) => e.node === 'node-2' && e.phase === 'unpack' && e.bytes > 0));
  // archives removed after unpack (keepArchives false); only the two node folders remain
  assert.equal(readdirSync(target).length, 2);

  const inputs = mergeInputsFrom(res.archives);
  assert.equal(inputs.length, 3);
  const out = path.join(work, 'merged.pcapng');
  const m = await mergeCaptures(inputs, out);
  assert.equal(m.packets, 20 + 10 + 4);
  const rows = execFileSync(
    'tshark',
    ['-r', out, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.interface_name'],
    {
      encoding: 'utf8',
    },
  )
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  assert.equal(rows.length, 34);
  const times = rows.map((r) => Number(r[0]));
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!);
  assert.ok(new Set(rows.map((r) => r[1])).has('node-1/eth0'));
  assert.ok(new Set(rows.map((r) => r[1])).has('node-2/eth0'));
});

test('a SAS without list permission is refused with a clear message', async () => {
  await assert.rejects(
    downloadCaptureFromBlob({ containerSasUrl: sas('r'), capture: CAPTURE, targetParent: path.join(work, 'nolist') }),
    /lacks list \(l\) permission/,
  );
  await assert.rejects(
    downloadCaptureFromBlob({ containerSasUrl: sas('cw'), capture: CAPTURE, targetParent: path.join(work, 'cw') }),
    /lacks read \(r\) and list \(l\) permissions/,
  );
});

test('a SAS signed with the wrong key: the service says 403, we say why', async () => {
  const wrong = new StorageSharedKeyCredential(ACCOUNT, Buffer.alloc(64, 7).toString('base64'));
  await assert.rejects(
    downloadCaptureFromBlob({
      containerSasUrl: sas('rl', undefined, wrong),
      capture: CAPTURE,
      targetParent: path.join(work, 'bad'),
    }),
    (err: Error) => {
      assert.match(err.message, /rejected the SAS|denied \(403/);
      assert.doesNotMatch(err.message, /sig=/);
      return true;
    },
  );
});

test('5xx on download is retried with backoff; nothing found is an error', async () => {
  // A proxy that answers the first GET of each archive with 503.
  const failed = new Set<string>();
  const proxy = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url.includes('.tar.gz') && !failed.has(url.split('?')[0]!)) {
      failed.add(url.split('?')[0]!);
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>ServerBusy</Code><Message>busy</Message></Error>');
      return;
    }
    const up = http.request({ host: '127.0.0.1', port, method: req.method, path: url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const pport = (proxy.address() as net.AddressInfo).port;
  try {
    const events: BlobDownloadProgress[] = [];
    const res = await downloadCaptureFromBlob({
      containerSasUrl: sas('rl', `http://127.0.0.1:${pport}`),
      capture: CAPTURE,
      targetParent: path.join(work, 'retry'),
      retryBaseMs: 50,
      onProgress: (p) => events.push(p),
    });
    assert.equal(res.archives.length, 2);
    assert.deepEqual(res.failures, []);
    assert.equal(events.filter((e) => e.phase === 'retry').length, 2);
  } finally {
    proxy.close();
  }
  await assert.rejects(
    downloadCaptureFromBlob({ containerSasUrl: sas('rl'), capture: 'nope', targetParent: path.join(work, 'none') }),
    /no archives named nope-<node>-<timestamp>UTC\.tar\.gz/,
  );
});

test('cancel removes what was written', async () => {
  const ac = new AbortController();
  const target = path.join(work, 'cancel');
  const p = downloadCaptureFromBlob({
    containerSasUrl: sas('rl'),
    capture: CAPTURE,
    targetParent: target,
    signal: ac.signal,
    onProgress: (e) => {
      if (e.phase === 'download') ac.abort(new Error('user cancelled'));
    },
  });
  await assert.rejects(p, /cancelled|abort/i);
  assert.ok(!existsSync(target) || readdirSync(target).length === 0, readdirSync(target).join(','));
});
