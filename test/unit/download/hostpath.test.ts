// Host-path download logic with a fake Kubernetes door: which pods are made, what is exec'd,
// that helper pods are always deleted, and that hostile annotations are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import {
  downloadCaptureFromHostPath,
  type HelperPodDoor,
  type PodManifest,
  type PodSummary,
} from '../../../src/download/hostpath.js';
import { captureArchive } from './corpus/build.js';

const TS = '20260101000000UTC';
const work = mkdtempSync(path.join(os.tmpdir(), 'hostpath-unit-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

class FakeDoor implements HelperPodDoor {
  created: PodManifest[] = [];
  deleted: string[] = [];
  execs: string[][] = [];
  constructor(
    private pods: PodSummary[],
    private files: Record<string, Buffer>,
  ) {}
  async listPods(): Promise<PodSummary[]> {
    return this.pods;
  }
  async createPod(_ns: string, pod: PodManifest): Promise<string> {
    this.created.push(pod);
    return `helper-${this.created.length}`;
  }
  async waitPodRunning(_ns: string, _name: string, _timeoutMs: number, _signal?: AbortSignal): Promise<void> {}
  async execStream(
    _ns: string,
    _pod: string,
    _c: string,
    cmd: string[],
    stdout: Writable,
  ): Promise<{ exitCode: number; stderr: string }> {
    this.execs.push(cmd);
    let code = 0;
    let err = '';
    if (cmd[0] === 'ls')
      stdout.write(
        Object.keys(this.files)
          .map((f) => path.basename(f))
          .join('\n') + '\n',
      );
    else if (cmd[0] === 'cat') {
      const f = this.files[cmd[1]!];
      if (f) {
        for (let i = 0; i < f.length; i += 1000) stdout.write(f.subarray(i, i + 1000));
      } else {
        code = 1;
        err = `cat: can't open '${cmd[1]}': No such file or directory`;
      }
    }
    await new Promise<void>((r) => stdout.end(r));
    return { exitCode: code, stderr: err };
  }
  async deletePod(_ns: string, name: string): Promise<void> {
    this.deleted.push(name);
  }
}

const pod = (node: string, ann: Record<string, string>): PodSummary => ({
  name: `cap-${node}`,
  namespace: 'ns',
  nodeName: node,
  labels: {},
  annotations: ann,
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'capture', effect: 'NoSchedule' }],
});

test('annotation path and ls path; helper pods as Retina makes them, always deleted', async () => {
  const a1 = captureArchive('cap', 'n1', { 'cap-n1-x.pcapng': Buffer.from('one') });
  const a2 = captureArchive('cap', 'n2', { 'cap-n2-x.pcapng': Buffer.from('two') });
  const door = new FakeDoor(
    [
      pod('n1', {
        'retina-capture-filename': `cap-n1-${TS}`,
        'retina-capture-hostpath': '/var/log/retina/captures/retina',
      }),
    ],
    {
      [`/host/var/log/retina/captures/retina/cap-n1-${TS}.tar.gz`]: a1,
      [`/host/data/caps/cap-n2-${TS}.tar.gz`]: a2,
      [`/host/data/caps/cap-n2-20250101000000UTC.tar.gz`]: Buffer.from('old'),
    },
  );
  const res = await downloadCaptureFromHostPath({
    door,
    namespace: 'ns',
    capture: 'cap',
    targetParent: path.join(work, 'a'),
    nodes: ['n2'],
    hostPath: '/data/caps',
  });
  assert.deepEqual(res.failures, []);
  assert.deepEqual(
    res.archives.map((a) => [a.node, a.blob]),
    [
      ['n1', `cap-n1-${TS}.tar.gz`],
      ['n2', `cap-n2-${TS}.tar.gz`],
    ],
  );
  assert.equal(door.created.length, 2);
  const p1 = door.created.find((p) => p.spec.nodeName === 'n1')!;
  assert.deepEqual(p1.metadata.labels, { 'retina.sh/app': 'download', 'capture-name': 'cap' });
  const c = (
    p1.spec.containers as {
      image: string;
      command: string[];
      volumeMounts: { mountPath: string; readOnly: boolean }[];
    }[]
  )[0]!;
  assert.equal(c.image, 'busybox');
  assert.equal(c.command[0], 'sleep');
  assert.deepEqual(c.volumeMounts[0], {
    name: 'hostpath',
    mountPath: '/host/var/log/retina/captures/retina',
    readOnly: true,
  });
  assert.deepEqual(p1.spec.tolerations, [
    { key: 'dedicated', operator: 'Equal', value: 'capture', effect: 'NoSchedule' },
  ]);
  const p2 = door.created.find((p) => p.spec.nodeName === 'n2')!;
  assert.equal((p2.spec.tolerations as unknown[]).length, 3, 'Retina tolerations when no capture pod');
  assert.deepEqual(door.execs.map((e) => e[0]).sort(), ['cat', 'cat', 'ls']);
  assert.deepEqual(door.deleted.sort(), ['helper-1', 'helper-2']);
});

test('hostile annotation file name is refused; failure still deletes the helper', async () => {
  const door = new FakeDoor(
    [pod('n1', { 'retina-capture-filename': '../../etc/shadow#', 'retina-capture-hostpath': '/x' })],
    {},
  );
  const res = await downloadCaptureFromHostPath({
    door,
    namespace: 'ns',
    capture: 'cap',
    targetParent: path.join(work, 'b'),
  });
  assert.equal(res.archives.length, 0);
  assert.match(res.failures[0]!.error, /is not an archive name of capture cap/);
  assert.equal(door.execs.length, 0);
  assert.deepEqual(door.deleted, ['helper-1']);
});

