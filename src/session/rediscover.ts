// Captures found by label after a restart — ours and those started by Retina's CLI/operator —
// with their state per node; attach() follows one; deleteCapture() removes one.
import type { V1Job, V1Pod, V1Secret } from '@kubernetes/client-node';
import {
  ANNOTATION_HOSTPATH,
  ANNOTATION_REQUEST,
  ANNOTATION_TIMESTAMP,
  CREATED_BY_US,
  ENV,
  LABEL_CAPTURE_NAME,
  LABEL_CREATED_BY,
  captureSelector,
  parseCaptureTimestamp,
  parseGoDuration,
} from '../contract/index.js';
import type { CaptureResource } from '../capture/crd.js';
import type { KubeDoor } from '../kube/door.js';
import { isKubeError } from '../kube/errors.js';
import { deriveNodeState, nodeOfJob, toMs, type CaptureEvent, type NodeState } from './events.js';
import { followCaptureResource } from './resourceRun.js';
import { isFinalResource, resourceState, type ResourceState } from './resourceStatus.js';
import { deleteJobs, followRun, type CaptureRun } from './run.js';

export interface CaptureListing {
  name: string;
  namespace: string;
  origin: 'ours' | 'retina';
  /** `YYYYMMDDHHMMSSUTC` shared by the nodes. */
  timestamp?: string;
  startedAt?: number;
  durationSeconds?: number;
  hostPath?: string;
  blob: boolean;
  jobs: string[];
  nodes: NodeState[];
  /** Every node done or failed (for a Capture resource: its status says it ended). */
  finished: boolean;
  /** Set when a retina.sh Capture resource stands behind the Jobs (its operator made them). */
  resource?: ResourceState;
}

