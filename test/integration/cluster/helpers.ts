// Shared helpers of the cluster integration tests. The cluster comes from test/run.ts
// (env RETINA_TEST_KUBECONFIG) or from a `npm run cluster:up` done by hand.
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import {
  createTestNamespace,
  deleteTestNamespace,
  testKubeconfigPath,
  testLimitedKubeconfigPath,
} from '../../cluster/cluster.js';
import { isReady, statusOf } from '../../cluster/lib/kube.js';
import { waitFor } from '../../cluster/lib/wait.js';

export { createTestNamespace, deleteTestNamespace, isReady, statusOf, waitFor };

export function adminConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(testKubeconfigPath());
  return kc;
}

export function limitedConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(testLimitedKubeconfigPath());
  return kc;
}

/** Waits for a pod to satisfy `pred` (e.g. Running with an IP); fails early if it Failed. */
export async function waitPod(
  core: k8s.CoreV1Api,
  namespace: string,
  name: string,
  what: string,
  pred: (p: k8s.V1Pod) => boolean,
  timeoutMs = 60_000,
): Promise<k8s.V1Pod> {
  return waitFor(
    `pod ${namespace}/${name} ${what}`,
    async () => {
      const pod = await core.readNamespacedPod({ name, namespace });
      if (pred(pod)) return pod;
      if (pod.status?.phase === 'Failed') throw new Error(`pod failed: ${JSON.stringify(pod.status)}`);
      return undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

export const running = (p: k8s.V1Pod): boolean => p.status?.phase === 'Running' && !!p.status.podIP;

/** A long-running busybox-style pod pinned to a node (the image runs host commands). */
export function shellPod(
  name: string,
  node: string | undefined,
  script: string,
  extra: Partial<k8s.V1PodSpec> = {},
): k8s.V1Pod {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      ...(node ? { nodeName: node } : {}),
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', script] }],
      ...extra,
    },
  };
}

/** Runs `cmd` in a container through the apiserver's exec; resolves with stdout as a stream. */
export async function execToStream(
  kc: k8s.KubeConfig,
  ns: string,
  pod: string,
  container: string,
  cmd: string[],
  stdout: Writable,
  timeoutMs: number,
): Promise<k8s.V1Status> {
  const exec = new k8s.Exec(kc);
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise<k8s.V1Status>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`exec ${cmd.join(' ')} timed out after ${timeoutMs} ms; stderr: ${err}`)),
      timeoutMs,
    );
    exec
      .exec(ns, pod, container, cmd, stdout, stderr, null, false, (status) => {
        clearTimeout(timer);
        // The status arrives before the last stdout chunk is flushed through the stream:
        // resolve once the writable has finished too.
        if (stdout.writableFinished) resolve(status);
        else stdout.once('finish', () => resolve(status));
        stdout.end();
      })
      .then((ws) => ws.on('error', (e: Error) => reject(e)))
      .catch((e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      });
  });
}

/** Runs a host command with a hard timeout (tcpdump, ip netns exec); resolves with its output. */
export function hostCmd(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
