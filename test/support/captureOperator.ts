// A STAND-IN for Retina's capture operator (microsoft/retina pkg/controllers/operator/capture),
// for tests only: Retina's operator cannot run on the test cluster, so this small controller does
// what it does, read from its source — it is NOT Retina's code and not a full reimplementation:
//   - adds the finalizer kappio.io/capture-cleanup to each Capture of one namespace;
//   - when a Capture has no Job (label capture-name=<name>), translates it into one Job per node
//     (here with this project's manifest builder, which writes Retina's Job shape, and with OUR
//     worker image where Retina would use its own agent image), each Job controlled by the
//     Capture (ownerReference controller=true); a missing upload Secret sets `error`
//     FindSecretFailed, anything else it cannot translate `error` OtherError;
//   - after that, on every Job change: status.active/succeeded/failed from the Jobs' Complete and
//     Failed conditions; `error` RunJobFailed when a Job failed; `complete` False JobsInProgress
//     until every Job completed, then `complete` True JobsCompleted with completionTime;
//   - on delete: deletes the Jobs by label (propagation Background) and removes the finalizer.
// Supported targets: nodeSelector (matchLabels or kubernetes.io/hostname In […]) and podNames.
import type { V1Job, V1Secret } from '@kubernetes/client-node';
import type { CaptureCondition, CaptureResource } from '../../src/capture/crd.js';
import { CONDITION_COMPLETE, CONDITION_ERROR } from '../../src/capture/crd.js';
import { buildJobs } from '../../src/capture/manifests.js';
import { planCapture, planErrors } from '../../src/capture/plan.js';
import { withDefaultOptions, type CaptureRequest, type CaptureTarget } from '../../src/capture/request.js';
import {
  ANNOTATION_REQUEST,
  LABEL_CAPTURE_NAME,
  LABEL_CREATED_BY,
  NODE_LABEL_HOSTNAME,
  captureSelector,
  parseGoDuration,
} from '../../src/contract/index.js';
import type { KubeDoor } from '../../src/kube/door.js';
import { Informer, isKubeError } from '../../src/kube/index.js';
import { KINDS, resourcePath } from '../../src/kube/resources.js';
import { snapshotFor } from '../../src/session/start.js';

export const RETINA_FINALIZER = 'kappio.io/capture-cleanup';

class TranslateError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function targetsOf(cr: CaptureResource): CaptureTarget[] {
  const t = cr.spec.captureConfiguration.captureTarget;
  const ns = cr.metadata.namespace as string;
  if (t.podNames?.length) return t.podNames.map((name) => ({ kind: 'pod', namespace: ns, name }));
  const sel = t.nodeSelector;
  if (sel) {
    const hosts = sel.matchExpressions?.find((e) => e.key === NODE_LABEL_HOSTNAME && e.operator === 'In');
    if (hosts?.values?.length && (sel.matchExpressions?.length ?? 0) === 1 && !sel.matchLabels)
      return hosts.values.map((name) => ({ kind: 'node', name }));
    if (sel.matchLabels && !sel.matchExpressions?.length) return [{ kind: 'nodeSelector', labels: sel.matchLabels }];
  }
  throw new TranslateError('OtherError', 'the stand-in operator supports nodeSelector and podNames targets only');
}

/** A CaptureRequest equivalent to the Capture's spec (the input of our manifest builder). */
function requestOf(cr: CaptureResource, workerImage: string): CaptureRequest {
  const cfg = cr.spec.captureConfiguration;
  const o = cfg.captureOption;
  const out = cr.spec.outputConfiguration;
  const ms = parseGoDuration(o.duration);
  if (ms === undefined) throw new TranslateError('OtherError', `bad duration ${o.duration}`);
  return {
    name: cr.metadata.name,
    namespace: cr.metadata.namespace as string,
    targets: targetsOf(cr),
    options: withDefaultOptions({
      durationSeconds: ms / 1000,
      maxSizeMB: o.maxCaptureSize,
      ...(o.fileCount !== undefined ? { fileCount: o.fileCount } : {}),
      snapLength: o.packetSize ?? 0,
      filter: o.pcapFilter ?? '',
      include: cfg.filters?.include ?? [],
      exclude: cfg.filters?.exclude ?? [],
      sourceIPs: o.sourceIPs ?? [],
      destinationIPs: o.destinationIPs ?? [],
      interfaces: o.interfaces ?? [],
      includeMetadata: cfg.includeMetadata !== false,
      cleanupAfterUpload: cr.spec.cleanUpAfterUpload === true,
    }),
    outputs: {
      ...(out.hostPath ? { hostPath: { subPath: out.hostPath } } : {}),
      // The URL stays in the Secret; the Jobs only mount it by name.
      ...(out.blobUpload ? { blob: { sasUrl: '' } } : {}),
      ...(out.persistentVolumeClaim ? { pvc: out.persistentVolumeClaim } : {}),
    },
    workerImage,
    mode: 'node',
  };
}

