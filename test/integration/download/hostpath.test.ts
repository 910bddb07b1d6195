// Host-path download against the test cluster (real apiserver, virtual nodes running pods as
// local processes): archives are placed on the nodes' host path (each node's root folder in
// the cluster state dir), then fetched through helper pods + exec cat, unpacked and merged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { createTestNamespace, deleteTestNamespace, readCluster, testKubeconfigPath } from '../../cluster/cluster.js';
import { downloadCaptureFromHostPath, type HostPathProgress } from '../../../src/download/hostpath.js';
import { mergeInputsFrom } from '../../../src/download/inputs.js';
import { PodExecDoor } from '../../../src/kube/podExec.js';
import { mergeCaptures } from '../../../src/pcap/merge.js';
import { captureArchive } from '../../unit/download/corpus/build.js';
import { node1Pcapng, node2PcapngBE } from '../../unit/pcap/fixtures.js';
import { ANNOTATION_FILENAME, ANNOTATION_HOSTPATH, captureLabels } from '../../../src/contract/index.js';

const CAPTURE = 'cap-hp';
const TS = '20260101000000UTC';
let ns = '';
let hostPath = '';
const placed: string[] = [];
const work = mkdtempSync(path.join(os.tmpdir(), 'hostpath-dl-'));
let core: k8s.CoreV1Api;

function nodeRoot(node: string): string {
  const info = readCluster();
  if (!info) throw new Error('cluster.json not found: the archives are placed through the node root folders');
  return path.join(info.state, 'nodes', node, 'root');
}

