// Progress of a capture as typed events, and the PURE derivation of one node's state from the
// objects the informers hold (Job, its Pod, Warning events, the Node). No I/O here: unit tests
// feed recorded objects.
import type { CoreV1Event, V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import { CONTAINER_NAME, NODE_LABEL_HOSTNAME, parseResult, type WorkerResult } from '../contract/index.js';
import type { ResourceState } from './resourceStatus.js';

export type NodePhase = 'pending' | 'scheduled' | 'waiting' | 'capturing' | 'finishing' | 'done' | 'failed';

/** State of one node's Job/Pod as the user sees it. */
export interface NodeState {
  node: string;
  phase: NodePhase;
  /** Machine-readable reason: `ErrImagePull`, `ContainerCreating`, `FailedCreate`, `NodeNotReady`, … */
  reason?: string;
  /** One line for humans, saying what to do where possible. */
  message?: string;
  job?: string;
  pod?: string;
  /** Epoch ms when the worker container started (capturing). */
  startedAt?: number;
  /** startedAt + duration. */
  endsAt?: number;
  /** endsAt − now at derivation time (ui counts down from endsAt). */
  timeLeftMs?: number;
  /** The worker's result JSON from the termination message. */
  result?: WorkerResult;
}

export const FINAL_PHASES: ReadonlySet<NodePhase> = new Set(['done', 'failed']);

export type CaptureEvent =
  | { type: 'preflight'; ok: boolean; problems: string[]; warnings: string[] }
  | {
      type: 'created';
      capture: string;
      namespace: string;
      /** Jobs we created; empty when a Capture resource was created (its operator makes the Jobs). */
      jobs: { node: string; job: string }[];
      secret?: string;
      /** Name of the retina.sh Capture created instead of Jobs (via `captureResource`). */
      resource?: string;
      /** The planned nodes (also known before the operator's Jobs exist). */
      nodes?: string[];
    }
  /** The Capture resource's status changed (via `captureResource` only). */
  | ({ type: 'resource'; capture: string; namespace: string } & ResourceState)
  | { type: 'rollback'; capture: string; reason: string; deleted: string[]; leftovers: string[] }
  | ({ type: 'node'; capture: string } & NodeState)
  | { type: 'cancelling'; capture: string }
  | { type: 'warning'; capture: string; message: string }
  | { type: 'finished'; capture: string; nodes: NodeState[]; cancelled: boolean };

export function toMs(t: Date | string | undefined): number | undefined {
  if (t === undefined || t === null) return undefined;
  const v = new Date(t).getTime();
  return Number.isNaN(v) ? undefined : v;
}

/** The node a capture Job is pinned to (required node affinity on kubernetes.io/hostname). */
export function nodeOfJob(job: V1Job): string | undefined {
  const terms =
    job.spec?.template?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const e of t.matchExpressions ?? []) if (e.key === NODE_LABEL_HOSTNAME && e.values?.[0]) return e.values[0];
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.values?.[0]) return f.values[0];
  }
  return job.spec?.template?.spec?.nodeName ?? job.spec?.template?.spec?.nodeSelector?.[NODE_LABEL_HOSTNAME];
}

export function nodeReady(node: V1Node | undefined): boolean | undefined {
  if (!node) return undefined;
  const c = node.status?.conditions?.find((x) => x.type === 'Ready');
  return c ? c.status === 'True' : undefined;
}

/** Waiting reasons that will not fix themselves: report failed at once. */
const FATAL_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff',
  'RunContainerError',
]);

function advice(reason: string, message: string | undefined): string {
  const m = message ? `${message}` : reason;
  switch (reason) {
    case 'ErrImagePull':
    case 'ImagePullBackOff':
    case 'InvalidImageName':
      return `The node cannot pull the worker image (${m}). Check the image name/tag in settings and that the node can reach the registry.`;
    case 'FailedCreate':
      return /PodSecurity/i.test(m)
        ? `The Job could not create its pod: ${m}. Label the namespace pod-security.kubernetes.io/enforce=privileged or capture from a namespace that allows hostNetwork.`
        : `The Job could not create its pod: ${m}`;
    case 'NodeNotReady':
      return `Node stopped reporting (NotReady) before the capture finished; its archive may be missing. ${message ?? ''}`.trim();
    case 'PodDeleted':
      return 'The capture pod was deleted before it reported a result.';
    case 'DeadlineExceeded':
      return `The Job hit its deadline (activeDeadlineSeconds) before the worker finished. ${message ?? ''}`.trim();
    default:
      return m;
  }
}

export interface DeriveInput {
  node: string;
  job?: V1Job;
  pod?: V1Pod;
  /** Warning events about this Job or its Pod. */
  events?: CoreV1Event[];
  nodeObj?: V1Node;
  durationMs?: number;
  now: number;
  /** The pod was seen and is gone now. */
  podGone?: boolean;
}

function captureContainer(pod: V1Pod) {
  const all = pod.status?.containerStatuses ?? [];
  return all.find((c) => c.name === CONTAINER_NAME) ?? all[0];
}

