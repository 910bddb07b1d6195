// The state of a retina.sh Capture resource as the user sees it, derived PURELY from its status
// (conditions `complete`/`error`, Job counts, times) the way Retina's operator writes it. The
// per-node story still comes from the Jobs the operator creates (follow.ts); this is the whole.
import { CONDITION_COMPLETE, CONDITION_ERROR, type CaptureResource } from '../capture/crd.js';
import { toMs } from './events.js';

export type ResourcePhase = 'pending' | 'running' | 'done' | 'failed';

export interface ResourceState {
  /**
   * pending: no status yet (the operator has not picked it up); running: Jobs in progress;
   * done: `complete` True; failed: `error` True and no Job active any more.
   */
  phase: ResourcePhase;
  /** The condition's reason (JobsInProgress, JobsCompleted, RunJobFailed, FindSecretFailed, …). */
  reason?: string;
  message?: string;
  /** The `error` condition when True, shown even while other Jobs still run. */
  error?: { reason: string; message: string };
  active: number;
  succeeded: number;
  failed: number;
  startedAt?: number;
  completedAt?: number;
  /** deletionTimestamp is set (cancel, or the operator's clean-up after upload). */
  deleting: boolean;
}

type CaptureLike = Pick<CaptureResource, 'status'> & {
  metadata?: { deletionTimestamp?: Date | string };
};

export function resourceState(cr: CaptureLike): ResourceState {
  const st = cr.status ?? {};
  const cond = (type: string) => st.conditions?.find((c) => c.type === type);
  const complete = cond(CONDITION_COMPLETE);
  const err = cond(CONDITION_ERROR);
  const active = st.active ?? 0;
  const base = {
    active,
    succeeded: st.succeeded ?? 0,
    failed: st.failed ?? 0,
    startedAt: toMs(st.startTime),
    completedAt: toMs(st.completionTime),
    deleting: !!cr.metadata?.deletionTimestamp,
  };
  const error =
    err?.status === 'True'
      ? { reason: err.reason || 'Error', message: err.message || 'The Capture failed (no message).' }
      : undefined;
  if (complete?.status === 'True') {
    return { ...base, phase: 'done', reason: complete.reason, message: complete.message };
  }
  if (error && active === 0) {
    return { ...base, phase: 'failed', reason: error.reason, message: error.message, error };
  }
  if (complete || error || active > 0) {
    return {
      ...base,
      phase: 'running',
      reason: complete?.reason ?? error?.reason,
      message: complete?.message ?? error?.message,
      ...(error ? { error } : {}),
    };
  }
  return { ...base, phase: 'pending', message: 'Waiting for the Capture operator to create the Jobs.' };
}

/** Whether two states differ in a way worth an event. */
export function sameResourceState(a: ResourceState | undefined, b: ResourceState): boolean {
  return (
    !!a &&
    a.phase === b.phase &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.error?.message === b.error?.message &&
    a.active === b.active &&
    a.succeeded === b.succeeded &&
    a.failed === b.failed &&
    a.deleting === b.deleting
  );
}

export const isFinalResource = (s: ResourceState): boolean => s.phase === 'done' || s.phase === 'failed';
