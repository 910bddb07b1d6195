// A running (or re-attached) capture: its event stream, its end, and cancel. Shared by
// startCapture and attach.
import type { V1Job } from '@kubernetes/client-node';
import type { KubeDoor } from '../kube/door.js';
import { isKubeError } from '../kube/errors.js';
import { CaptureFollower, type FollowOptions } from './follow.js';
import type { CaptureEvent, NodeState } from './events.js';
import { EventStream } from './stream.js';

export interface CaptureSummary {
  capture: string;
  namespace: string;
  nodes: NodeState[];
  cancelled: boolean;
  /** Every node done (results may still report `partial`). */
  ok: boolean;
}

export interface CaptureRun {
  readonly name: string;
  readonly namespace: string;
  /** Every event since the start, then the live ones; ends after `finished`. */
  readonly events: AsyncIterable<CaptureEvent>;
  /** Resolves when every node is done or failed (also after cancel). */
  readonly done: Promise<CaptureSummary>;
  /** Current state of every node. */
  states(): NodeState[];
  /**
   * Stops the capture early: deletes the Jobs with propagation Background, so the workers get
   * SIGTERM and flush/upload; the run keeps following until the pods terminate.
   */
  cancel(): Promise<void>;
  /** Stops following (does not touch the cluster). */
  dispose(): void;
}

export function deleteJobs(door: KubeDoor, jobs: V1Job[], signal?: AbortSignal): Promise<string[]> {
  return Promise.all(
    jobs.map(async (j) => {
      const name = j.metadata?.name as string;
      await door.delete('jobs', j.metadata?.namespace, name, { propagationPolicy: 'Background', signal });
      return name;
    }),
  );
}

export interface FollowRunOptions {
  signal?: AbortSignal;
  onEvent?: (ev: CaptureEvent) => void;
  stream?: EventStream<CaptureEvent>;
  /** What cancel deletes instead of the Jobs (a Capture resource: its operator removes the Jobs). */
  cancelAction?: () => Promise<void>;
  /** Extra watch started with the follow (the Capture resource's status); returns its stop. */
  alsoWatch?: (follower: CaptureFollower, emit: (ev: CaptureEvent) => void) => () => void;
  /** Awaited after every node ended, before `finished` (the Capture's own status catching up). */
  settled?: () => Promise<void>;
}

export function followRun(door: KubeDoor, follow: FollowOptions, opts: FollowRunOptions = {}): CaptureRun {
  const stream = opts.stream ?? new EventStream<CaptureEvent>();
  const emit = (ev: CaptureEvent): void => {
    stream.push(ev);
    try {
      opts.onEvent?.(ev);
    } catch {
      // a listener's bug must not stop the capture
    }
  };
  const capture = follow.capture;
  const follower = new CaptureFollower(door, follow, (s) => emit({ type: 'node', capture, ...s }));
  let cancelled = false;
  let disposed = false;

  const cancel = async (): Promise<void> => {
    if (cancelled) return;
    cancelled = true;
    emit({ type: 'cancelling', capture });
    if (opts.cancelAction) {
      try {
        await opts.cancelAction();
      } catch (e) {
        emit({ type: 'warning', capture, message: `Could not cancel: ${isKubeError(e) ? e.message : String(e)}` });
        throw e;
      }
      return;
    }
    const jobs = follower.jobs();
    const known = new Set(jobs.map((j) => j.metadata?.name));
    // Jobs the informer has not delivered yet (cancel right after create) are found by label.
    const listed = await door
      .list<V1Job>('jobs', { namespace: follow.namespace, labelSelector: `capture-name=${capture}` })
      .catch(() => [] as V1Job[]);
    for (const j of listed) if (!known.has(j.metadata?.name)) jobs.push(j);
    try {
      await deleteJobs(door, jobs);
    } catch (e) {
      emit({
        type: 'warning',
        capture,
        message: `Could not delete every Job: ${isKubeError(e) ? e.message : String(e)}`,
      });
      throw e;
    }
  };

  let stopExtra: (() => void) | undefined;
  const done = (async (): Promise<CaptureSummary> => {
    follower.start();
    stopExtra = opts.alsoWatch?.(follower, emit);
    const nodes = await follower.done;
    follower.stop();
    await opts.settled?.().catch(() => undefined);
    stopExtra?.();
    const summary: CaptureSummary = {
      capture,
      namespace: follow.namespace,
      nodes,
      cancelled,
      ok: nodes.every((n) => n.phase === 'done'),
    };
    emit({ type: 'finished', capture, nodes, cancelled });
    stream.close();
    return summary;
  })();

  const onAbort = (): void => void cancel().catch(() => undefined);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  void done.finally(() => opts.signal?.removeEventListener('abort', onAbort));

  return {
    name: capture,
    namespace: follow.namespace,
    events: stream,
    done,
    states: () => follower.states(),
    cancel,
    dispose: () => {
      if (disposed) return;
      disposed = true;
      follower.stop();
      stopExtra?.();
      stream.close();
    },
  };
}