function envOf(job: V1Job, name: string): string | undefined {
  for (const c of job.spec?.template?.spec?.containers ?? []) {
    const v = c.env?.find((e) => e.name === name)?.value;
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Duration from our request annotation, else Retina's CAPTURE_DURATION env. */
export function durationOfJob(job: V1Job): number | undefined {
  const ann = job.metadata?.annotations?.[ANNOTATION_REQUEST];
  if (ann) {
    try {
      const v = JSON.parse(ann) as { durationSeconds?: number };
      if (typeof v.durationSeconds === 'number') return v.durationSeconds;
    } catch {
      // fall through to env
    }
  }
  const go = envOf(job, ENV.duration);
  const ms = go ? parseGoDuration(go) : undefined;
  return ms === undefined ? undefined : ms / 1000;
}

function blobSecretOf(job: V1Job): string | undefined {
  return job.spec?.template?.spec?.volumes?.find((v) => v.secret?.secretName && /blob|s3/.test(v.secret.secretName))
    ?.secret?.secretName;
}

function podOfJob(pods: V1Pod[], job: V1Job): V1Pod | undefined {
  const uid = job.metadata?.uid;
  const name = job.metadata?.name;
  const mine = pods.filter((p) =>
    p.metadata?.ownerReferences?.some((r) => r.uid === uid || (r.kind === 'Job' && r.name === name)),
  );
  // The newest pod speaks for the Job (backoffLimit 0: normally one).
  return mine.sort(
    (a, b) => (toMs(b.metadata?.creationTimestamp) ?? 0) - (toMs(a.metadata?.creationTimestamp) ?? 0),
  )[0];
}

/** Groups capture Jobs by namespace + capture-name and derives each node's state. */
export function groupCaptures(jobs: V1Job[], pods: V1Pod[], now = Date.now()): CaptureListing[] {
  const groups = new Map<string, V1Job[]>();
  for (const j of jobs) {
    const name = j.metadata?.labels?.[LABEL_CAPTURE_NAME];
    if (!name) continue;
    const key = `${j.metadata?.namespace}/${name}`;
    groups.set(key, [...(groups.get(key) ?? []), j]);
  }
  const out: CaptureListing[] = [];
  for (const [key, js] of groups) {
    const [namespace, name] = key.split('/') as [string, string];
    const first = js[0] as V1Job;
    const ann = first.spec?.template?.metadata?.annotations ?? {};
    const ts = ann[ANNOTATION_TIMESTAMP];
    const durationSeconds = durationOfJob(first);
    const nodes = js.map((j) =>
      deriveNodeState({
        node: nodeOfJob(j) ?? j.metadata?.name ?? '?',
        job: j,
        pod: podOfJob(pods, j),
        durationMs: durationSeconds === undefined ? undefined : durationSeconds * 1000,
        now,
      }),
    );
    out.push({
      name,
      namespace,
      origin: first.metadata?.labels?.[LABEL_CREATED_BY] === CREATED_BY_US ? 'ours' : 'retina',
      timestamp: ts,
      startedAt: (ts ? parseCaptureTimestamp(ts)?.getTime() : undefined) ?? toMs(first.metadata?.creationTimestamp),
      durationSeconds,
      hostPath: ann[ANNOTATION_HOSTPATH],
      blob: js.some((j) => blobSecretOf(j) !== undefined),
      jobs: js.map((j) => j.metadata?.name ?? '?'),
      nodes,
      finished: nodes.every((n) => n.phase === 'done' || n.phase === 'failed'),
    });
  }
  return out.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
}

/** Every capture in the cluster (or one namespace), from the shared informers. */
export async function listCaptures(door: KubeDoor, opts: { namespace?: string } = {}): Promise<CaptureListing[]> {
  const jobs = door.informer('jobs');
  const pods = door.informer('pods');
  const [resources] = await Promise.all([listCaptureResources(door, opts.namespace), jobs.synced, pods.synced]);
  const inNs = <T extends { metadata?: { namespace?: string } }>(o: T): boolean =>
    opts.namespace === undefined || o.metadata?.namespace === opts.namespace;
  const listed = groupCaptures(
    jobs.list(inNs) as V1Job[],
    pods.list((p) => inNs(p) && !!p.metadata?.labels?.[LABEL_CAPTURE_NAME]) as V1Pod[],
  );
  return withResources(listed, resources);
}

/** Capture resources (retina.sh); none when the CRD is not served or may not be listed. */
export async function listCaptureResources(door: KubeDoor, namespace?: string): Promise<CaptureResource[]> {
  try {
    return await door.list<CaptureResource>('captures', { namespace });
  } catch (e) {
    if (isKubeError(e, 'notFound') || isKubeError(e, 'forbidden')) return [];
    throw e;
  }
}

/** Joins Capture resources to the captures found by Jobs; a Capture without Jobs yet is listed too. */
export function withResources(listed: CaptureListing[], resources: CaptureResource[]): CaptureListing[] {
  const out = [...listed];
  for (const cr of resources) {
    const name = cr.metadata?.name;
    const namespace = cr.metadata?.namespace;
    if (!name || !namespace) continue;
    const st = resourceState(cr);
    // Who started it is said by the Capture (its operator's Jobs never carry our label).
    const origin = cr.metadata?.labels?.[LABEL_CREATED_BY] === CREATED_BY_US ? 'ours' : 'retina';
    const found = out.find((c) => c.name === name && c.namespace === namespace);
    if (found) {
      found.resource = st;
      found.origin = origin;
      // The operator may still create Jobs: only its status says the capture ended.
      found.finished = found.finished && (isFinalResource(st) || st.deleting);
      continue;
    }
    const dur = cr.spec?.captureConfiguration?.captureOption?.duration;
    const ms = dur ? parseGoDuration(dur) : undefined;
    out.push({
      name,
      namespace,
      origin,
      startedAt: toMs(cr.metadata?.creationTimestamp),
      durationSeconds: ms === undefined ? undefined : ms / 1000,
      blob: !!cr.spec?.outputConfiguration?.blobUpload,
      jobs: [],
      nodes: [],
      finished: isFinalResource(st),
      resource: st,
    });
  }
  return out.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
}

/** Follows a capture that is already running (after a restart). */
export async function attach(
  door: KubeDoor,
  name: string,
  opts: { namespace?: string; signal?: AbortSignal; onEvent?: (ev: CaptureEvent) => void } = {},
): Promise<CaptureRun> {
  const found = (await listCaptures(door, { namespace: opts.namespace })).filter((c) => c.name === name);
  if (found.length === 0)
    throw new Error(`No capture named ${name}${opts.namespace ? ` in namespace ${opts.namespace}` : ''}.`);
  if (found.length > 1)
    throw new Error(
      `Capture ${name} exists in several namespaces (${found.map((c) => c.namespace).join(', ')}); say which.`,
    );
  const c = found[0] as CaptureListing;
  const follow = {
    namespace: c.namespace,
    capture: c.name,
    durationMs: c.durationSeconds === undefined ? undefined : c.durationSeconds * 1000,
    nodes: c.nodes.map((n) => n.node),
  };
  return c.resource
    ? followCaptureResource(door, follow, { signal: opts.signal, onEvent: opts.onEvent })
    : followRun(door, follow, { signal: opts.signal, onEvent: opts.onEvent });
}

/**
 * Removes a capture: its Capture resource if any, its Jobs (propagation Background: pods get
 * SIGTERM and may still upload) and its Secrets. Secrets are listed by label; a user who may not list Secrets (our least
 * privilege) still deletes them by the names the Jobs mount.
 */
export async function deleteCapture(
  door: KubeDoor,
  name: string,
  opts: { namespace?: string; signal?: AbortSignal } = {},
): Promise<{ jobs: string[]; secrets: string[]; resource?: boolean }> {
  const namespace = opts.namespace ?? door.namespace;
  let resource = false;
  try {
    resource = await door.delete('captures', namespace, name, { propagationPolicy: 'Background', signal: opts.signal });
  } catch (e) {
    // No CRD (404 on the collection is "not found" too) or no right to Captures: Jobs only.
    if (!isKubeError(e, 'forbidden')) throw e;
  }
  const jobs = await door.list<V1Job>('jobs', { namespace, labelSelector: captureSelector(name), signal: opts.signal });
  let secretNames: string[];
  try {
    const secrets = await door.list<V1Secret>('secrets', {
      namespace,
      labelSelector: captureSelector(name),
      signal: opts.signal,
    });
    secretNames = secrets.map((s) => s.metadata?.name as string);
  } catch (e) {
    if (!isKubeError(e, 'forbidden')) throw e;
    secretNames = [...new Set(jobs.map(blobSecretOf).filter((s): s is string => !!s))];
  }
  const deletedJobs = await deleteJobs(door, jobs, opts.signal);
  const deletedSecrets: string[] = [];
  for (const s of secretNames)
    if (await door.delete('secrets', namespace, s, { signal: opts.signal })) deletedSecrets.push(s);
  return { jobs: deletedJobs, secrets: deletedSecrets, ...(resource ? { resource } : {}) };
}
