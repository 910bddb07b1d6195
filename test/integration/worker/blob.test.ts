// Blob output against a real Azurite: uploads through container SAS URLs only, block uploads,
// 403s that name the missing permission, retries on 5xx and network errors, and the worker's
// blob path end to end with the SAS signature never reaching any output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT } from '../../../src/contract/index.js';
import { uploadToBlob } from '../../../worker/src/outputs/blob.js';
import {
  containerSas,
  downloadBlob,
  exposeInNetns,
  freePort,
  listBlobs,
  setStoredPolicy,
  startAzurite,
  type Azurite,
} from '../../support/azurite.js';
import { createNetns, sendUdp, type NetnsPair } from '../../support/netns.js';
import { readResult, runWorker, unpack } from '../../support/worker.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('blob output (Azurite)', { timeout: 120_000 }, () => {
  let az: Azurite;
  let dir: string;
  let net: NetnsPair;
  let bridge: { close(): Promise<void> } | undefined;
  before(async () => {
    az = await startAzurite();
    dir = mkdtempSync(path.join(os.tmpdir(), 'rcx-blob-'));
    net = createNetns(false);
    bridge = await exposeInNetns(az, net.node, dir);
  });
  after(async () => {
    await bridge?.close();
    await az?.stop();
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('single-shot and block uploads with a create+write SAS', async () => {
    const sas = await containerSas(az, 'rcx-up', 'cw');
    const small = path.join(dir, 'small.tar.gz');
    const big = path.join(dir, 'big.tar.gz');
    writeFileSync(small, randomBytes(100_000));
    writeFileSync(big, randomBytes(3_500_000));
    const r1 = await uploadToBlob(sas, 'small.tar.gz', small);
    assert.equal(r1.blocks, 0);
    const r2 = await uploadToBlob(sas, 'big.tar.gz', big, { singleShotMax: 1 << 20, blockSize: 1 << 20 });
    assert.equal(r2.blocks, 4);
    assert.equal(sha(await downloadBlob(az, 'rcx-up', 'big.tar.gz')), sha(readFileSync(big)));
    assert.equal(sha(await downloadBlob(az, 'rcx-up', 'small.tar.gz')), sha(readFileSync(small)));
  });

  test('403 without retry, naming the missing permission', async () => {
    const file = path.join(dir, 'f.tar.gz');
    writeFileSync(file, randomBytes(2_000_000));
    // Read-only through a stored access policy: the URL itself carries no sp to pre-check.
    await setStoredPolicy(az, 'rcx-ro', 'readonly', 'r');
    const ro = await containerSas(az, 'rcx-ro', '', { identifier: 'readonly', create: false });
    await assert.rejects(uploadToBlob(ro, 'f.tar.gz', file), (e: Error & { retryable?: boolean }) => {
      assert.match(e.message, /403.*lacks create \(c\) or write \(w\) permission/);
      assert.equal(e.retryable, false);
      return true;
    });
    // Create-only: a single put would pass, staging blocks needs write.
    const c = await containerSas(az, 'rcx-conly', 'c');
    await assert.rejects(
      uploadToBlob(c, 'f.tar.gz', file, { singleShotMax: 1 << 20, blockSize: 1 << 20 }),
      /403.*lacks write \(w\) permission/,
    );
    // A tampered signature.
    const bad = (await containerSas(az, 'rcx-up', 'cw')).replace(/sig=[^&]+/, 'sig=AAAA');
    await assert.rejects(uploadToBlob(bad, 'f.tar.gz', file), /403.*(signature was rejected|wrong signature)/);
  });

  test('retries 5xx and network errors with backoff, then gives up', async () => {
    let hits = 0;
    const srv: Server = createServer((_req, res) => {
      hits++;
      res.writeHead(503, { 'x-ms-error-code': 'ServerBusy' });
      res.end();
    });
    const port = await freePort();
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    try {
      const file = path.join(dir, 'g.tar.gz');
      writeFileSync(file, randomBytes(1000));
      const url = `http://127.0.0.1:${port}/devstoreaccount1/c?sv=2021-08-06&sp=cw&sig=SECRETSIG`;
      await assert.rejects(uploadToBlob(url, 'g.tar.gz', file, { maxTries: 3, baseDelayMs: 10 }), /503/);
      assert.equal(hits, 3);
      const closed = `http://127.0.0.1:${await freePort()}/devstoreaccount1/c?sv=2021-08-06&sp=cw&sig=SECRETSIG`;
      await assert.rejects(uploadToBlob(closed, 'g.tar.gz', file, { maxTries: 2, baseDelayMs: 10 }), (e: Error) => {
        assert.match(e.message, /network error/);
        assert.doesNotMatch(e.message, /SECRETSIG/);
        return true;
      });
    } finally {
      srv.close();
    }
  });

  test('worker uploads its archive; the SAS signature appears in no output', async () => {
    const sas = await containerSas(az, 'rcx-captures', 'cw');
    const sig = new URL(sas).searchParams.get('sig') as string;
    const secret = path.join(dir, 'blob-upload-url');
    writeFileSync(secret, sas + '\n');
    const term = path.join(dir, 'term-ok.json');
    const w = runWorker(net.node, {
      CAPTURE_NAME: 'rcx-blob',
      NODE_HOST_NAME: 'rc-node-2',
      CAPTURE_START_TIMESTAMP: '20261126050709UTC',
      CAPTURE_INTERFACES: net.nodeIf,
      RCAP_BLOB_SECRET_FILE: secret,
      RCAP_TERMINATION_LOG: term,
    });
    try {
      await w.waitFor(/capturing on/);
      await sendUdp(net.peer, net.nodeIp, 40010, 200, { tag: 'blob' });
      w.kill('SIGTERM');
      assert.equal((await w.exited).code, 0, w.stderr());
    } finally {
      w.kill('SIGKILL');
    }
    const r = readResult(term);
    assert.equal(r.status, 'ok');
    const name = 'rcx-blob-rc-node-2-20261126050709UTC.tar.gz';
    assert.deepEqual(r.outputs, [{ kind: 'blob', ok: true, location: name }]);
    assert.deepEqual(await listBlobs(az, 'rcx-captures'), [name]);
    const data = await downloadBlob(az, 'rcx-captures', name);
    assert.equal(sha(data), r.archive?.sha256);
    const local = path.join(dir, name);
    writeFileSync(local, data);
    const u = unpack(local);
    try {
      const texts = [
        w.stdout(),
        w.stderr(),
        readFileSync(term, 'utf8'),
        readFileSync(path.join(u.dir, 'manifest.json'), 'utf8'),
      ];
      for (const e of readdirSync(u.dir)) if (e.endsWith('.txt')) texts.push(readFileSync(path.join(u.dir, e), 'utf8'));
      for (const t of texts)
        assert.ok(!t.includes(sig) && !t.includes(encodeURIComponent(sig)), 'SAS signature leaked');
    } finally {
      u.cleanup();
    }
  });

  test('worker: a read-only SAS is refused before capturing; a rejected upload with a host path is partial', async () => {
    const ro = await containerSas(az, 'rcx-captures', 'rl');
    const secret = path.join(dir, 'ro-url');
    writeFileSync(secret, ro);
    const term = path.join(dir, 'term-ro.json');
    const w = runWorker(net.node, {
      CAPTURE_NAME: 'rcx-ro',
      NODE_HOST_NAME: 'n',
      CAPTURE_DURATION: '5s',
      RCAP_BLOB_SECRET_FILE: secret,
      RCAP_TERMINATION_LOG: term,
    });
    assert.equal((await w.exited).code, EXIT.badBlobUrl);
    const r = readResult(term);
    assert.match(r.reason ?? '', /the SAS lacks create \(c\) and write \(w\) permission/);
    assert.ok(!readFileSync(term, 'utf8').includes(new URL(ro).searchParams.get('sig') as string));

    // Stored-policy SAS (permissions not visible in the URL) → upload 403 → host path still counts.
    await setStoredPolicy(az, 'rcx-ro2', 'readonly', 'r');
    writeFileSync(secret, await containerSas(az, 'rcx-ro2', '', { identifier: 'readonly', create: false }));
    const host = path.join(dir, 'host-partial');
    const term2 = path.join(dir, 'term-partial.json');
    const w2 = runWorker(net.node, {
      CAPTURE_NAME: 'rcx-ro',
      NODE_HOST_NAME: 'n',
      CAPTURE_DURATION: '1s',
      CAPTURE_INTERFACES: net.nodeIf,
      INCLUDE_METADATA: 'false',
      HOSTPATH: host,
      RCAP_BLOB_SECRET_FILE: secret,
      RCAP_TERMINATION_LOG: term2,
    });
    assert.equal((await w2.exited).code, 0, w2.stderr());
    const r2 = readResult(term2);
    assert.equal(r2.status, 'partial');
    assert.equal(r2.outputs?.find((o) => o.kind === 'hostPath')?.ok, true);
    assert.match(r2.outputs?.find((o) => o.kind === 'blob')?.error ?? '', /403.*lacks create \(c\) or write \(w\)/);
    assert.match(r2.reason ?? '', /blob: blob upload refused \(403\)/);
  });
});
