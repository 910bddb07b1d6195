// Exec streams a 50 MB file out of a pod byte-exact (how the extension downloads a capture from
// its helper pod), and Log follows a container's output as it is written.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import {
  adminConfig,
  createTestNamespace,
  deleteTestNamespace,
  execToStream,
  running,
  shellPod,
  waitFor,
  waitPod,
} from './helpers.js';

const SIZE = 50 * 1024 * 1024;

describe('exec and log', () => {
  let ns = '';
  before(async () => {
    ns = await createTestNamespace('rc-exec');
  });
  after(async () => {
    if (ns) await deleteTestNamespace(ns);
  });

  it('Log follows output while the container writes it', async () => {
    const kc = adminConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    // Prints tick 1..N once per second-ish; the test waits for two ticks seen *via follow*.
    const pod = shellPod(
      'ticker',
      'rc-node-1',
      'i=0; while [ $i -lt 120 ]; do i=$((i+1)); echo tick $i; sleep 0.5; done',
    );
    await core.createNamespacedPod({ namespace: ns, body: pod });
    await waitPod(core, ns, 'ticker', 'Running', running);
    const out = new PassThrough();
    let seen = '';
    out.on('data', (c: Buffer) => (seen += c.toString()));
    const req = await new k8s.Log(kc).log(ns, 'ticker', 'main', out, { follow: true, tailLines: 1 });
    try {
      const first = await waitFor('a tick line', () => /tick (\d+)/.exec(seen)?.[1], {
        timeoutMs: 20_000,
        intervalMs: 50,
      });
      const later = Number(first) + 2;
      await waitFor(`tick ${later} arriving on the followed stream`, () => seen.includes(`tick ${later}\n`), {
        timeoutMs: 20_000,
        intervalMs: 50,
      });
    } finally {
      req.abort();
    }
  });

  it('streams a 50 MB file out of an emptyDir byte-exact', async () => {
    const kc = adminConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const script = `head -c ${SIZE} /dev/urandom > /data/blob && sha256sum /data/blob | cut -d' ' -f1 > /data/blob.sha && echo ready && exec sleep 3600`;
    const pod = shellPod('blob', 'rc-node-2', script, { volumes: [{ name: 'data', emptyDir: {} }] });
    pod.spec!.containers[0]!.volumeMounts = [{ name: 'data', mountPath: '/data' }];
    await core.createNamespacedPod({ namespace: ns, body: pod });
    await waitPod(core, ns, 'blob', 'Running', running);
    await waitFor(
      'the blob to be written',
      async () => (await core.readNamespacedPodLog({ name: 'blob', namespace: ns })).includes('ready'),
      { timeoutMs: 60_000, intervalMs: 250 },
    );

    let expected = '';
    const shaOut = new Writable({
      write(chunk: Buffer, _enc, cb) {
        expected += chunk.toString();
        cb();
      },
    });
    const s1 = await execToStream(kc, ns, 'blob', 'main', ['cat', '/data/blob.sha'], shaOut, 30_000);
    assert.equal(s1.status, 'Success');

    const hash = createHash('sha256');
    let bytes = 0;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        cb();
      },
    });
    const t0 = performance.now();
    const s2 = await execToStream(kc, ns, 'blob', 'main', ['cat', '/data/blob'], sink, 120_000);
    const secs = (performance.now() - t0) / 1000;
    assert.equal(s2.status, 'Success');
    assert.equal(bytes, SIZE);
    assert.equal(hash.digest('hex'), expected.trim());
    console.error(`exec: 50 MB in ${secs.toFixed(2)} s (${(SIZE / 1048576 / secs).toFixed(1)} MiB/s)`);
  });
});
