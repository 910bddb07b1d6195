// What the user asks for: targets, options and outputs of one capture. Plain data, so the ui
// can build it from pickers and settings and the planner can be tested without a cluster.
import { CAPTURE_NAME_MAX } from '../contract/index.js';

/** A label selector as a map (`{app: 'web'}`) or in Kubernetes' string form (`app=web,tier!=db`). */
export type SelectorInput = Record<string, string> | string;

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'Job';
export const WORKLOAD_KINDS: readonly WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'];

export type CaptureTarget =
  | { kind: 'node'; name: string }
  | { kind: 'nodeSelector'; labels: SelectorInput }
  | { kind: 'pod'; namespace: string; name: string }
  | {
      kind: 'podSelector';
      podLabels: SelectorInput;
      /** Namespaces by label; wins over `namespace`. */
      namespaceLabels?: SelectorInput;
      /**
       * Namespace to search when no namespace selector is given. Defaults to the capture's own
       * namespace (Retina searches `default` here, which surprises everyone).
       */
      namespace?: string;
    }
  | { kind: 'workload'; namespace: string; workloadKind: WorkloadKind; name: string };

export interface CaptureOptions {
  /** 1..86400. Every capture has a duration, so every Job has a deadline. */
  durationSeconds: number;
  /** Per file when `fileCount` is set (rotation), else for the whole capture. */
  maxSizeMB: number;
  /** Rotating ring of files (tcpdump -W); needs `maxSizeMB`. */
  fileCount?: number;
  /** Bytes kept per packet; 0 = whole packet. */
  snapLength: number;
  /** User BPF expression (Retina's `pcapFilter`), compiled by libpcap in the worker. */
  filter: string;
  /** Retina's include/exclude forms: `10.0.0.1`, `10.0.0.1:80`, `*:80`, `80`, `[fd00::1]:80`. */
  include: string[];
  exclude: string[];
  sourceIPs: string[];
  destinationIPs: string[];
  /** Empty = every interface that is up. */
  interfaces: string[];
  includeMetadata: boolean;
  /**
   * Job create requests in flight at once while a capture starts (one Job per node): with 500
   * nodes and 10, the Jobs are created 10 at a time, each new request starting when one
   * finishes. It does not limit how many Jobs (or nodes) a capture has, nor how many Jobs run at
   * once afterwards: every Job starts capturing as soon as its pod runs, so that all nodes
   * capture the same period. The capture itself is bounded at MAX_CAPTURE_NODES (1000) nodes
   * (unlike Retina's `--job-num-limit`, this never refuses a capture).
   */
  maxConcurrentJobs: number;
  /** Let Kubernetes delete finished Jobs (TTL) when the archive went to remote storage. */
  cleanupAfterUpload: boolean;
}

export interface S3Output {
  endpoint?: string;
  bucket: string;
  region?: string;
  path?: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface CaptureOutputs {
  /** Relative sub-path under Retina's base dir (/var/log/retina/captures) on every node. */
  hostPath?: { subPath: string };
  /** Container SAS URL with create+write; it goes into a Secret, never into a manifest. */
  blob?: { sasUrl: string };
  s3?: S3Output;
  /** PersistentVolumeClaim name in the capture namespace. */
  pvc?: string;
}

export type CaptureMode = 'node' | 'pod';

/**
 * How the capture is started. `jobs` (default): we create one Job per node running our worker.
 * `captureResource`: we create a retina.sh Capture and Retina's operator creates the Jobs, with
 * Retina's own capture image (not our worker); needs the CRD and the operator in the cluster.
 */
export type CaptureVia = 'jobs' | 'captureResource';

export interface CaptureRequest {
  /** RFC 1123 label, ≤ 50 characters; generated when absent. */
  name?: string;
  /** Where the Jobs and the Secret are created. */
  namespace: string;
  targets: CaptureTarget[];
  options: CaptureOptions;
  outputs: CaptureOutputs;
  workerImage: string;
  /** `node`: whole node filtered by pod IPs (Retina's way). `pod`: the pods' own interfaces. */
  mode: CaptureMode;
  /** Default `jobs`. */
  via?: CaptureVia;
}

/** Retina CLI's defaults where it has one (1m, 100 MB, metadata on, no job limit → ours 100). */
export const DEFAULT_OPTIONS: Readonly<CaptureOptions> = Object.freeze({
  durationSeconds: 60,
  maxSizeMB: 100,
  snapLength: 0,
  filter: '',
  include: [],
  exclude: [],
  sourceIPs: [],
  destinationIPs: [],
  interfaces: [],
  includeMetadata: true,
  maxConcurrentJobs: 10,
  cleanupAfterUpload: false,
});

export function withDefaultOptions(partial: Partial<CaptureOptions>): CaptureOptions {
  return { ...DEFAULT_OPTIONS, ...partial };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * `capture-` + 6 random base-36 characters: short enough to leave room for node names in
 * archive names, random enough not to collide with a capture of the same minute.
 */
export function generateCaptureName(random: () => number = Math.random): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += ALPHABET[Math.floor(random() * ALPHABET.length) % ALPHABET.length];
  const name = `capture-${suffix}`;
  return name.slice(0, CAPTURE_NAME_MAX);
}

/** The request's name, or a generated one. */
export function captureNameOf(request: CaptureRequest, random?: () => number): string {
  return request.name !== undefined && request.name !== '' ? request.name : generateCaptureName(random);
}

/** Whether any output leaves the node (needed for TTL cleanup: host path files need the Jobs to be found). */
export function hasRemoteOutput(outputs: CaptureOutputs): boolean {
  return outputs.blob !== undefined || outputs.s3 !== undefined;
}