/** meta.SetStatusCondition: replace by type; lastTransitionTime moves only when status changes. */
function setCondition(list: CaptureCondition[], c: Omit<CaptureCondition, 'lastTransitionTime'>): CaptureCondition[] {
  const old = list.find((x) => x.type === c.type);
  const lastTransitionTime =
    old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : new Date().toISOString();
  return [...list.filter((x) => x.type !== c.type), { ...c, lastTransitionTime }];
}

export interface StandInOptions {
  namespace: string;
  /** The image the Jobs run: in Retina, its own agent image; here our worker. */
  workerImage: string;
  log?: (msg: string) => void;
}

export class StandInCaptureOperator {
  private readonly captures: Informer<CaptureResource>;
  private readonly queue = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly offs: (() => void)[] = [];
  private stopped = false;
  /** Reconcile failures (a test asserts there were none). */
  readonly errors: string[] = [];

  constructor(
    private readonly door: KubeDoor,
    private readonly opts: StandInOptions,
  ) {
    this.captures = new Informer<CaptureResource>(door.transport, KINDS.captures, { namespace: opts.namespace });
  }

  async start(): Promise<this> {
    const jobs = this.door.informer('jobs');
    this.offs.push(
      this.captures.on((ev) => this.enqueue(ev.object.metadata?.name)),
      jobs.on((ev) => {
        // Owns(&Job{}): a Job change reconciles its Capture.
        if (ev.object.metadata?.namespace !== this.opts.namespace) return;
        this.enqueue(ev.object.metadata?.labels?.[LABEL_CAPTURE_NAME]);
      }),
    );
    this.captures.start();
    await Promise.all([this.captures.synced, jobs.synced]);
    return this;
  }

  stop(): void {
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
    this.captures.dispose();
  }

  /** One reconcile at a time per Capture; changes during one cause one more. */
  private enqueue(name: string | undefined): void {
    if (!name || this.stopped) return;
    if (this.queue.has(name)) {
      this.again.add(name);
      return;
    }
    const run = async (): Promise<void> => {
      try {
        await this.reconcile(name);
      } catch (e) {
        if (this.stopped) return; // the test closed the connection under a reconcile
        const msg = `${name}: ${(e as Error).message}`;
        this.errors.push(msg);
        this.opts.log?.(`stand-in operator: ${msg}`);
      } finally {
        this.queue.delete(name);
        if (this.again.delete(name)) this.enqueue(name);
      }
    };
    this.queue.set(name, run());
  }

