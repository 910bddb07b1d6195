// Follows one capture (its Jobs and Pods, by label) through the door's shared informers and
// turns every relevant change into per-node events. Nothing here polls: changes come from the
// watches, and the only timers are local ones at each node's end of capture time (to say
// "finishing" when the duration elapsed while the pod still runs).
import type { CoreV1Event, V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import { LABEL_CAPTURE_NAME } from '../contract/labels.js';
import type { KubeDoor } from '../kube/door.js';
import { FINAL_PHASES, deriveNodeState, nodeOfJob, sameState, type NodeState } from './events.js';

export interface FollowOptions {
  namespace: string;
  capture: string;
  /** Capture duration, for time left and "finishing". */
  durationMs?: number;
  /** Nodes we expect (from the plan); rediscovery leaves it empty and learns nodes from Jobs. */
  nodes?: string[];
  now?: () => number;
}

interface NodeTrack {
  node: string;
  job?: V1Job;
  jobGone?: boolean;
  pod?: V1Pod;
  podGone?: boolean;
  state?: NodeState;
  timer?: NodeJS.Timeout;
}

export class CaptureFollower {
  private readonly tracks = new Map<string, NodeTrack>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly dirty = new Set<string>();
  private flushScheduled = false;
  private stopped = false;
  private resolveDone!: (states: NodeState[]) => void;
  /** Resolves when every node is done or failed. */
  readonly done: Promise<NodeState[]>;
  private readonly now: () => number;

  constructor(
    private readonly door: KubeDoor,
    private readonly opts: FollowOptions,
    private readonly emit: (s: NodeState) => void,
  ) {
    this.now = opts.now ?? Date.now;
    this.done = new Promise((r) => (this.resolveDone = r));
    for (const n of opts.nodes ?? []) this.tracks.set(n, { node: n });
  }

  states(): NodeState[] {
    return [...this.tracks.values()].map((t) => t.state ?? { node: t.node, phase: 'pending' as const });
  }

  private ours(o: { metadata?: { namespace?: string; labels?: Record<string, string> } }): boolean {
    return (
      o.metadata?.namespace === this.opts.namespace && o.metadata?.labels?.[LABEL_CAPTURE_NAME] === this.opts.capture
    );
  }

  private jobOfPod(pod: V1Pod): string | undefined {
    const ref = pod.metadata?.ownerReferences?.find((r) => r.kind === 'Job');
    return ref?.name ?? pod.metadata?.labels?.['batch.kubernetes.io/job-name'] ?? pod.metadata?.labels?.['job-name'];
  }

  private trackForJob(job: V1Job): NodeTrack | undefined {
    const node = nodeOfJob(job);
    if (!node) return undefined;
    let t = this.tracks.get(node);
    if (!t) {
      t = { node };
      this.tracks.set(node, t);
    }
    return t;
  }

  private trackForPod(pod: V1Pod): NodeTrack | undefined {
    const jobName = this.jobOfPod(pod);
    for (const t of this.tracks.values()) if (jobName && t.job?.metadata?.name === jobName) return t;
    const node = pod.spec?.nodeName;
    return node ? this.tracks.get(node) : undefined;
  }

  private mark(node: string): void {
    this.dirty.add(node);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Coalesce a burst of watch events (500 Jobs) into one pass.
      setImmediate(() => this.flush());
    }
  }

  private onJob(job: V1Job, deleted: boolean): void {
    if (!this.ours(job)) return;
    const t = this.trackForJob(job);
    if (!t) return;
    t.job = job;
    t.jobGone = deleted;
    if (!t.pod) {
      // The pod's watch event may have come before the Job's.
      const name = job.metadata?.name;
      const p = this.door.informer('pods').list((x) => this.ours(x) && this.jobOfPod(x) === name)[0];
      if (p) t.pod = p;
    }
    this.mark(t.node);
  }

  /** Starts following; call after the informers were asked for (they sync in the background). */
  start(): this {
    const jobs = this.door.informer('jobs');
    const pods = this.door.informer('pods');
    const events = this.door.informer('events');
    const nodes = this.door.informer('nodes');

    const onPod = (pod: V1Pod, deleted: boolean): void => {
      if (!this.ours(pod)) return;
      const t = this.trackForPod(pod);
      if (!t) return;
      t.pod = pod;
      t.podGone = deleted;
      this.mark(t.node);
    };
    this.unsubscribe.push(
      jobs.on((ev) => this.onJob(ev.object, ev.type === 'delete')),
      pods.on((ev) => onPod(ev.object, ev.type === 'delete')),
      events.on((ev) => {
        const io = ev.object.involvedObject;
        if (io?.namespace !== this.opts.namespace) return;
        for (const t of this.tracks.values()) {
          if (t.job?.metadata?.name === io.name || t.pod?.metadata?.name === io.name) this.mark(t.node);
        }
      }),
      nodes.on((ev) => {
        const name = ev.object.metadata?.name;
        if (name && this.tracks.has(name)) this.mark(name);
      }),
    );
    // What the informers already hold.
    for (const j of jobs.list((j) => this.ours(j))) this.onJob(j, false);
    for (const p of pods.list((p) => this.ours(p))) onPod(p, false);
    for (const n of this.tracks.keys()) this.mark(n);
    return this;
  }

  /** Jobs read by a list (the watch may lag behind another watch that said they exist). */
  observeJobs(jobs: V1Job[]): void {
    // Only unknown ones: a listed copy may be older than what the watch already delivered.
    const known = new Set([...this.tracks.values()].map((t) => t.job?.metadata?.uid));
    for (const j of jobs) if (!known.has(j.metadata?.uid)) this.onJob(j, false);
  }

  /**
   * Someone else (a Capture operator) says no more Jobs will come: nodes without a Job fail with
   * `reason`; with no node at all the follow ends. Runs after pending updates are applied.
   */
  settle(reason: string, message: string): void {
    setImmediate(() => {
      if (this.stopped) return;
      for (const t of this.tracks.values()) {
        if (t.job || (t.state && FINAL_PHASES.has(t.state.phase))) continue;
        t.state = { node: t.node, phase: 'failed', reason, message };
        this.emit(t.state);
      }
      if (this.tracks.size === 0) this.resolveDone([]);
      else this.checkDone();
    });
  }

  private eventsFor(t: NodeTrack): CoreV1Event[] {
    const names = new Set([t.job?.metadata?.name, t.pod?.metadata?.name].filter(Boolean));
    return this.door
      .informer('events')
      .list((e) => e.involvedObject?.namespace === this.opts.namespace && names.has(e.involvedObject?.name));
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.stopped) return;
    const nodeInf = this.door.informer('nodes');
    for (const node of this.dirty) {
      const t = this.tracks.get(node);
      if (!t || (t.state && FINAL_PHASES.has(t.state.phase))) continue;
      const next = deriveNodeState({
        node,
        job: t.job,
        pod: t.pod,
        podGone: t.podGone,
        events: this.eventsFor(t),
        nodeObj: nodeInf.get(undefined, node) as V1Node | undefined,
        durationMs: this.opts.durationMs,
        now: this.now(),
      });
      // A Job deleted before it made a pod (cancel right after start) will never make one.
      if (t.jobGone && !t.pod && !FINAL_PHASES.has(next.phase)) {
        Object.assign(next, {
          phase: 'failed',
          reason: 'Cancelled',
          message: 'The Job was deleted before its pod started.',
        });
      }
      if (!sameState(t.state, next)) {
        t.state = next;
        this.emit(next);
      } else {
        t.state = next;
      }
      this.armTimer(t);
    }
    this.dirty.clear();
    this.checkDone();
  }

  private armTimer(t: NodeTrack): void {
    if (t.timer) clearTimeout(t.timer);
    t.timer = undefined;
    const s = t.state;
    if (s?.phase === 'capturing' && s.endsAt !== undefined) {
      t.timer = setTimeout(() => this.mark(t.node), Math.max(0, s.endsAt - this.now()) + 20);
      t.timer.unref();
    }
  }

  private checkDone(): void {
    if (this.tracks.size === 0) return;
    const all = [...this.tracks.values()];
    if (all.every((t) => t.state && FINAL_PHASES.has(t.state.phase))) {
      this.resolveDone(this.states());
    }
  }

  /** Marks every unfinished node failed with `reason` (e.g. the watch could not be started). */
  failRemaining(reason: string, message: string): void {
    for (const t of this.tracks.values()) {
      if (t.state && FINAL_PHASES.has(t.state.phase)) continue;
      t.state = { node: t.node, phase: 'failed', reason, message };
      this.emit(t.state);
    }
    this.checkDone();
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const t of this.tracks.values()) if (t.timer) clearTimeout(t.timer);
  }

  /** Job objects currently known (for cancel). */
  jobs(): V1Job[] {
    return [...this.tracks.values()].flatMap((t) => (t.job && !t.jobGone ? [t.job] : []));
  }
}
