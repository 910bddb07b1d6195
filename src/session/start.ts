// startCapture: validate → snapshot from the informers → plan → preflight → create (Secret,
// Jobs with bounded concurrency, Secret ownerReferences) → follow. If creation fails half-way,
// everything created is deleted again (rollback) and the error says what happened.
import type { V1Job, V1Namespace, V1Node, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { CaptureResource } from '../capture/crd.js';
import { validateRequest } from '../capture/validate.js';
import { planCapture, planErrors, type CapturePlan, type ClusterSnapshot, type WorkloadRef } from '../capture/plan.js';
import {
  buildBlobSecret,
  buildJobs,
  buildS3Secret,
  ownerReferencesFor,
  type BuildJobsOptions,
} from '../capture/manifests.js';
import { DEFAULT_OPTIONS, type CaptureRequest } from '../capture/request.js';
import type { KubeDoor } from '../kube/door.js';
import { KubeError, isKubeError } from '../kube/errors.js';
import type { KindName, KubeObject } from '../kube/resources.js';
import { nodeOfJob } from './events.js';
import type { CaptureEvent } from './events.js';
import { CaptureStartError } from './errors.js';
import { followCaptureResource } from './resourceRun.js';
import { captureResourceProblems, createCaptureResource, type CreatedResource } from './startResource.js';
import { preflight, type PreflightResult } from './preflight.js';
import { deleteJobs, followRun, type CaptureRun } from './run.js';
import { EventStream } from './stream.js';

export interface StartOptions {
  signal?: AbortSignal;
  onEvent?: (ev: CaptureEvent) => void;
  now?: () => Date;
  /** Lowers the Job create requests in flight at once below options.maxConcurrentJobs (never above it). */
  createConcurrency?: number;
  /** Passed to buildJobs (operator base dir, pull policy). */
  manifests?: Omit<BuildJobsOptions, 'blobSecretName' | 's3SecretName'>;
  /** Last word on the Job manifests before they are sent (tests: a stub worker; operators: extra labels). */
  mutateJobs?: (jobs: V1Job[]) => void;
  /** Also stop when the preflight only warns (default false). */
  strictWarnings?: boolean;
  /** How long to wait for the informers' first lists (default 30 s). */
  syncTimeoutMs?: number;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const abort = new Promise<never>((_, rej) => {
    timer = setTimeout(
      () => rej(new KubeError('timeout', `${what} did not finish within ${Math.round(ms / 1000)} s.`)),
      ms,
    );
    signal?.addEventListener('abort', () => rej(new KubeError('aborted', 'Cancelled.')), { once: true });
  });
  try {
    return await Promise.race([p, abort]);
  } finally {
    clearTimeout(timer);
  }
}

const WORKLOAD_KIND: Record<WorkloadRef['kind'], KindName> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  ReplicaSet: 'replicasets',
  Job: 'jobs',
};

/** One consistent view for the planner, from the door's informers (no extra lists). */
export async function snapshotFor(
  door: KubeDoor,
  request: CaptureRequest,
  opts: StartOptions = {},
): Promise<ClusterSnapshot> {
  const nodes = door.informer('nodes');
  const pods = door.informer('pods');
  const namespaces = door.informer('namespaces');
  await withTimeout(
    Promise.all([nodes.synced, pods.synced, namespaces.synced]),
    opts.syncTimeoutMs ?? 30_000,
    'Listing nodes, pods and namespaces',
    opts.signal,
  );
  const workloads: WorkloadRef[] = [];
  for (const t of request.targets) {
    if (t.kind !== 'workload') continue;
    try {
      const w = await door.get<KubeObject & { spec?: { selector?: WorkloadRef['selector'] } }>(
        WORKLOAD_KIND[t.workloadKind],
        t.namespace,
        t.name,
        opts.signal,
      );
      workloads.push({ kind: t.workloadKind, namespace: t.namespace, name: t.name, selector: w.spec?.selector });
    } catch (e) {
      if (!isKubeError(e, 'notFound')) throw e; // the planner reports a missing workload
    }
  }
  return {
    nodes: nodes.list() as V1Node[],
    pods: pods.list() as V1Pod[],
    namespaces: namespaces.list() as V1Namespace[],
    workloads,
  };
}

