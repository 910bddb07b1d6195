// Blob output end to end on the test cluster, over HTTPS: the real worker (dist/worker.cjs) on
// two nodes uploads its archive to Azurite on the bridge address 198.18.0.1 (serving cert
// signed by the cluster CA), then the engine downloads with a read+list SAS, unpacks, and the
// merged pcapng must hold the traffic between the two pods. Blob only, then host path + blob.
//
// This process talks HTTPS to 198.18.0.1 through @azure/storage-blob, so it needs
// NODE_EXTRA_CA_CERTS=<state>/pki/ca.crt at start (test/run.ts sets it; by hand:
// `NODE_EXTRA_CA_CERTS=.cache/cluster/state/pki/ca.crt npx tsx --test <this file>`).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import type { DownloadSummary, Engine } from '../../../src/engine.js';
import { mergeInputsFrom } from '../../../src/download/inputs.js';
import { mergeCaptures } from '../../../src/pcap/merge.js';
import { createDownloadSas, createUploadSas } from '../../../src/storage/sas.js';
import { createTestNamespace, deleteTestNamespace, readCluster } from '../../cluster/cluster.js';
import { clusterCaCert, startClusterAzurite, type ClusterAzurite } from '../../support/clusterBlob.js';
import { adminEngine, startTrafficPair, within } from './helpers.js';

/** Does the running cluster's image map already give the worker the cluster CA? */
function imageMapTrustsCa(imageMap: string): boolean {
  if (!existsSync(imageMap)) return false;
  const m = JSON.parse(readFileSync(imageMap, 'utf8')) as { images: { name: string; entrypoint: string[] }[] };
  return !!m.images
    .find((i) => i.name === 'retina-capture-worker')
    ?.entrypoint.some((a) => a.startsWith('NODE_EXTRA_CA_CERTS='));
}