function latest(events: CoreV1Event[], pred: (e: CoreV1Event) => boolean): CoreV1Event | undefined {
  let best: CoreV1Event | undefined;
  let bestT = -1;
  for (const e of events) {
    if (!pred(e)) continue;
    const t =
      toMs(e.lastTimestamp) ?? toMs(e.eventTime as unknown as string) ?? toMs(e.metadata?.creationTimestamp) ?? 0;
    if (t >= bestT) {
      best = e;
      bestT = t;
    }
  }
  return best;
}

/** One node's state from the objects; pure. */
export function deriveNodeState(input: DeriveInput): NodeState {
  const { node, job, pod, now } = input;
  const events = input.events ?? [];
  const base: NodeState = { node, phase: 'pending', job: job?.metadata?.name, pod: pod?.metadata?.name };
  const failed = (reason: string, message?: string, result?: WorkerResult): NodeState => ({
    ...base,
    phase: 'failed',
    reason,
    message: advice(reason, message),
    ...(result ? { result } : {}),
  });

  if (pod) {
    const cs = captureContainer(pod);
    const term =
      cs?.state?.terminated ?? (cs?.lastState?.terminated && !cs.state?.running ? cs.lastState.terminated : undefined);
    if (term) {
      const result = parseResult(term.message);
      if (term.exitCode === 0 && result?.status !== 'failed') {
        return {
          ...base,
          phase: 'done',
          ...(result ? { result } : {}),
          reason: result?.status === 'partial' ? 'Partial' : 'Completed',
          message: result?.reason,
        };
      }
      const why = result?.reason ?? (term.message && !result ? term.message.slice(0, 300) : undefined) ?? term.reason;
      return failed(
        term.reason === 'OOMKilled' ? 'OOMKilled' : `ExitCode${term.exitCode}`,
        `worker exited with code ${term.exitCode}${why ? `: ${why}` : ''}`,
        result,
      );
    }
    if (pod.status?.phase === 'Failed') {
      return failed(pod.status.reason ?? 'PodFailed', pod.status.message);
    }
    if (pod.status?.phase === 'Succeeded') return { ...base, phase: 'done', reason: 'Completed' };
    if (input.podGone) return failed('PodDeleted');
    if (nodeReady(input.nodeObj) === false) {
      const c = input.nodeObj?.status?.conditions?.find((x) => x.type === 'Ready');
      return failed('NodeNotReady', c?.message);
    }
    const waiting = cs?.state?.waiting;
    if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) return failed(waiting.reason, waiting.message);
    const running = cs?.state?.running;
    if (running) {
      const startedAt = toMs(running.startedAt) ?? now;
      const endsAt = input.durationMs === undefined ? undefined : startedAt + input.durationMs;
      if (pod.metadata?.deletionTimestamp) {
        return {
          ...base,
          phase: 'finishing',
          reason: 'Stopping',
          message: 'Stopping: the worker flushes and uploads.',
          startedAt,
          endsAt,
        };
      }
      if (endsAt !== undefined && now >= endsAt) {
        return {
          ...base,
          phase: 'finishing',
          reason: 'Uploading',
          message: 'Capture time is over; writing and uploading the archive.',
          startedAt,
          endsAt,
          timeLeftMs: 0,
        };
      }
      return {
        ...base,
        phase: 'capturing',
        startedAt,
        endsAt,
        ...(endsAt === undefined ? {} : { timeLeftMs: endsAt - now }),
      };
    }
    const podName = pod.metadata?.name;
    const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (waiting?.reason) {
      const pulling = latest(events, (e) => e.involvedObject?.name === podName && e.reason === 'Failed');
      return { ...base, phase: 'waiting', reason: waiting.reason, message: waiting.message ?? pulling?.message };
    }
    if (sched?.status === 'False') {
      return { ...base, phase: 'waiting', reason: sched.reason ?? 'Unschedulable', message: sched.message };
    }
    if (pod.spec?.nodeName || sched?.status === 'True') return { ...base, phase: 'scheduled' };
    const fs = latest(events, (e) => e.involvedObject?.name === podName && e.reason === 'FailedScheduling');
    if (fs) return { ...base, phase: 'waiting', reason: 'FailedScheduling', message: fs.message };
    return base;
  }

  if (input.podGone) return failed('PodDeleted');
  if (job) {
    const cond = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
    if (cond) return failed(cond.reason ?? 'JobFailed', cond.message);
    if ((job.status?.succeeded ?? 0) > 0) return { ...base, phase: 'done', reason: 'Completed' };
    const fc = latest(
      events,
      (e) =>
        e.involvedObject?.kind === 'Job' &&
        e.involvedObject?.name === job.metadata?.name &&
        e.reason === 'FailedCreate',
    );
    if (fc) return failed('FailedCreate', fc.message);
  }
  if (nodeReady(input.nodeObj) === false)
    return { ...base, phase: 'waiting', reason: 'NodeNotReady', message: `Node ${node} is NotReady.` };
  return base;
}

/** Two states differ in a way worth an event (time left alone does not count). */
export function sameState(a: NodeState | undefined, b: NodeState): boolean {
  return (
    !!a &&
    a.phase === b.phase &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.pod === b.pod &&
    a.startedAt === b.startedAt &&
    (a.result === undefined) === (b.result === undefined)
  );
}
