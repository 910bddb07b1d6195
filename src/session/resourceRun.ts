// Following a capture started as a retina.sh Capture resource: one watch on that object (its
// status → `resource` events, an `error` condition → a warning with the operator's message) plus
// the usual per-node follow of the Jobs/Pods its operator creates (labelled capture-name=<name>).
// Cancel deletes the Capture; the operator (finalizer) or the garbage collector (the Jobs are
// owned by it) removes the Jobs, whose workers then flush and report as with our own Jobs.
import type { V1Job } from '@kubernetes/client-node';
import type { CaptureResource } from '../capture/crd.js';
import { captureSelector } from '../contract/index.js';
import type { KubeDoor } from '../kube/door.js';
import { isKubeError } from '../kube/errors.js';
import type { CaptureEvent } from './events.js';
import type { FollowOptions } from './follow.js';
import { isFinalResource, resourceState, sameResourceState, type ResourceState } from './resourceStatus.js';
import { followRun, type CaptureRun, type FollowRunOptions } from './run.js';

/** After this long without any status or Job, say that nothing seems to handle the Capture. */
export const OPERATOR_SILENCE_MS = 45_000;
/** After every node ended, how long the Capture's status may take to say so too. */
export const STATUS_CATCH_UP_MS = 20_000;

export function followCaptureResource(
  door: KubeDoor,
  follow: FollowOptions,
  opts: Omit<FollowRunOptions, 'cancelAction' | 'alsoWatch' | 'settled'> & {
    silenceMs?: number;
    catchUpMs?: number;
  } = {},
): CaptureRun {
  const { namespace, capture } = follow;
  // Resolves once the Capture says it ended (or is gone), so `finished` comes after its last status.
  let resourceEnded!: () => void;
  const ended = new Promise<void>((r) => (resourceEnded = r));
  let emitWarning: ((message: string) => void) | undefined;
  return followRun(door, follow, {
    ...opts,
    settled: async () => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((r) => {
        timer = setTimeout(() => {
          emitWarning?.(
            `Every node ended but Capture ${namespace}/${capture} still does not say so; not waiting for its operator any longer.`,
          );
          r();
        }, opts.catchUpMs ?? STATUS_CATCH_UP_MS);
      });
      try {
        await Promise.race([ended, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    cancelAction: async () => {
      await door.delete('captures', namespace, capture, { propagationPolicy: 'Background' });
    },
    alsoWatch: (follower, emit) => {
      const watch = door.watchObject<CaptureResource>('captures', namespace, capture);
      let last: ResourceState | undefined;
      let lastError: string | undefined;
      let settled = false;
      let seen = false;
      const warn = (message: string): void => emit({ type: 'warning', capture, message });
      emitWarning = warn;

      // Once the operator says the capture ended, no more Jobs will come: nodes without one fail.
      const settle = (reason: string, message: string): void => {
        if (settled) return;
        settled = true;
        void door
          .list<V1Job>('jobs', { namespace, labelSelector: captureSelector(capture) })
          .then(
            (jobs) => follower.observeJobs(jobs),
            () => undefined,
          )
          .finally(() => follower.settle(reason, message));
      };

      const onObject = (cr: CaptureResource, deleted: boolean): void => {
        seen = true;
        const st = resourceState(cr);
        if (!sameResourceState(last, st)) {
          last = st;
          emit({ type: 'resource', capture, namespace, ...st } as CaptureEvent);
        }
        if (st.error && st.error.message !== lastError) {
          lastError = st.error.message;
          warn(`Capture ${capture}: ${st.error.reason}: ${st.error.message}`);
        }
        if (deleted || isFinalResource(st)) resourceEnded();
        if (deleted) {
          settle('CaptureDeleted', 'The Capture resource was deleted before a Job ran on this node.');
        } else if (isFinalResource(st)) {
          settle(
            st.phase === 'failed' ? (st.reason ?? 'CaptureError') : 'NoJob',
            st.phase === 'failed'
              ? (st.message ?? 'The Capture failed.')
              : "Retina's operator completed the Capture without a Job on this node.",
          );
        }
      };
      const off = watch.on((ev) => onObject(ev.object, ev.type === 'delete'));
      watch.synced.then(
        () => {
          const cr = watch.get(namespace, capture);
          if (cr) onObject(cr, false);
          else if (!seen) {
            resourceEnded();
            settle('CaptureDeleted', `The Capture resource ${namespace}/${capture} does not exist.`);
          }
        },
        (e: unknown) => {
          const why = isKubeError(e) || e instanceof Error ? e.message : String(e);
          warn(`Cannot watch the Capture resource: ${why}`);
          resourceEnded();
          follower.failRemaining('WatchFailed', `Cannot watch Capture ${namespace}/${capture}: ${why}`);
        },
      );
      // A local timer, not a poll: a Capture nobody handles would otherwise wait silently.
      const silence = setTimeout(() => {
        if ((!last || last.phase === 'pending') && follower.jobs().length === 0) {
          warn(
            `Nothing has handled Capture ${namespace}/${capture} yet (no status, no Job): is Retina's operator running in this cluster?`,
          );
        }
      }, opts.silenceMs ?? OPERATOR_SILENCE_MS);
      silence.unref();
      return () => {
        clearTimeout(silence);
        off();
        watch.dispose();
      };
    },
  });
}
