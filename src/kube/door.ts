// KubeDoor: the one typed door to one cluster context. Each door owns its transport (own
// credentials, own keep-alive agent, own request counter) and its informers, so switching
// context never mixes state: a new context is a new door.
import type { KubeConfig, CoreV1Event, V1Job, V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';
import { APP_CAPTURE, LABEL_APP } from '../contract/labels.js';
import { configForContext, type ContextInfo, type KubeconfigSource } from './config.js';
import { KubeError, isKubeError } from './errors.js';
import { Informer } from './informer.js';
import { KINDS, resourcePath, type KindName, type KubeObject, type ObjectList } from './resources.js';
import { Transport, type RequestStats } from './transport.js';

/** The informers a door offers: one watch per kind, shared by every consumer. */
export interface DoorInformers {
  nodes: Informer<V1Node>;
  namespaces: Informer<V1Namespace>;
  pods: Informer<V1Pod>;
  /** Capture Jobs only (`retina.sh/app=capture`), ours and Retina's. */
  jobs: Informer<V1Job>;
  /** Warning events only (FailedCreate, FailedScheduling, image pulls…). */
  events: Informer<CoreV1Event>;
}

export type PatchType = 'merge' | 'strategic' | 'json';
const PATCH_CONTENT: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

export interface AccessCheck {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  namespace?: string;
}

export interface AccessResult extends AccessCheck {
  allowed: boolean;
  reason?: string;
}

export interface DoorOptions {
  log?: (msg: string) => void;
}

export class KubeDoor {
  private readonly informers: Partial<DoorInformers> = {};
  /** Single-object watches handed out by watchObject (closed with the door). */
  private readonly objectWatches = new Set<Informer<KubeObject>>();
  private disposed = false;

  constructor(
    readonly context: ContextInfo,
    readonly transport: Transport,
    private readonly opts: DoorOptions = {},
  ) {}

  /** The context's default namespace. */
  get namespace(): string {
    return this.context.namespace;
  }

  /** Requests sent so far through this door (lists, watches, creates, retries). */
  get stats(): RequestStats {
    return this.transport.stats;
  }

  /** client-node KubeConfig bound to this context only (for exec / websocket helpers). */
  kubeConfig(): KubeConfig {
    return this.transport.kubeConfig;
  }

  log(msg: string): void {
    this.opts.log?.(msg);
  }

  /**
   * Lazily started informer of one kind; the same instance for every caller. `start: false`
   * hands out the shared instance without listing yet (its owner calls start() when needed;
   * any other caller's plain informer() starts it).
   */
  informer<K extends keyof DoorInformers>(kind: K, opts: { start?: boolean } = {}): DoorInformers[K] {
    if (this.disposed) throw new KubeError('aborted', 'This cluster connection was closed.');
    let inf = this.informers[kind] as DoorInformers[K] | undefined;
    if (!inf) {
      const log = (m: string): void => this.log(`[${this.context.name}] ${m}`);
      const made =
        kind === 'jobs'
          ? new Informer<V1Job>(this.transport, KINDS.jobs, { labelSelector: `${LABEL_APP}=${APP_CAPTURE}`, log })
          : kind === 'events'
            ? new Informer<CoreV1Event>(this.transport, KINDS.events, { fieldSelector: 'type=Warning', log })
            : new Informer<KubeObject>(this.transport, KINDS[kind], { log });
      inf = made as unknown as DoorInformers[K];
      this.informers[kind] = inf;
    }
    if (opts.start !== false) inf.start();
    return inf;
  }

  /**
   * A watch on one named object (field selector metadata.name), not shared: for following one
   * Capture resource without a cluster-wide informer. Call dispose() on it when done.
   */
  watchObject<T extends KubeObject>(kind: KindName, namespace: string | undefined, name: string): Informer<T> {
    if (this.disposed) throw new KubeError('aborted', 'This cluster connection was closed.');
    const log = (m: string): void => this.log(`[${this.context.name}] ${m}`);
    const inf = new Informer<T>(this.transport, KINDS[kind], {
      namespace,
      fieldSelector: `metadata.name=${name}`,
      log,
    });
    const dispose = inf.dispose.bind(inf);
    inf.dispose = (): void => {
      this.objectWatches.delete(inf as unknown as Informer<KubeObject>);
      dispose();
    };
    this.objectWatches.add(inf as unknown as Informer<KubeObject>);
    return inf.start();
  }

  // ---- plain requests -----------------------------------------------------------------------

  async get<T extends KubeObject>(
    kind: KindName,
    namespace: string | undefined,
    name: string,
    signal?: AbortSignal,
  ): Promise<T> {
    const k = KINDS[kind];
    return this.transport.request<T>({
      method: 'GET',
      path: resourcePath(k, namespace, name),
      ctx: { verb: 'get', resource: k.display, namespace, name },
      signal,
    });
  }

  async list<T extends KubeObject>(
    kind: KindName,
    opts: { namespace?: string; labelSelector?: string; fieldSelector?: string; signal?: AbortSignal } = {},
  ): Promise<T[]> {
    const k = KINDS[kind];
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const page = await this.transport.request<ObjectList<T>>({
        method: 'GET',
        path: resourcePath(k, opts.namespace),
        query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: 500, continue: cont },
        ctx: { verb: 'list', resource: k.display, namespace: opts.namespace },
        signal: opts.signal,
      });
      items.push(...page.items);
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return items;
  }

  async create<T extends KubeObject>(
    kind: KindName,
    namespace: string | undefined,
    body: T,
    signal?: AbortSignal,
  ): Promise<T> {
    const k = KINDS[kind];
    return this.transport.request<T>({
      method: 'POST',
      path: resourcePath(k, namespace),
      body,
      ctx: { verb: 'create', resource: k.display, namespace },
      signal,
    });
  }

  async patch<T extends KubeObject>(
    kind: KindName,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType = 'merge',
    signal?: AbortSignal,
  ): Promise<T> {
    const k = KINDS[kind];
    return this.transport.request<T>({
      method: 'PATCH',
      path: resourcePath(k, namespace, name),
      body: patch,
      contentType: PATCH_CONTENT[type],
      ctx: { verb: 'patch', resource: k.display, namespace, name },
      signal,
    });
  }

  /** Deletes one object; a 404 counts as done (someone else deleted it). */
  async delete(
    kind: KindName,
    namespace: string | undefined,
    name: string,
    opts: {
      propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
      gracePeriodSeconds?: number;
      signal?: AbortSignal;
    } = {},
  ): Promise<boolean> {
    const k = KINDS[kind];
    try {
      await this.transport.request<unknown>({
        method: 'DELETE',
        path: resourcePath(k, namespace, name),
        body: {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          ...(opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : {}),
          ...(opts.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: opts.gracePeriodSeconds }),
        },
        ctx: { verb: 'delete', resource: k.display, namespace, name },
        signal: opts.signal,
      });
      return true;
    } catch (e) {
      if (isKubeError(e, 'notFound')) return false;
      throw e;
    }
  }

  /** One SelfSubjectAccessReview. */
  async canI(check: AccessCheck, signal?: AbortSignal): Promise<AccessResult> {
    const k = KINDS.selfSubjectAccessReviews;
    const res = await this.transport.request<{ status?: { allowed?: boolean; reason?: string; denied?: boolean } }>({
      method: 'POST',
      path: resourcePath(k),
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: {
            verb: check.verb,
            resource: check.resource,
            group: check.group ?? '',
            subresource: check.subresource,
            namespace: check.namespace,
          },
        },
      },
      ctx: { verb: 'create', resource: k.display },
      signal,
    });
    return { ...check, allowed: res.status?.allowed === true, reason: res.status?.reason };
  }

  /** Whether the cluster serves `resource` in `groupVersion` (one discovery GET). */
  async serves(groupVersion: string, resource: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const res = await this.transport.request<{ resources?: { name: string }[] }>({
        method: 'GET',
        path: `/apis/${groupVersion}`,
        ctx: { verb: 'get', resource: `discovery ${groupVersion}` },
        signal,
        retries: 1,
      });
      return (res.resources ?? []).some((r) => r.name === resource);
    } catch (e) {
      if (isKubeError(e, 'notFound') || isKubeError(e, 'forbidden')) return false;
      throw e;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const inf of Object.values(this.informers)) inf?.dispose();
    for (const inf of [...this.objectWatches]) inf.dispose();
    this.transport.dispose();
  }
}

/** A door bound to one context (default: the kubeconfig's current one). */
export async function forContext(name?: string, src: KubeconfigSource = {}, opts: DoorOptions = {}): Promise<KubeDoor> {
  const { kc, info } = await configForContext(src, name);
  const transport = new Transport(kc, info.name, async () => (await configForContext(src, info.name)).kc);
  return new KubeDoor(info, transport, opts);
}
