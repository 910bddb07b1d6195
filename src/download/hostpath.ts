// Host-path download, Retina's shape but streaming: for each node that ran the capture, a
// short-lived busybox pod on that node mounts the capture's host path read-only at
// `/host<hostpath>`; `exec cat` streams the archive straight to a file on disk; the pod is
// deleted (always); then the archive is unpacked safely and checked against manifest.json.
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ANNOTATION_FILENAME,
  ANNOTATION_HOSTPATH,
  APP_DOWNLOAD,
  assertSafePathComponent,
  LABEL_APP,
  LABEL_CAPTURE_NAME,
  captureSelector,
  parseArchiveName,
} from '../contract/index.js';
import type { NodeArchive } from './blob.js';
import { childPath } from './safePath.js';
import { DEFAULT_UNPACK_LIMITS, DiskBudget, unpackArchive, type UnpackLimits } from './unpack.js';

/** The few facts about a pod this module needs. */
export interface PodSummary {
  name: string;
  namespace: string;
  nodeName?: string;
  phase?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** As in the pod spec (plain JSON objects). */
  tolerations?: Toleration[];
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** A pod manifest as plain JSON (what the Kubernetes API takes). */
export interface PodManifest {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { generateName?: string; name?: string; namespace: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
}

/**
 * The Kubernetes calls a host-path download needs. src/kube/podExec.ts implements it with
 * @kubernetes/client-node; tests may fake it.
 */
export interface HelperPodDoor {
  listPods(namespace: string, labelSelector: string, signal?: AbortSignal): Promise<PodSummary[]>;
  /** Creates the pod; returns its name (generateName resolved). */
  createPod(namespace: string, pod: PodManifest, signal?: AbortSignal): Promise<string>;
  /** Resolves when the pod is Running; rejects when it fails, cannot start, or on timeout. */
  waitPodRunning(namespace: string, name: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /**
   * Runs `command` in the container, streaming its stdout into `stdout` (ended when the
   * command ends). Resolves with the exit code once every byte has been written.
   */
  execStream(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    stdout: Writable,
    signal?: AbortSignal,
  ): Promise<{ exitCode: number; stderr: string }>;
  deletePod(namespace: string, name: string): Promise<void>;
}

export interface HostPathProgress {
  node: string;
  file?: string;
  phase: 'helper-pod' | 'download' | 'unpack' | 'done' | 'failed';
  bytes: number;
  message?: string;
}

export interface HostPathDownloadOptions {
  door: HelperPodDoor;
  /** Namespace of the capture (its Jobs/pods, and where helper pods are created). */
  namespace: string;
  capture: string;
  targetParent: string;
  /**
   * Used when the capture pods are gone (Jobs cleaned up): the nodes to fetch from and the
   * host path the capture wrote to. Ignored for nodes whose capture pod still exists.
   */
  nodes?: readonly string[];
  hostPath?: string;
  /** Only archives with this timestamp, when listing the folder (default: the newest). */
  timestamp?: string;
  /** Helper image (default busybox; anything with sh, sleep, cat, ls). */
  image?: string;
  /** Helper pod lifetime cap: `sleep <n>` (default 900 s; the pod is deleted when done anyway). */
  sleepSeconds?: number;
  podReadyTimeoutMs?: number;
  /** Nodes fetched at once (default 4): pod start and `cat` of one node overlap another's unpack. */
  concurrency?: number;
  limits?: Partial<UnpackLimits>;
  signal?: AbortSignal;
  onProgress?: (p: HostPathProgress) => void;
}

export interface HostPathDownloadResult {
  archives: NodeArchive[];
  failures: { node: string; error: string }[];
}

const RETINA_TOLERATIONS: Toleration[] = [
  { key: 'CriticalAddonsOnly', operator: 'Exists' },
  { effect: 'NoExecute', operator: 'Exists' },
  { effect: 'NoSchedule', operator: 'Exists' },
];

const CONTAINER = 'download';

function checkHostPath(p: string): string {
  if (!p.startsWith('/') || p.split('/').includes('..') || /[\0\n]/.test(p)) {
    throw new Error(`the capture's host path "${p}" is not a clean absolute path`);
  }
  return p.replace(/\/+$/, '') || '/';
}

function checkFileName(file: string, capture: string): { node: string; timestamp: string } {
  const parsed = file.includes('/') ? undefined : parseArchiveName(file, capture);
  if (!parsed) throw new Error(`"${file}" is not an archive name of capture ${capture}`);
  return parsed;
}

/** The helper pod, as Retina's download creates it (plus read-only mount and small limits). */
export function helperPodManifest(opts: {
  namespace: string;
  capture: string;
  node: string;
  hostPath: string;
  image: string;
  sleepSeconds: number;
  tolerations: Toleration[];
}): PodManifest {
  const prefix = `${opts.capture}-download-`.slice(0, 58);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: prefix,
      namespace: opts.namespace,
      labels: { [LABEL_APP]: APP_DOWNLOAD, [LABEL_CAPTURE_NAME]: opts.capture },
    },
    spec: {
      nodeName: opts.node,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      activeDeadlineSeconds: opts.sleepSeconds + 60,
      tolerations: opts.tolerations,
      containers: [
        {
          name: CONTAINER,
          image: opts.image,
          command: ['sleep', String(opts.sleepSeconds)],
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '500m', memory: '64Mi' } },
          volumeMounts: [{ name: 'hostpath', mountPath: `/host${opts.hostPath}`, readOnly: true }],
        },
      ],
      volumes: [{ name: 'hostpath', hostPath: { path: opts.hostPath, type: 'Directory' } }],
    },
  };
}