  private async reconcile(name: string): Promise<void> {
    const ns = this.opts.namespace;
    let cr: CaptureResource;
    try {
      cr = await this.door.get<CaptureResource>('captures', ns, name);
    } catch (e) {
      if (isKubeError(e, 'notFound')) return;
      throw e;
    }
    const finalizers = (cr.metadata as { finalizers?: string[] }).finalizers ?? [];
    if (cr.metadata.deletionTimestamp) {
      if (!finalizers.includes(RETINA_FINALIZER)) return;
      const jobs = await this.door.list<V1Job>('jobs', { namespace: ns, labelSelector: captureSelector(name) });
      for (const j of jobs)
        await this.door.delete('jobs', ns, j.metadata?.name as string, { propagationPolicy: 'Background' });
      await this.door.patch('captures', ns, name, {
        metadata: {
          finalizers: finalizers.filter((f) => f !== RETINA_FINALIZER),
          resourceVersion: cr.metadata.resourceVersion,
        },
      });
      return;
    }
    if (!finalizers.includes(RETINA_FINALIZER)) {
      cr = await this.door.patch<CaptureResource>('captures', ns, name, {
        metadata: { finalizers: [...finalizers, RETINA_FINALIZER], resourceVersion: cr.metadata.resourceVersion },
      });
    }
    const jobs = await this.door.list<V1Job>('jobs', { namespace: ns, labelSelector: captureSelector(name) });
    const conditions = cr.status?.conditions ?? [];
    if (jobs.length === 0) {
      if (conditions.some((c) => c.type === CONDITION_ERROR && c.status === 'True')) return; // gave up already
      let created: V1Job[];
      try {
        created = await this.createJobs(cr);
      } catch (e) {
        const reason = e instanceof TranslateError ? e.reason : 'OtherError';
        await this.writeStatus(cr, {
          conditions: setCondition(conditions, {
            type: CONDITION_ERROR,
            status: 'True',
            reason,
            message: (e as Error).message,
          }),
        });
        return;
      }
      const n = created.length;
      await this.writeStatus(cr, {
        conditions: setCondition(conditions, {
          type: CONDITION_COMPLETE,
          status: 'False',
          reason: 'JobsInProgress',
          message: `${n}/${n} Capture jobs are in progress, waiting for completion`,
        }),
      });
      return;
    }
    const finished = (j: V1Job, type: string): boolean =>
      !!j.status?.conditions?.some((c) => c.type === type && c.status === 'True');
    const failed = jobs.filter((j) => finished(j, 'Failed'));
    const succeeded = jobs.filter((j) => finished(j, 'Complete'));
    const active = jobs.length - failed.length - succeeded.length;
    let next = conditions;
    if (failed.length)
      next = setCondition(next, {
        type: CONDITION_ERROR,
        status: 'True',
        reason: 'RunJobFailed',
        message: `${failed.length} Capture jobs are in failed state`,
      });
    const counts = { active, succeeded: succeeded.length, failed: failed.length };
    if (succeeded.length !== jobs.length) {
      next = setCondition(next, {
        type: CONDITION_COMPLETE,
        status: 'False',
        reason: 'JobsInProgress',
        message: `${active}/${jobs.length} Capture jobs are in progress, waiting for completion`,
      });
      await this.writeStatus(cr, { ...counts, conditions: next });
      return;
    }
    next = setCondition(next, {
      type: CONDITION_COMPLETE,
      status: 'True',
      reason: 'JobsCompleted',
      message: `All ${succeeded.length} Capture jobs are completed`,
    });
    const last = Math.max(Date.now(), ...jobs.map((j) => new Date(j.status?.completionTime ?? 0).getTime()));
    await this.writeStatus(cr, { ...counts, conditions: next, completionTime: new Date(last).toISOString() });
  }

  private async createJobs(cr: CaptureResource): Promise<V1Job[]> {
    const ns = this.opts.namespace;
    const request = requestOf(cr, this.opts.workerImage);
    const secretName = cr.spec.outputConfiguration.blobUpload;
    if (secretName) {
      try {
        await this.door.get<V1Secret>('secrets', ns, secretName);
      } catch (e) {
        if (isKubeError(e, 'notFound'))
          throw new TranslateError('FindSecretFailed', `secret ${secretName} not found in namespace ${ns}`);
        throw e;
      }
    }
    const snapshot = await snapshotFor(this.door, request);
    const plan = planCapture(request, snapshot, { now: new Date() });
    const errs = planErrors(plan);
    if (errs.length) throw new TranslateError('OtherError', errs.map((p) => p.message).join('; '));
    if (plan.nodes.length === 0) throw new TranslateError('OtherError', 'no nodes are selected');
    const manifests = buildJobs(plan, request, { blobSecretName: secretName });
    const owner = {
      apiVersion: cr.apiVersion,
      kind: cr.kind,
      name: cr.metadata.name as string,
      uid: cr.metadata.uid as string,
      controller: true,
      blockOwnerDeletion: true,
    };
    const out: V1Job[] = [];
    for (const m of manifests) {
      // Retina's Jobs carry neither our created-by label nor our request annotation.
      delete m.metadata?.labels?.[LABEL_CREATED_BY];
      delete m.spec?.template.metadata?.labels?.[LABEL_CREATED_BY];
      delete m.metadata?.annotations?.[ANNOTATION_REQUEST];
      delete m.spec?.template.metadata?.annotations?.[ANNOTATION_REQUEST];
      m.metadata = { ...m.metadata, ownerReferences: [owner] };
      out.push(await this.door.create<V1Job>('jobs', ns, m));
    }
    return out;
  }

  /** Status().Update of Retina, as a merge patch on the status subresource. */
  private async writeStatus(cr: CaptureResource, status: NonNullable<CaptureResource['status']>): Promise<void> {
    const merged = { ...cr.status, ...status };
    if (JSON.stringify(merged) === JSON.stringify(cr.status ?? {})) return;
    await this.door.transport.request({
      method: 'PATCH',
      path: resourcePath(KINDS.captures, this.opts.namespace, cr.metadata.name, 'status'),
      body: { status: merged },
      contentType: 'application/merge-patch+json',
      ctx: { verb: 'patch', resource: 'captures/status.retina.sh', namespace: this.opts.namespace },
    });
  }
}
