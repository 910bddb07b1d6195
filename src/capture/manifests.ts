// Plan → Kubernetes objects, shaped exactly like Retina's capture Jobs and Secrets so that
// `kubectl retina capture list/download/delete` treat our captures as theirs. Pure: the session
// layer creates the Secret first (its generated name goes into the Jobs), then the Jobs, then
// patches the Secret with ownerReferencesFor(jobs) so deleting the Jobs deletes the Secret.
import { posix } from 'node:path';
import type {
  V1Container,
  V1EnvVar,
  V1Job,
  V1OwnerReference,
  V1Secret,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import {
  ANNOTATION_FILENAME,
  ANNOTATION_HOSTPATH,
  ANNOTATION_REQUEST,
  ANNOTATION_TIMESTAMP,
  BLOB_SECRET_GENERATE_NAME,
  BLOB_SECRET_KEY,
  BLOB_SECRET_MOUNT,
  CONTAINER_NAME,
  CREATED_BY_US,
  ENV,
  HOSTPATH_BASE_DIR,
  HOSTPATH_VOLUME,
  LABEL_CREATED_BY,
  NODE_LABEL_HOSTNAME,
  PVC_MOUNT,
  S3_SECRET_ACCESS_KEY,
  S3_SECRET_KEY_ID,
  S3_SECRET_MOUNT,
  TERMINATION_LOG,
  captureBaseName,
  captureLabels,
  formatGoDuration,
  type TargetPod,
} from '../contract/index.js';
import { pcapFilterFor, tcpdumpFilterFor } from './ipfilter.js';
import type { CapturePlan, PlannedNode } from './plan.js';
import { hasRemoteOutput, type CaptureRequest } from './request.js';

/** Retina: a finished Job's pod may still be uploading after a delete; give it 30 minutes. */
export const TERMINATION_GRACE_SECONDS = 1800;
/** Retina: deadline = capture duration + this upload buffer. */
export const DEADLINE_BUFFER_SECONDS = 1800;
/** Retina: finished Jobs are garbage-collected after 5 minutes when cleanup-after-upload is asked. */
export const TTL_AFTER_FINISHED_SECONDS = 300;

/**
 * Container resources. Requests are Retina's (10m / 64Mi). Limits are provisional — to be
 * measured by bench:worker: a libpcap writer in Node needs more CPU than tcpdump at high packet
 * rates (field notes: ~3-4 µs/packet with stock cap), so the CPU limit is above Retina's 100m.
 */
export const WORKER_RESOURCES = {
  requests: { cpu: '10m', memory: '64Mi' },
  limits: { cpu: '500m', memory: '300Mi' },
} as const;

/** S3 Secret prefix, as Retina's CLI names it (not in the shared contract: only the CLI creates it). */
export const S3_SECRET_GENERATE_NAME = 'capture-s3-upload-secret';
const PVC_VOLUME = 'pvc';

export interface BuildJobsOptions {
  /** Name of the created blob Secret (server-generated); required when outputs.blob is set. */
  blobSecretName?: string;
  /** Name of the created S3 Secret; required when outputs.s3 is set. */
  s3SecretName?: string;
  /** Retina's operator-configurable base dir; defaults to /var/log/retina/captures. */
  hostPathBaseDir?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

/** Labels on Jobs, their pods and the Secret: Retina's two plus our created-by marker. */
export function captureObjectLabels(captureName: string): Record<string, string> {
  return { ...captureLabels(captureName), [LABEL_CREATED_BY]: CREATED_BY_US };
}

/** Absolute directory on the node for the host path output (sub-path validated beforehand). */
export function resolveHostPath(subPath: string, baseDir: string = HOSTPATH_BASE_DIR): string {
  return posix.join(baseDir, posix.normalize(subPath.replace(/\\/g, '/')));
}

/** What the extension needs after a reload and Retina keeps only in env; never a secret. */
export function requestAnnotation(request: CaptureRequest, hostPath: string | undefined): string {
  const o = request.options;
  const out = request.outputs;
  return JSON.stringify({
    v: 1,
    mode: request.mode,
    durationSeconds: o.durationSeconds,
    maxSizeMB: o.maxSizeMB,
    ...(o.fileCount !== undefined ? { fileCount: o.fileCount } : {}),
    outputs: {
      ...(hostPath ? { hostPath } : {}),
      ...(out.blob ? { blob: true } : {}),
      ...(out.s3
        ? { s3: { bucket: out.s3.bucket, endpoint: out.s3.endpoint, region: out.s3.region, path: out.s3.path } }
        : {}),
      ...(out.pvc !== undefined ? { pvc: out.pvc } : {}),
    },
  });
}

function env(name: string, value: string): V1EnvVar {
  return { name, value };
}

function fieldEnv(name: string, fieldPath: string): V1EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

function nodeEnv(
  plan: CapturePlan,
  request: CaptureRequest,
  node: PlannedNode,
  hostPath: string | undefined,
): V1EnvVar[] {
  const o = request.options;
  const out = request.outputs;
  const ips = node.wholeNode ? [] : node.pods.flatMap((p) => p.ips);
  const tcpdumpFilter = tcpdumpFilterFor(o.include, o.exclude, ips);
  const pcapFilter = pcapFilterFor(o.filter, o.sourceIPs, o.destinationIPs);
  const list: V1EnvVar[] = [
    env(ENV.captureName, plan.name),
    // Retina writes the node name literally; the downward API gives the same value.
    fieldEnv(ENV.nodeHostName, 'spec.nodeName'),
    fieldEnv(ENV.podName, 'metadata.name'),
    env(ENV.startTimestamp, plan.timestamp),
    env(ENV.includeMetadata, String(o.includeMetadata)),
    env(ENV.duration, formatGoDuration(o.durationSeconds)),
    env(ENV.maxSize, String(o.maxSizeMB)),
  ];
  if (o.fileCount !== undefined) list.push(env(ENV.fileCount, String(o.fileCount)));
  if (o.interfaces.length) list.push(env(ENV.interfaces, o.interfaces.join(',')));
  list.push(env(ENV.packetSize, String(o.snapLength)));
  if (tcpdumpFilter) list.push(env(ENV.tcpdumpFilter, tcpdumpFilter));
  if (pcapFilter) list.push(env(ENV.pcapFilter, pcapFilter));
  if (hostPath) list.push(env(ENV.hostPath, hostPath));
  if (out.pvc !== undefined) list.push(env(ENV.pvc, out.pvc));
  if (out.s3) {
    list.push(
      env(ENV.s3Endpoint, out.s3.endpoint ?? ''),
      env(ENV.s3Region, out.s3.region ?? ''),
      env(ENV.s3Bucket, out.s3.bucket),
      env(ENV.s3Path, out.s3.path ?? ''),
    );
  }
  if (request.mode === 'pod' && !node.wholeNode && node.pods.length) {
    const pods: TargetPod[] = node.pods.map((p) => ({ namespace: p.namespace, name: p.name, ip: p.ip }));
    list.push(env(ENV.targetPods, JSON.stringify(pods)));
  }
  return list;
}

function volumes(request: CaptureRequest, opts: BuildJobsOptions, hostPath: string | undefined) {
  const vols: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  if (hostPath) {
    vols.push({ name: HOSTPATH_VOLUME, hostPath: { path: hostPath, type: 'DirectoryOrCreate' } });
    mounts.push({ name: HOSTPATH_VOLUME, mountPath: hostPath });
  }
  if (request.outputs.blob) {
    if (!opts.blobSecretName)
      throw new Error('buildJobs: outputs.blob needs opts.blobSecretName (create the Secret first)');
    // Retina names the volume after the Secret; kept so its tooling sees the same shape.
    vols.push({ name: opts.blobSecretName, secret: { secretName: opts.blobSecretName, defaultMode: 0o400 } });
    mounts.push({ name: opts.blobSecretName, mountPath: BLOB_SECRET_MOUNT, readOnly: true });
  }
  if (request.outputs.s3) {
    if (!opts.s3SecretName) throw new Error('buildJobs: outputs.s3 needs opts.s3SecretName (create the Secret first)');
    vols.push({ name: opts.s3SecretName, secret: { secretName: opts.s3SecretName, defaultMode: 0o400 } });
    mounts.push({ name: opts.s3SecretName, mountPath: S3_SECRET_MOUNT, readOnly: true });
  }
  if (request.outputs.pvc !== undefined) {
    vols.push({ name: PVC_VOLUME, persistentVolumeClaim: { claimName: request.outputs.pvc } });
    mounts.push({ name: PVC_VOLUME, mountPath: PVC_MOUNT });
  }
  return { vols, mounts };
}

function container(
  request: CaptureRequest,
  opts: BuildJobsOptions,
  envList: V1EnvVar[],
  mounts: V1VolumeMount[],
): V1Container {
  return {
    name: CONTAINER_NAME,
    image: request.workerImage,
    imagePullPolicy: opts.imagePullPolicy ?? 'IfNotPresent',
    env: envList,
    resources: {
      requests: { ...WORKER_RESOURCES.requests },
      limits: { ...WORKER_RESOURCES.limits },
    },
    // Least privilege. libpcap needs NET_RAW for its packet socket and NET_ADMIN for promiscuous
    // mode and interface/iptables metadata; nothing else. Retina also adds SYS_ADMIN and sets
    // hostIPC: neither is needed to capture, and SYS_ADMIN is close to full root on the node,
    // hostIPC exposes the node's shared memory. Root (uid 0) stays so the worker can write
    // into the root-owned host path directory; every other capability is dropped.
    securityContext: {
      runAsUser: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_RAW', 'NET_ADMIN'], drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: mounts,
    // The worker's result JSON; read from pod status, never from logs.
    terminationMessagePath: TERMINATION_LOG,
    terminationMessagePolicy: 'File',
  };
}

/** One Job per planned node. Throws only on caller errors (missing Secret names). */
export function buildJobs(plan: CapturePlan, request: CaptureRequest, opts: BuildJobsOptions = {}): V1Job[] {
  const hostPath = request.outputs.hostPath
    ? resolveHostPath(request.outputs.hostPath.subPath, opts.hostPathBaseDir)
    : undefined;
  const labels = captureObjectLabels(plan.name);
  const { vols, mounts } = volumes(request, opts, hostPath);
  const o = request.options;
  const ttl = o.cleanupAfterUpload && hasRemoteOutput(request.outputs);

  return plan.nodes.map((node): V1Job => {
    const annotations: Record<string, string> = {
      [ANNOTATION_FILENAME]: captureBaseName(plan.name, node.node, plan.timestamp),
      [ANNOTATION_TIMESTAMP]: plan.timestamp,
      ...(hostPath ? { [ANNOTATION_HOSTPATH]: hostPath } : {}),
    };
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        generateName: `${plan.name}-`,
        namespace: plan.namespace,
        labels: { ...labels },
        annotations: { [ANNOTATION_REQUEST]: requestAnnotation(request, hostPath) },
      },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: o.durationSeconds + DEADLINE_BUFFER_SECONDS,
        ...(ttl ? { ttlSecondsAfterFinished: TTL_AFTER_FINISHED_SECONDS } : {}),
        template: {
          metadata: { labels: { ...labels }, annotations },
          spec: {
            hostNetwork: true,
            restartPolicy: 'Never',
            terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
            // The worker never calls the Kubernetes API: no token in the pod.
            automountServiceAccountToken: false,
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    { matchExpressions: [{ key: NODE_LABEL_HOSTNAME, operator: 'In', values: [node.hostname] }] },
                  ],
                },
              },
            },
            tolerations: [
              { key: 'CriticalAddonsOnly', operator: 'Exists' },
              { effect: 'NoExecute', operator: 'Exists' },
              { effect: 'NoSchedule', operator: 'Exists' },
            ],
            containers: [container(request, opts, nodeEnv(plan, request, node, hostPath), mounts)],
            ...(vols.length ? { volumes: vols } : {}),
          },
        },
      },
    };
  });
}