test('hostile host path annotation is refused before any pod is made', async () => {
  const door = new FakeDoor(
    [pod('n1', { 'retina-capture-filename': `cap-n1-${TS}`, 'retina-capture-hostpath': '/var/../etc' })],
    {},
  );
  await assert.rejects(
    downloadCaptureFromHostPath({ door, namespace: 'ns', capture: 'cap', targetParent: path.join(work, 'c') }),
    /not a clean absolute path/,
  );
  assert.equal(door.created.length, 0);
});

test('cat failing is a per-node failure with the command error', async () => {
  const door = new FakeDoor(
    [pod('n1', { 'retina-capture-filename': `cap-n1-${TS}`, 'retina-capture-hostpath': '/x' })],
    {},
  );
  const res = await downloadCaptureFromHostPath({
    door,
    namespace: 'ns',
    capture: 'cap',
    targetParent: path.join(work, 'd'),
  });
  assert.match(res.failures[0]!.error, /exited 1: cat: can't open/);
  assert.deepEqual(door.deleted, ['helper-1']);
});

test('no pods and no nodes: a message that says what to give', async () => {
  const door = new FakeDoor([], {});
  await assert.rejects(
    downloadCaptureFromHostPath({ door, namespace: 'ns', capture: 'cap', targetParent: path.join(work, 'e') }),
    /no pods of capture cap in namespace ns; if its Jobs were cleaned up, give the nodes and the host path/,
  );
});

test('helper pods: deleted in the background while unpacking, every delete awaited before returning; nodes in parallel', async () => {
  const nodes = ['n1', 'n2', 'n3'];
  const files: Record<string, Buffer> = {};
  for (const n of nodes)
    files[`/host/x/cap-${n}-${TS}.tar.gz`] = captureArchive('cap', n, { [`cap-${n}-x.pcapng`]: Buffer.from(n) });
  class SlowDelete extends FakeDoor {
    pendingDeletes = 0;
    running = 0;
    maxRunning = 0;
    override async waitPodRunning(): Promise<void> {
      this.maxRunning = Math.max(this.maxRunning, ++this.running);
      await new Promise((r) => setTimeout(r, 20));
      this.running--;
    }
    override async deletePod(ns: string, name: string): Promise<void> {
      this.pendingDeletes++;
      await new Promise((r) => setTimeout(r, 150));
      await super.deletePod(ns, name);
      this.pendingDeletes--;
    }
  }
  const door = new SlowDelete(
    nodes.map((n) => pod(n, { 'retina-capture-filename': `cap-${n}-${TS}`, 'retina-capture-hostpath': '/x' })),
    files,
  );
  let unpackWhileDeleting = false;
  const res = await downloadCaptureFromHostPath({
    door,
    namespace: 'ns',
    capture: 'cap',
    targetParent: path.join(work, 'bg'),
    onProgress: (p) => {
      if (p.phase === 'unpack' && door.pendingDeletes > 0) unpackWhileDeleting = true;
    },
  });
  assert.deepEqual(res.failures, []);
  assert.equal(res.archives.length, 3);
  assert.ok(unpackWhileDeleting, 'unpack does not wait for the helper pod delete');
  assert.equal(door.pendingDeletes, 0, 'every delete finished before the download returned');
  assert.deepEqual(door.deleted.sort(), ['helper-1', 'helper-2', 'helper-3']);
  assert.equal(door.maxRunning, 3, 'all three nodes fetched at once by default');
});

test('cancel during the fetch: every helper pod is deleted (and awaited) before the download rejects', async () => {
  const ctrl = new AbortController();
  class Hang extends FakeDoor {
    override async waitPodRunning(_ns: string, _n: string, _t: number, signal?: AbortSignal): Promise<void> {
      if (this.created.length === 2) setTimeout(() => ctrl.abort(new Error('user cancelled')), 10);
      await new Promise((_r, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error)));
    }
    override async deletePod(ns: string, name: string): Promise<void> {
      await new Promise((r) => setTimeout(r, 100));
      await super.deletePod(ns, name);
    }
  }
  const door = new Hang(
    ['n1', 'n2'].map((n) => pod(n, { 'retina-capture-filename': `cap-${n}-${TS}`, 'retina-capture-hostpath': '/x' })),
    {},
  );
  await assert.rejects(
    downloadCaptureFromHostPath({
      door,
      namespace: 'ns',
      capture: 'cap',
      targetParent: path.join(work, 'cancel'),
      signal: ctrl.signal,
    }),
    /user cancelled/,
  );
  assert.deepEqual(door.deleted.sort(), ['helper-1', 'helper-2']);
});

test('a node named like a path (and its archive) never becomes a local path', async () => {
  const target = path.join(work, 'node-escape', 'deep', 'target');
  for (const node of ['..', 'x\\..\\..\\..\\evil', 'nul']) {
    const file = `cap-${node}-${TS}`;
    const door = new FakeDoor([pod(node, { 'retina-capture-filename': file, 'retina-capture-hostpath': '/x' })], {
      [`/host/x/${file}.tar.gz`]: captureArchive('cap', node, { 'evil.pcapng': Buffer.from('pwned') }),
    });
    const res = await downloadCaptureFromHostPath({ door, namespace: 'ns', capture: 'cap', targetParent: target });
    assert.equal(res.archives.length, 0, node);
    assert.match(res.failures[0]!.error, /is not an archive name of capture cap/, node);
    assert.ok(!door.execs.some((c) => c[0] === 'cat'), node);
  }
  // Nothing next to or above the target: only the (empty) target itself.
  assert.deepEqual(readdirSync(path.join(work, 'node-escape')), ['deep']);
  assert.deepEqual(readdirSync(path.join(work, 'node-escape', 'deep')), ['target']);
  assert.deepEqual(readdirSync(target), []);
});
