// Capture Jobs (ours and Retina's, found by label) → CaptureInfo rows. Pure: takes plain Job
// objects, so it is tested without a cluster. Used until the engine's session module reports
// captures itself, and for Retina-started captures either way.
import {
  ANNOTATION_HOSTPATH,
  ENV,
  LABEL_CAPTURE_NAME,
  LABEL_CREATED_BY,
  CREATED_BY_US,
  NODE_LABEL_HOSTNAME,
  parseGoDuration,
} from '../contract/index.js';
import type { CaptureInfo, CaptureNodeState, NodeCapturePhase } from './ports.js';

/** The few Job fields we read (a structural subset of V1Job). */
export interface JobLike {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; creationTimestamp?: Date | string };
  spec?: {
    template?: {
      metadata?: { annotations?: Record<string, string> };
      spec?: {
        affinity?: {
          nodeAffinity?: {
            requiredDuringSchedulingIgnoredDuringExecution?: {
              nodeSelectorTerms?: { matchExpressions?: { key?: string; values?: string[] }[] }[];
            };
          };
        };
        containers?: { env?: { name?: string; value?: string }[] }[];
      };
    };
  };
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    startTime?: Date | string;
    conditions?: { type?: string; status?: string; message?: string }[];
  };
}

function nodeOf(job: JobLike): string {
  const terms =
    job.spec?.template?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms ?? [];
  for (const t of terms)
    for (const e of t.matchExpressions ?? []) if (e.key === NODE_LABEL_HOSTNAME && e.values?.[0]) return e.values[0];
  return job.metadata?.name ?? '?';
}

function phaseOf(job: JobLike): { phase: NodeCapturePhase; message?: string } {
  const s = job.status ?? {};
  if ((s.succeeded ?? 0) > 0) return { phase: 'succeeded' };
  if ((s.failed ?? 0) > 0) {
    const c = s.conditions?.find((x) => x.type === 'Failed' && x.status === 'True');
    return { phase: 'failed', message: c?.message };
  }
  if ((s.active ?? 0) > 0) return { phase: 'running' };
  return { phase: 'pending' };
}

function durationSeconds(go: string | undefined): number | undefined {
  const ms = go ? parseGoDuration(go) : undefined;
  return ms === undefined ? undefined : ms / 1000;
}

function time(v: Date | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? undefined : t;
}

export function jobsToCaptures(context: string, jobs: readonly JobLike[]): CaptureInfo[] {
  const byCapture = new Map<string, { info: CaptureInfo; nodes: CaptureNodeState[] }>();
  for (const job of jobs) {
    const name = job.metadata?.labels?.[LABEL_CAPTURE_NAME];
    const ns = job.metadata?.namespace ?? 'default';
    if (!name) continue;
    const key = `${ns}/${name}`;
    let entry = byCapture.get(key);
    const env = job.spec?.template?.spec?.containers?.[0]?.env ?? [];
    if (!entry) {
      const duration = env.find((e) => e.name === ENV.duration)?.value;
      const filter = env.find((e) => e.name === ENV.pcapFilter)?.value;
      entry = {
        info: {
          name,
          namespace: ns,
          context,
          origin: job.metadata?.labels?.[LABEL_CREATED_BY] === CREATED_BY_US ? 'ours' : 'retina',
          startedAt: time(job.status?.startTime) ?? time(job.metadata?.creationTimestamp),
          durationSeconds: durationSeconds(duration),
          filter: filter || undefined,
          hostPath: job.spec?.template?.metadata?.annotations?.[ANNOTATION_HOSTPATH],
          blob: env.some((e) => e.name === ENV.blobSecretFile) || undefined,
          nodes: [],
        },
        nodes: [],
      };
      byCapture.set(key, entry);
    }
    const start = time(job.status?.startTime);
    if (start !== undefined && (entry.info.startedAt === undefined || start < entry.info.startedAt))
      entry.info.startedAt = start;
    entry.nodes.push({ node: nodeOf(job), ...phaseOf(job) });
  }
  return [...byCapture.values()].map(({ info, nodes }) => ({
    ...info,
    nodes: nodes.sort((a, b) => a.node.localeCompare(b.node, 'en', { numeric: true })),
  }));
}
