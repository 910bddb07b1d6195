// A hostile blob listing against a tiny loopback fake of the Blob service: names whose node part
// is a path (`cap-x/../../../../evil-…`, a backslash spelling) are skipped, nothing is written
// outside the target, and the one honest archive still arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { downloadCaptureFromBlob } from '../../../src/download/blob.js';
import { captureArchive } from './corpus/build.js';

const TS = '20261126000000UTC';
const sandbox = mkdtempSync(path.join(os.tmpdir(), 'blob-hostile-'));
test.after(() => rmSync(sandbox, { recursive: true, force: true }));

function fakeBlobService(blobs: Record<string, Buffer>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const prefix = '/devstoreaccount1/cont';
    if (u.pathname === prefix && u.searchParams.get('comp') === 'list') {
      const items = Object.entries(blobs)
        .map(
          ([name, b]) =>
            `<Blob><Name>${name}</Name><Properties><Content-Length>${b.length}</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob>`,
        )
        .join('');
      res.writeHead(200, { 'content-type': 'application/xml', 'x-ms-version': '2024-05-04' });
      res.end(
        `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="cont"><Blobs>${items}</Blobs><NextMarker /></EnumerationResults>`,
      );
      return;
    }
    const name = decodeURIComponent(u.pathname.slice(prefix.length + 1));
    const body = blobs[name];
    if (!body) {
      res.writeHead(404, { 'x-ms-error-code': 'BlobNotFound' });
      res.end();
      return;
    }
    res.writeHead(200, {
      'content-length': body.length,
      'content-type': 'application/octet-stream',
      'x-ms-blob-type': 'BlockBlob',
      etag: '"0x1"',
      'last-modified': new Date(0).toUTCString(),
      'x-ms-version': '2024-05-04',
    });
    res.end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        server,
        url: `http://127.0.0.1:${port}/devstoreaccount1/cont?sv=2024-05-04&sr=c&sp=rl&se=2099-01-01T00:00:00Z&sig=fake`,
      });
    }),
  );
}

test('blob listing with path-like node names: skipped, nothing outside the target, the honest archive arrives', async () => {
  const evil = captureArchive('cap', 'evil', { 'evil.pcapng': Buffer.from('pwned') });
  const { server, url } = await fakeBlobService({
    [`cap-x/../../../../evil-${TS}.tar.gz`]: evil,
    [`cap-x\\..\\..\\..\\evil-${TS}.tar.gz`]: evil,
    [`cap-..-${TS}.tar.gz`]: evil,
    [`cap-node-1-${TS}.tar.gz`]: captureArchive('cap', 'node-1', { 'cap-node-1.pcapng': Buffer.from('good') }),
  });
  try {
    const target = path.join(sandbox, 'a', 'b', 'c', 'd', 'target');
    mkdirSync(target, { recursive: true });
    const res = await downloadCaptureFromBlob({ containerSasUrl: url, capture: 'cap', targetParent: target });
    assert.deepEqual(
      res.archives.map((a) => a.node),
      ['node-1'],
    );
    assert.deepEqual(res.failures, []);
    assert.ok(res.archives[0]!.unpacked.dir.startsWith(target + path.sep));
    // Nothing beside or above the target on the way up to the sandbox.
    for (let d = path.dirname(target); d.startsWith(sandbox + path.sep); d = path.dirname(d)) {
      assert.equal(readdirSync(d).length, 1, `${d}: ${readdirSync(d).join(', ')}`);
    }
    assert.deepEqual(readdirSync(sandbox), ['a']);
    assert.equal(readdirSync(target).length, 1);
  } finally {
    server.close();
  }
});