function secret(
  plan: Pick<CapturePlan, 'name' | 'namespace'>,
  generateName: string,
  data: Record<string, string>,
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { generateName, namespace: plan.namespace, labels: captureObjectLabels(plan.name) },
    type: 'Opaque',
    stringData: data,
  };
}

/** Retina's blob Secret: `generateName: capture-blob-upload-secret` (no dash), key `blob-upload-url`. */
export function buildBlobSecret(plan: Pick<CapturePlan, 'name' | 'namespace'>, sasUrl: string): V1Secret {
  return secret(plan, BLOB_SECRET_GENERATE_NAME, { [BLOB_SECRET_KEY]: sasUrl });
}

export function buildS3Secret(
  plan: Pick<CapturePlan, 'name' | 'namespace'>,
  s3: { accessKeyId: string; secretAccessKey: string },
): V1Secret {
  return secret(plan, S3_SECRET_GENERATE_NAME, {
    [S3_SECRET_KEY_ID]: s3.accessKeyId,
    [S3_SECRET_ACCESS_KEY]: s3.secretAccessKey,
  });
}

/** Owner references to every created Job, for the Secret (garbage-collected with the last Job). */
export function ownerReferencesFor(jobs: V1Job[]): V1OwnerReference[] {
  return jobs.map((j) => {
    const name = j.metadata?.name;
    const uid = j.metadata?.uid;
    if (!name || !uid) throw new Error('ownerReferencesFor needs created Jobs (with metadata.name and metadata.uid)');
    return { apiVersion: 'batch/v1', kind: 'Job', name, uid };
  });
}
