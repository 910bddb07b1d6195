// What the worker reports: exit codes, the result JSON in the termination message, and the
// manifest.json inside each archive. The extension reads progress and results from pod status
// only, never from logs.

/** Distinct exit codes so the extension can say what to change without parsing text. */
export const EXIT = {
  ok: 0,
  /** Unexpected failure inside the worker. */
  internal: 1,
  badDuration: 10,
  badSize: 11,
  badInterface: 12,
  badFilter: 13,
  badBlobUrl: 14,
  badHostPath: 15,
  badConfig: 16,
  /** libpcap could not open or capture (permission, device vanished). */
  captureFailed: 20,
  /** The archive was made but no requested output received it. */
  outputFailed: 21,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type OutputKind = 'hostPath' | 'blob' | 's3' | 'pvc';

export interface OutputResult {
  kind: OutputKind;
  ok: boolean;
  /** Host path file or blob name (never a URL: SAS must not leak). */
  location?: string;
  error?: string;
}

export interface InterfaceResult {
  name: string;
  /** Pod `namespace/name` in pod-precise mode. */
  pod?: string;
  packets: number;
  /** Packets the kernel dropped (pcap_stats ps_drop). */
  dropped: number;
  /** Packets dropped by the interface/driver (ps_ifdrop). */
  ifDropped: number;
}

/** Result JSON written to the termination message; kept ≤ 4 KiB by `fitResult`. */
export interface WorkerResult {
  v: 1;
  status: 'ok' | 'partial' | 'failed';
  exitCode: number;
  /** One-line reason when status is not ok. */
  reason?: string;
  capture: string;
  node: string;
  workerVersion: string;
  mode?: 'node' | 'pod' | 'pod-fallback';
  archive?: { name: string; bytes: number; sha256: string };
  packets?: number;
  dropped?: number;
  interfaces?: InterfaceResult[];
  outputs?: OutputResult[];
  startedAt?: string;
  endedAt?: string;
  stopReason?: 'duration' | 'maxSize' | 'signal';
  warnings?: string[];
}

export interface ManifestFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** manifest.json at the archive root. */
export interface CaptureManifest {
  v: 1;
  capture: string;
  node: string;
  workerVersion: string;
  format: 'pcapng' | 'pcap';
  startedAt: string;
  endedAt: string;
  stopReason: WorkerResult['stopReason'];
  mode: NonNullable<WorkerResult['mode']>;
  filter: string;
  snapLength: number;
  interfaces: InterfaceResult[];
  packets: number;
  dropped: number;
  files: ManifestFile[];
  /** Metadata commands that were unavailable or failed; never fatal. */
  missingTools: string[];
  warnings: string[];
}

/** Serialises a result that fits the kubelet's termination message limit, dropping detail first. */
export function fitResult(result: WorkerResult, limit = 4096): string {
  let r: WorkerResult = { ...result };
  let text = JSON.stringify(r);
  if (text.length <= limit) return text;
  r = { ...r, warnings: r.warnings?.slice(0, 3).map((w) => w.slice(0, 200)) };
  text = JSON.stringify(r);
  if (text.length <= limit) return text;
  r = { ...r, interfaces: r.interfaces?.slice(0, 8), warnings: r.warnings?.slice(0, 1) };
  text = JSON.stringify(r);
  if (text.length <= limit) return text;
  const { interfaces: _i, warnings: _w, ...rest } = r;
  text = JSON.stringify({ ...rest, reason: rest.reason?.slice(0, 500) });
  return text.length <= limit ? text : text.slice(0, limit);
}

export function parseResult(message: string | undefined): WorkerResult | undefined {
  if (!message) return undefined;
  try {
    const v = JSON.parse(message) as Partial<WorkerResult>;
    return v && v.v === 1 && typeof v.status === 'string' ? (v as WorkerResult) : undefined;
  } catch {
    return undefined;
  }
}