/** Runs `fn` over `items` with at most `limit` in flight; stops starting new ones after a failure. */
export async function boundedAll<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<{ ok: R[]; error?: unknown; maxInFlight: number }> {
  const ok: R[] = [];
  let error: unknown;
  let next = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const worker = async (): Promise<void> => {
    while (error === undefined && next < items.length) {
      const item = items[next++] as T;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        ok.push(await fn(item));
      } catch (e) {
        if (error === undefined) error = e;
      } finally {
        inFlight--;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return { ok, error, maxInFlight };
}

export interface CreatedObjects {
  /** Empty when a Capture resource was created (its operator creates the Jobs). */
  jobs: V1Job[];
  secret?: V1Secret;
  maxInFlight: number;
  /** The retina.sh Capture created instead of Jobs (via `captureResource`). */
  resource?: CaptureResource;
}

/**
 * Creates the Secret (if any), the Jobs (bounded concurrency) and sets the Secret's
 * ownerReferences; on failure deletes what it created and throws CaptureStartError.
 */
export async function createCaptureObjects(
  door: KubeDoor,
  plan: CapturePlan,
  request: CaptureRequest,
  opts: StartOptions,
  emit: (ev: CaptureEvent) => void,
): Promise<CreatedObjects> {
  const ns = plan.namespace;
  let secret: V1Secret | undefined;
  const jobs: V1Job[] = [];
  const rollback = async (reason: string): Promise<never> => {
    const deleted: string[] = [];
    const leftovers: string[] = [];
    // Cleanup must run even when the caller's signal fired: no signal here.
    await Promise.all(
      jobs.map(async (j) => {
        const n = `job/${j.metadata?.name}`;
        try {
          await door.delete('jobs', ns, j.metadata?.name as string, { propagationPolicy: 'Background' });
          deleted.push(n);
        } catch {
          leftovers.push(n);
        }
      }),
    );
    if (secret?.metadata?.name) {
      const n = `secret/${secret.metadata.name}`;
      try {
        await door.delete('secrets', ns, secret.metadata.name);
        deleted.push(n);
      } catch {
        leftovers.push(n);
      }
    }
    emit({ type: 'rollback', capture: plan.name, reason, deleted, leftovers });
    const msg = `${reason}${leftovers.length ? ` Could not remove: ${leftovers.join(', ')} (delete them by label capture-name=${plan.name}).` : ' Everything created was removed.'}`;
    throw new CaptureStartError(msg, 'create', [reason], leftovers, undefined);
  };

  try {
    const b: BuildJobsOptions = { ...opts.manifests };
    if (request.outputs.blob) {
      secret = await door.create<V1Secret>(
        'secrets',
        ns,
        buildBlobSecret(plan, request.outputs.blob.sasUrl),
        opts.signal,
      );
      b.blobSecretName = secret.metadata?.name;
    } else if (request.outputs.s3) {
      secret = await door.create<V1Secret>('secrets', ns, buildS3Secret(plan, request.outputs.s3), opts.signal);
      b.s3SecretName = secret.metadata?.name;
    }
    const manifests = buildJobs(plan, request, b);
    opts.mutateJobs?.(manifests);
    // options.maxConcurrentJobs = Job create requests in flight at once (see its doc comment).
    const max = request.options.maxConcurrentJobs || DEFAULT_OPTIONS.maxConcurrentJobs;
    const limit = Math.max(1, Math.min(opts.createConcurrency ?? max, max));
    const res = await boundedAll(manifests, limit, async (m) => {
      if (opts.signal?.aborted) throw new KubeError('aborted', 'Cancelled while creating the Jobs.');
      const j = await door.create<V1Job>('jobs', ns, m, opts.signal);
      jobs.push(j);
      return j;
    });
    if (res.error !== undefined) throw res.error;
    if (secret?.metadata?.name) {
      await door.patch(
        'secrets',
        ns,
        secret.metadata.name,
        { metadata: { ownerReferences: ownerReferencesFor(jobs) } },
        'merge',
        opts.signal,
      );
    }
    return { jobs, secret, maxInFlight: res.maxInFlight };
  } catch (e) {
    const why = isKubeError(e) || e instanceof Error ? e.message : String(e);
    return rollback(`Creating the capture failed: ${why}`);
  }
}

/** Plans, checks and starts a capture; resolves once the Jobs exist, with the run to follow. */
export async function startCapture(
  door: KubeDoor,
  request: CaptureRequest,
  opts: StartOptions = {},
): Promise<CaptureRun & { plan: CapturePlan; preflight: PreflightResult; created: CreatedObjects }> {
  const stream = new EventStream<CaptureEvent>();
  const emit = (ev: CaptureEvent): void => {
    stream.push(ev);
    try {
      opts.onEvent?.(ev);
    } catch {
      // ignore listener bugs
    }
  };
  const fail = (e: CaptureStartError): never => {
    stream.close();
    throw e;
  };
  const now = opts.now ?? (() => new Date());

  const invalid = validateRequest(request, { now: now() });
  if (invalid.length)
    fail(
      new CaptureStartError(
        `The capture request is invalid: ${invalid.map((p) => p.message).join('; ')}`,
        'validate',
        invalid.map((p) => p.message),
      ),
    );

  // Start every informer the run needs now, so they sync while we plan and check.
  door.informer('jobs');
  door.informer('events');
  let snapshot: ClusterSnapshot;
  try {
    snapshot = await snapshotFor(door, request, opts);
  } catch (e) {
    return fail(
      new CaptureStartError(`Cannot read the cluster: ${(e as Error).message}`, 'plan', [(e as Error).message]),
    );
  }
  const plan = planCapture(request, snapshot, { now: now() });
  const errors = planErrors(plan);
  if (errors.length)
    fail(
      new CaptureStartError(
        `The capture cannot be planned: ${errors.map((p) => p.message).join('; ')}`,
        'plan',
        errors.map((p) => p.message),
      ),
    );

  const pf = await preflight(door, { ...request, name: plan.name }, plan, opts.signal);
  emit({ type: 'preflight', ok: pf.ok, problems: pf.problems, warnings: pf.warnings });
  if (!pf.ok || (opts.strictWarnings && pf.warnings.length)) {
    fail(new CaptureStartError(pf.problems.join('\n') || pf.warnings.join('\n'), 'preflight', pf.problems, [], pf));
  }
  for (const w of pf.warnings) emit({ type: 'warning', capture: plan.name, message: w });
  const follow = {
    namespace: plan.namespace,
    capture: plan.name,
    durationMs: request.options.durationSeconds * 1000,
    // Jobs name their node by the kubernetes.io/hostname label (node affinity): follow by that.
    nodes: plan.nodes.map((n) => n.hostname),
  };

  if (request.via === 'captureResource') {
    const cannot = captureResourceProblems(plan, request);
    if (cannot.length)
      fail(new CaptureStartError(`The capture cannot be a Capture resource: ${cannot.join('; ')}`, 'plan', cannot));
    let made: CreatedResource;
    try {
      made = await createCaptureResource(door, plan, request, emit, opts.signal);
    } catch (e) {
      return fail(e as CaptureStartError);
    }
    for (const w of made.warnings) emit({ type: 'warning', capture: plan.name, message: w });
    emit({
      type: 'created',
      capture: plan.name,
      namespace: plan.namespace,
      jobs: [],
      secret: made.secret?.metadata?.name,
      resource: made.resource.metadata?.name,
      nodes: follow.nodes,
    });
    const run = followCaptureResource(door, follow, { signal: opts.signal, onEvent: opts.onEvent, stream });
    const created: CreatedObjects = { jobs: [], secret: made.secret, maxInFlight: 0, resource: made.resource };
    return Object.assign(run, { plan, preflight: pf, created });
  }

  let created: CreatedObjects;
  try {
    created = await createCaptureObjects(door, plan, request, opts, emit);
  } catch (e) {
    return fail(e as CaptureStartError);
  }
  emit({
    type: 'created',
    capture: plan.name,
    namespace: plan.namespace,
    jobs: created.jobs.map((j) => ({ node: nodeOfJob(j) ?? '?', job: j.metadata?.name ?? '?' })),
    secret: created.secret?.metadata?.name,
    nodes: follow.nodes,
  });
  const run = followRun(door, follow, { signal: opts.signal, onEvent: opts.onEvent, stream });
  return Object.assign(run, { plan, preflight: pf, created });
}

export { deleteJobs, CaptureStartError };