/** Collects a small command output (ls) in memory, capped. */
class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.text.length + chunk.length > 1024 * 1024) return cb(new Error('command output over 1 MiB'));
    this.text += chunk.toString('utf8');
    cb();
  }
}

interface NodePlan {
  node: string;
  hostPath: string;
  file?: string;
  tolerations: Toleration[];
}

/**
 * Downloads and unpacks every node's archive of a host-path capture. Per-node problems land
 * in `failures`; cancel removes everything this call wrote and every helper pod.
 */
export async function downloadCaptureFromHostPath(opts: HostPathDownloadOptions): Promise<HostPathDownloadResult> {
  const { door, namespace, capture, signal } = opts;
  signal?.throwIfAborted();
  const pods = await door.listPods(namespace, captureSelector(capture), signal);
  const plans = new Map<string, NodePlan>();
  for (const pod of pods) {
    if (!pod.nodeName) continue;
    const hp = pod.annotations[ANNOTATION_HOSTPATH] ?? opts.hostPath;
    if (!hp) continue; // blob-only capture
    const fileBase = pod.annotations[ANNOTATION_FILENAME];
    plans.set(pod.nodeName, {
      node: pod.nodeName,
      hostPath: checkHostPath(hp),
      ...(fileBase ? { file: `${fileBase}.tar.gz` } : {}),
      tolerations: pod.tolerations?.length ? pod.tolerations : RETINA_TOLERATIONS,
    });
  }
  for (const node of opts.nodes ?? []) {
    if (plans.has(node)) continue;
    if (!opts.hostPath)
      throw new Error(`no capture pod of ${capture} on ${node}: give the host path the capture wrote to`);
    plans.set(node, { node, hostPath: checkHostPath(opts.hostPath), tolerations: RETINA_TOLERATIONS });
  }
  if (plans.size === 0) {
    throw new Error(
      pods.length === 0
        ? `no pods of capture ${capture} in namespace ${namespace}; if its Jobs were cleaned up, give the nodes and the host path`
        : `capture ${capture} has no host-path output (its pods carry no ${ANNOTATION_HOSTPATH} annotation)`,
    );
  }

  assertSafePathComponent(`.${capture}-archives-`, 'the capture name');
  await mkdir(opts.targetParent, { recursive: true });
  const downloads = await mkdtemp(path.join(opts.targetParent, `.${capture}-archives-`));
  const archives: NodeArchive[] = [];
  // Every archive of this capture draws from one disk budget (parallel unpacks included).
  const lim = { ...DEFAULT_UNPACK_LIMITS, ...opts.limits };
  const budget = new DiskBudget(lim.maxCaptureBytes, lim.minFreeBytes);
  const failures: HostPathDownloadResult['failures'] = [];
  const emit = (p: HostPathProgress): void => {
    try {
      opts.onProgress?.(p);
    } catch {
      // listeners never break a download
    }
  };

  // Helper pods are deleted as soon as their `cat` ends, in the background (the delete call
  // overlaps the unpack); every delete is awaited before this function returns or throws.
  const deletions: Promise<void>[] = [];
  const release = (name: string): void => {
    deletions.push(door.deletePod(namespace, name).catch(() => undefined));
  };

  const one = async (plan: NodePlan): Promise<void> => {
    let podName: string | undefined;
    let bytes = 0;
    let part: string | undefined;
    try {
      signal?.throwIfAborted();
      emit({ node: plan.node, phase: 'helper-pod', bytes: 0 });
      podName = await door.createPod(
        namespace,
        helperPodManifest({
          namespace,
          capture,
          node: plan.node,
          hostPath: plan.hostPath,
          image: opts.image ?? 'busybox',
          sleepSeconds: opts.sleepSeconds ?? 900,
          tolerations: plan.tolerations,
        }),
        signal,
      );
      await door.waitPodRunning(namespace, podName, opts.podReadyTimeoutMs ?? 120_000, signal);
      const dir = `/host${plan.hostPath}`;
      let file = plan.file;
      if (!file) {
        const out = new Collect();
        const ls = await door.execStream(namespace, podName, CONTAINER, ['ls', '-1', dir], out, signal);
        if (ls.exitCode !== 0) throw new Error(`ls ${plan.hostPath} on ${plan.node} failed: ${ls.stderr.trim()}`);
        const matches = out.text
          .split('\n')
          .map((l) => l.trim())
          .filter((name) => parseArchiveName(name, capture)?.node === plan.node)
          .filter((name) => !opts.timestamp || parseArchiveName(name, capture)?.timestamp === opts.timestamp)
          .sort();
        file = matches[matches.length - 1];
        if (!file) throw new Error(`no ${capture}-${plan.node}-*.tar.gz in ${plan.hostPath} on ${plan.node}`);
      }
      const { node, timestamp } = checkFileName(file, capture);
      if (node !== plan.node) throw new Error(`archive ${file} does not belong to node ${plan.node}`);
      part = childPath(downloads, `${file}.part`, 'the archive name');
      let lastEmit = 0;
      const node0 = plan.node;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          if (bytes - lastEmit >= 1024 * 1024) {
            lastEmit = bytes;
            emit({ node: node0, file, phase: 'download', bytes });
          }
          cb(null, chunk);
        },
      });
      const written = pipeline(counter, createWriteStream(part, { mode: 0o600 }));
      written.catch(() => undefined);
      emit({ node: plan.node, file, phase: 'download', bytes: 0 });
      let cat: { exitCode: number; stderr: string };
      try {
        cat = await door.execStream(namespace, podName, CONTAINER, ['cat', `${dir}/${file}`], counter, signal);
      } catch (err) {
        counter.destroy();
        throw err;
      }
      await written;
      if (cat.exitCode !== 0) {
        throw new Error(`cat ${plan.hostPath}/${file} on ${plan.node} exited ${cat.exitCode}: ${cat.stderr.trim()}`);
      }
      const archivePath = childPath(downloads, file, 'the archive name');
      await rename(part, archivePath);
      part = archivePath;
      // The helper pod is not needed for unpacking: free the node while we unpack.
      release(podName);
      podName = undefined;
      emit({ node: plan.node, file, phase: 'unpack', bytes });
      const unpacked = await unpackArchive(archivePath, opts.targetParent, opts.limits ?? {}, signal, {
        prefix: `${plan.node}-`,
        budget,
      });
      await rm(archivePath, { force: true });
      part = undefined;
      archives.push({ node: plan.node, timestamp, blob: file, bytes, unpacked });
      emit({ node: plan.node, file, phase: 'done', bytes });
    } catch (err) {
      if (signal?.aborted) throw err;
      const message = err instanceof Error ? err.message : String(err);
      failures.push({ node: plan.node, error: message });
      emit({ node: plan.node, phase: 'failed', bytes, message });
    } finally {
      if (podName) release(podName);
      if (part) await rm(part, { force: true });
    }
  };

  const list = [...plans.values()].sort((a, b) => (a.node < b.node ? -1 : 1));
  let next = 0;
  const limit = Math.max(1, Math.min(opts.concurrency ?? 4, list.length));
  try {
    // Every worker ends (and registers its pod's delete) before cleanup, also on cancel.
    const settled = await Promise.allSettled(
      Array.from({ length: limit }, async () => {
        while (next < list.length) await one(list[next++]!);
      }),
    );
    const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
  } catch (err) {
    await Promise.all(archives.map((a) => rm(a.unpacked.dir, { recursive: true, force: true })));
    throw err;
  } finally {
    await Promise.all([rm(downloads, { recursive: true, force: true }), Promise.all(deletions)]);
  }
  archives.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return { archives, failures };
}