before(async () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(testKubeconfigPath());
  core = kc.makeApiClient(k8s.CoreV1Api);
  ns = await createTestNamespace('rc-hostdl');
  hostPath = `/var/log/retina/captures/${ns}`;
  const archives: Record<string, Buffer> = {
    'rc-node-1': captureArchive(CAPTURE, 'rc-node-1', { [`${CAPTURE}-rc-node-1-${TS}.pcapng`]: node1Pcapng().file }),
    'rc-node-2': captureArchive(CAPTURE, 'rc-node-2', { [`${CAPTURE}-rc-node-2-${TS}.pcapng`]: node2PcapngBE().file }),
  };
  for (const [node, buf] of Object.entries(archives)) {
    const dir = path.join(nodeRoot(node), hostPath);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${CAPTURE}-${node}-${TS}.tar.gz`), buf);
    // an older run of the same capture name and another capture: not to be picked
    writeFileSync(path.join(dir, `${CAPTURE}-${node}-20250101000000UTC.tar.gz`), Buffer.from('old'));
    writeFileSync(path.join(dir, `other-${node}-${TS}.tar.gz`), Buffer.from('x'));
    placed.push(dir);
  }
  // A capture pod as the Job leaves it on rc-node-1 (annotations say where the file is);
  // on rc-node-2 the Job is gone: the folder is listed instead.
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: {
        name: 'capture-rc-node-1',
        labels: captureLabels(CAPTURE),
        annotations: { [ANNOTATION_FILENAME]: `${CAPTURE}-rc-node-1-${TS}`, [ANNOTATION_HOSTPATH]: hostPath },
      },
      spec: {
        nodeName: 'rc-node-1',
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'capture', image: 'busybox', command: ['sh', '-c', 'true'] }],
      },
    },
  });
});

after(async () => {
  if (ns) await deleteTestNamespace(ns);
  for (const d of placed) rmSync(d, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

test('host path: helper pod per node, exec cat streamed to disk, unpacked, merged; helper pods deleted', async () => {
  const door = await PodExecDoor.fromFile(testKubeconfigPath());
  const events: HostPathProgress[] = [];
  const res = await downloadCaptureFromHostPath({
    door,
    namespace: ns,
    capture: CAPTURE,
    targetParent: path.join(work, 'out'),
    nodes: ['rc-node-2'],
    hostPath,
    podReadyTimeoutMs: 60_000,
    onProgress: (e) => events.push(e),
  });
  assert.deepEqual(res.failures, []);
  assert.deepEqual(
    res.archives.map((a) => [a.node, a.blob]),
    [
      ['rc-node-1', `${CAPTURE}-rc-node-1-${TS}.tar.gz`],
      ['rc-node-2', `${CAPTURE}-rc-node-2-${TS}.tar.gz`],
    ],
  );
  for (const a of res.archives) assert.ok(a.unpacked.manifest);
  assert.ok(events.some((e) => e.phase === 'helper-pod'));
  assert.ok(events.filter((e) => e.phase === 'done').length === 2);

  const out = path.join(work, 'merged.pcapng');
  const m = await mergeCaptures(mergeInputsFrom(res.archives), out);
  assert.equal(m.packets, 30);
  const names = execFileSync('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.interface_name'], { encoding: 'utf8' })
    .trim()
    .split('\n');
  assert.equal(names.length, 30);
  assert.deepEqual([...new Set(names)].sort(), ['rc-node-1/eth0', 'rc-node-1/veth1234', 'rc-node-2/eth0']);

  const helpers = await core.listNamespacedPod({ namespace: ns, labelSelector: 'retina.sh/app=download' });
  assert.ok(
    helpers.items.every((p) => p.metadata?.deletionTimestamp),
    `helper pods left: ${helpers.items.map((p) => p.metadata?.name).join(',')}`,
  );
});

test('host path: a missing file is a per-node failure and the helper pod is still deleted', async () => {
  const door = await PodExecDoor.fromFile(testKubeconfigPath());
  const res = await downloadCaptureFromHostPath({
    door,
    namespace: ns,
    capture: 'cap-none',
    targetParent: path.join(work, 'none'),
    nodes: ['rc-node-3'],
    hostPath,
    podReadyTimeoutMs: 60_000,
  });
  assert.equal(res.archives.length, 0);
  assert.equal(res.failures.length, 1);
  assert.match(
    res.failures[0]!.error,
    /no cap-none-rc-node-3-\*\.tar\.gz|ls .* failed|not a directory|hostPath type check/,
  );
  const helpers = await core.listNamespacedPod({
    namespace: ns,
    labelSelector: 'retina.sh/app=download,capture-name=cap-none',
  });
  assert.ok(helpers.items.every((p) => p.metadata?.deletionTimestamp));
});

test('PodExecDoor.execStream: exit codes, and a slow destination gets every byte (backpressure)', async () => {
  const door = await PodExecDoor.fromFile(testKubeconfigPath());
  const SIZE = 24 * 1024 * 1024;
  const name = await door.createPod(ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'exec-src', namespace: ns, labels: { app: 'exec-src' } },
    spec: {
      nodeName: 'rc-node-1',
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: [
            'sh',
            '-c',
            `head -c ${SIZE} /dev/urandom > /data/f && sha256sum /data/f > /data/f.sha && exec sleep 600`,
          ],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    },
  });
  try {
    await door.waitPodRunning(ns, name, 60_000);
    const { Writable } = await import('node:stream');
    const { createHash } = await import('node:crypto');
    let sha = '';
    for (let i = 0; i < 100 && !sha; i++) {
      let text = '';
      const r = await door.execStream(
        ns,
        name,
        'main',
        ['cat', '/data/f.sha'],
        new Writable({
          write(c: Buffer, _e, cb) {
            text += c.toString();
            cb();
          },
        }),
      );
      if (r.exitCode === 0 && /^[0-9a-f]{64}/.test(text)) sha = text.slice(0, 64);
      else await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(sha, 'the source file was written');
    const hash = createHash('sha256');
    let bytes = 0;
    let writes = 0;
    const slow = new Writable({
      highWaterMark: 64 * 1024,
      write(c: Buffer, _e, cb) {
        hash.update(c);
        bytes += c.length;
        // every 8th chunk waits: the destination is slower than the network
        if (++writes % 8 === 0) setTimeout(cb, 2);
        else cb();
      },
    });
    const rssBefore = process.memoryUsage().rss;
    const r = await door.execStream(ns, name, 'main', ['cat', '/data/f'], slow);
    assert.equal(r.exitCode, 0);
    assert.equal(bytes, SIZE);
    assert.equal(hash.digest('hex'), sha);
    console.error(
      `slow exec: rss grew ${((process.memoryUsage().rss - rssBefore) / 1048576).toFixed(1)} MiB for ${SIZE / 1048576} MiB`,
    );

    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const bad = await door.execStream(ns, name, 'main', ['sh', '-c', 'echo oops >&2; exit 3'], sink);
    assert.equal(bad.exitCode, 3);
    assert.match(bad.stderr, /oops/);
  } finally {
    await door.deletePod(ns, name);
  }
});