/** Packets between the two pod IPs in a capture file, per interface name (tshark must not warn). */
function podToPod(file: string, a: string, b: string): Map<string, number> {
  const r = spawnSync(
    'tshark',
    ['-r', file, '-Y', `ip.addr == ${a} && ip.addr == ${b}`, '-T', 'fields', '-e', 'frame.interface_name'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(r.status, 0, `tshark failed: ${r.stderr}`);
  assert.equal(r.stderr.replace(/^Running as user "root".*\n?/m, '').trim(), '', `tshark warned: ${r.stderr}`);
  const perIf = new Map<string, number>();
  for (const name of r.stdout.split('\n').filter(Boolean)) perIf.set(name, (perIf.get(name) ?? 0) + 1);
  return perIf;
}

describe('blob output through the test cluster (HTTPS Azurite on 198.18.0.1)', () => {
  let engine: Engine | undefined;
  let ns: string | undefined;
  let az: ClusterAzurite | undefined;
  let tmp: string | undefined;
  let serverIP = '';
  let clientIP = '';
  /** Worker env for a cluster started before the image map carried NODE_EXTRA_CA_CERTS. */
  let mutateJobs: ((jobs: V1Job[]) => void) | undefined;

  before(async () => {
    const cluster = readCluster();
    if (!cluster || cluster.status !== 'ready') throw new Error('no test cluster: run `npm run cluster:up`');
    const ca = clusterCaCert(cluster);
    const extra = process.env.NODE_EXTRA_CA_CERTS;
    if (!extra || !existsSync(extra) || !readFileSync(extra, 'utf8').includes(readFileSync(ca, 'utf8').trim())) {
      throw new Error(
        `this test talks HTTPS to Azurite with a cert from the cluster CA: start it with NODE_EXTRA_CA_CERTS=${ca} (test/run.ts does)`,
      );
    }
    if (!imageMapTrustsCa(cluster.imageMap)) {
      console.error(
        'note: the running cluster was started before its image map set NODE_EXTRA_CA_CERTS for the worker; adding it to the Jobs',
      );
      mutateJobs = (jobs) => {
        for (const j of jobs)
          for (const c of j.spec?.template?.spec?.containers ?? [])
            c.env = [...(c.env ?? []), { name: 'NODE_EXTRA_CA_CERTS', value: ca }];
      };
    }
    tmp = mkdtempSync(path.join(os.tmpdir(), 'rc-blob-capture-'));
    az = await startClusterAzurite(cluster);
    engine = await adminEngine();
    ns = await createTestNamespace('eng-blob');
    ({ serverIP, clientIP } = await startTrafficPair(engine, ns, 'rc-node-1', 'rc-node-2'));
  });

  after(async () => {
    // Each step on its own: one failing must not leave the others behind.
    engine?.dispose();
    if (ns) await deleteTestNamespace(ns).catch((e: unknown) => console.error(`deleting ${ns}: ${String(e)}`));
    await az?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function capture(container: string, outputs: { hostPath?: { subPath: string } }): Promise<string> {
    assert.ok(engine && az && ns);
    await az.createContainer(container);
    const upload = await createUploadSas(az.account, container, { durationSeconds: 4 });
    const run = await engine.startCapture(
      {
        namespace: ns,
        targets: [
          { kind: 'pod', namespace: ns, name: 'server' },
          { kind: 'pod', namespace: ns, name: 'client' },
        ],
        outputs: { ...outputs, blob: { sasUrl: upload.url } },
        options: { durationSeconds: 4 },
      },
      { mutateJobs },
    );
    const summary = await within(run.done, 120_000, 'capture to finish');
    assert.ok(summary.ok, JSON.stringify(summary.nodes));
    assert.deepEqual(summary.nodes.map((n) => n.node).sort(), ['rc-node-1', 'rc-node-2']);
    for (const n of summary.nodes) {
      assert.equal(n.result?.status, 'ok', JSON.stringify(n.result));
      const blob = n.result?.outputs?.find((o) => o.kind === 'blob');
      assert.ok(blob?.ok, `blob output of ${n.node}: ${JSON.stringify(n.result?.outputs)}`);
      if (outputs.hostPath) {
        const hp = n.result?.outputs?.find((o) => o.kind === 'hostPath');
        assert.ok(hp?.ok, `host path output of ${n.node}: ${JSON.stringify(n.result?.outputs)}`);
      }
    }
    return run.name;
  }

  async function checkMerged(d: DownloadSummary, out: string): Promise<void> {
    assert.deepEqual(d.failures, []);
    assert.deepEqual(d.archives.map((a) => a.node).sort(), ['rc-node-1', 'rc-node-2']);
    const m = await mergeCaptures(mergeInputsFrom(d.archives), out);
    assert.ok(m.packets > 0, 'merged capture has packets');
    const perIf = podToPod(out, serverIP, clientIP);
    const total = [...perIf.values()].reduce((a, b) => a + b, 0);
    console.error(`${path.basename(out)}: ${m.packets} packets, server<->client ${JSON.stringify([...perIf])}`);
    assert.ok(total > 0, `no packets between ${serverIP} and ${clientIP} in ${out}`);
    // Both nodes saw the conversation: merged interface names are prefixed with the node.
    for (const node of ['rc-node-1', 'rc-node-2']) {
      assert.ok(
        [...perIf.keys()].some((i) => i.includes(node)),
        `no server<->client packets on ${node}'s interfaces: ${JSON.stringify([...perIf])}`,
      );
    }
  }

  it('blob only: workers upload over HTTPS, the engine downloads, unpacks and merges', async () => {
    assert.ok(engine && az && tmp);
    const container = `blob-only-${Math.random().toString(36).slice(2, 8)}`;
    const name = await capture(container, {});
    const read = await createDownloadSas(az.account, container);
    const d = await engine.download(name, { to: path.join(tmp, 'blob-only'), blobSasUrl: read.url });
    await checkMerged(d, path.join(tmp, 'blob-only.pcapng'));
  });

  it('host path + blob: the same archives reach both outputs', async () => {
    assert.ok(engine && az && tmp && ns);
    const container = `both-${Math.random().toString(36).slice(2, 8)}`;
    const name = await capture(container, { hostPath: { subPath: 'retina' } });
    const read = await createDownloadSas(az.account, container);
    const fromBlob = await engine.download(name, { to: path.join(tmp, 'both-blob'), blobSasUrl: read.url });
    await checkMerged(fromBlob, path.join(tmp, 'both-blob.pcapng'));
    const fromHost = await engine.download(name, { to: path.join(tmp, 'both-host'), namespace: ns });
    await checkMerged(fromHost, path.join(tmp, 'both-host.pcapng'));
    // Same archive per node either way.
    const names = (d: DownloadSummary): string[] =>
      d.archives.map((a) => `${a.node}:${a.unpacked.files.length}`).sort();
    assert.deepEqual(names(fromHost), names(fromBlob));
  });
});
