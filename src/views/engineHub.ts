// One Engine (src/engine.ts) per kubeconfig context, shared by the trees and the capture
// sessions: the trees read the same door informers (one watch per resource kind) the session
// module follows its Jobs and Pods with. Plain Node, loaded lazily (its own chunk) by
// src/ui/clusterService.ts, so the Kubernetes code never loads at activation.
import type { V1Job, V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';
import { Engine } from '../engine.js';
import type { DoorInformers } from '../kube/door.js';
import { listContexts } from '../kube/config.js';
import { jobsToCaptures, type JobLike } from './jobsToCaptures.js';
import type { CaptureInfo, ClusterSnapshot, ContextInfo, NodeInfo, PodInfo } from './ports.js';

export interface Feed<T> {
  current(): T;
  /** Returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

export interface ContextFeeds {
  cluster: Feed<ClusterSnapshot>;
  captures: Feed<CaptureInfo[]>;
  /**
   * Starts listing pods (idempotent). Pods are the heavy list (thousands on a big cluster): the
   * tree asks for them once its first rows are out, pickers when they open.
   */
  wantPods(): void;
  /** Re-lists every informer of the context not listing now (the Refresh command); keeps the connections. */
  relist(): void;
  dispose(): void;
}

export function nodeInfo(n: V1Node): NodeInfo {
  const labels = n.metadata?.labels ?? {};
  return {
    name: n.metadata?.name ?? '?',
    ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    os: labels['kubernetes.io/os'] ?? n.status?.nodeInfo?.operatingSystem,
    arch: labels['kubernetes.io/arch'] ?? n.status?.nodeInfo?.architecture,
    internalIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
    unschedulable: n.spec?.unschedulable,
    labels,
  };
}

export function podInfo(p: V1Pod): PodInfo {
  const ref = p.metadata?.ownerReferences?.find((o) => o.controller) ?? p.metadata?.ownerReferences?.[0];
  // A ReplicaSet named <deployment>-<hash> is shown as its Deployment (what users think in).
  let owner = ref ? { kind: ref.kind, name: ref.name } : undefined;
  if (owner?.kind === 'ReplicaSet' && /-[a-z0-9]{5,10}$/.test(owner.name)) {
    owner = { kind: 'Deployment', name: owner.name.replace(/-[a-z0-9]{5,10}$/, '') };
  }
  return {
    namespace: p.metadata?.namespace ?? 'default',
    name: p.metadata?.name ?? '?',
    phase: p.status?.phase ?? 'Unknown',
    nodeName: p.spec?.nodeName,
    podIP: p.status?.podIP,
    hostNetwork: p.spec?.hostNetwork,
    owner,
  };
}

/** Coalesces bursts (the initial list of 1000 pods) into one listener call. */
export class Coalescer {
  private readonly listeners = new Set<() => void>();
  private pending: NodeJS.Timeout | undefined;
  constructor(private readonly delayMs = 100) {}
  on(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  /** `now`: a finished list — tell listeners at once (and drop a pending call) instead of later. */
  fire(now = false): void {
    if (now) {
      clearTimeout(this.pending);
      this.pending = undefined;
      for (const l of this.listeners) l();
      return;
    }
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      for (const l of this.listeners) l();
    }, this.delayMs);
  }
  dispose(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
    this.listeners.clear();
  }
}

type TreeInformers = Pick<DoorInformers, 'nodes' | 'namespaces' | 'pods' | 'jobs'>;

/**
 * `map` over an informer's objects, recomputed only after the informer changed: every tree
 * row asks for the snapshot, and mapping 5,000 pods per ask made each refresh cost more.
 */
export function mappedCache<S, T>(
  inf: { list(): S[]; on(l: () => void): () => void; onSync(l: () => void): () => void },
  map: (s: S) => T,
  unsubscribe: (() => void)[],
): () => readonly T[] {
  let cached: readonly T[] | undefined;
  const drop = (): void => {
    cached = undefined;
  };
  unsubscribe.push(inf.on(drop), inf.onSync(drop));
  return () => (cached ??= inf.list().map(map));
}

/** Tree feeds over a door's shared informers (the unit tests pass fakes). */
export function feedsFromInformers(context: string, inf: TreeInformers): ContextFeeds {
  const clusterEvents = new Coalescer();
  const captureEvents = new Coalescer();
  const unsubscribe: (() => void)[] = [];
  const cluster = [inf.nodes, inf.namespaces, inf.pods] as const;
  const nodes = mappedCache(inf.nodes, nodeInfo, unsubscribe);
  const namespaces = mappedCache(
    inf.namespaces,
    (n: V1Namespace) => ({ name: n.metadata?.name ?? '?', phase: n.status?.phase }),
    unsubscribe,
  );
  const pods = mappedCache(inf.pods, podInfo, unsubscribe);
  for (const i of cluster) {
    unsubscribe.push(
      i.on(() => clusterEvents.fire()),
      i.onSync(() => clusterEvents.fire(true)),
    );
    // A list that fails for good (403, unreachable) shows as the tree's error row.
    i.synced.then(
      () => clusterEvents.fire(true),
      () => clusterEvents.fire(true),
    );
  }
  unsubscribe.push(
    inf.jobs.on(() => captureEvents.fire()),
    inf.jobs.onSync(() => captureEvents.fire()),
  );
  const error = (): string | undefined => {
    for (const [what, i] of [
      ['nodes', inf.nodes],
      ['namespaces', inf.namespaces],
      ['pods', inf.pods],
    ] as const) {
      if (i.lastError && !i.isSynced) return `Cannot list ${what}: ${i.lastError.message}`;
    }
    return undefined;
  };
  return {
    cluster: {
      current: () => ({
        nodes: nodes(),
        namespaces: namespaces(),
        pods: pods(),
        synced: cluster.every((i) => i.isSynced),
        syncedKinds: { nodes: inf.nodes.isSynced, namespaces: inf.namespaces.isSynced, pods: inf.pods.isSynced },
        error: error(),
      }),
      onChange: (l) => clusterEvents.on(l),
    },
    captures: {
      current: () => jobsToCaptures(context, inf.jobs.list() as V1Job[] as JobLike[]),
      onChange: (l) => captureEvents.on(l),
    },
    wantPods: () => void inf.pods.start(),
    relist: () => {
      for (const i of [...cluster, inf.jobs]) i.refresh();
    },
    dispose: () => {
      for (const u of unsubscribe) u();
      clusterEvents.dispose();
      captureEvents.dispose();
    },
  };
}

const NODES_WAIT_MS = 2000;

/** Engines (and so doors and informers) per context for one kubeconfig; dispose closes all. */
export class EngineHub {
  private readonly engines = new Map<string, Promise<Engine>>();

  constructor(
    private readonly files: string[],
    private readonly log: (m: string) => void,
  ) {}

  async contexts(): Promise<ContextInfo[]> {
    const all = await listContexts({ files: this.files.length ? this.files : undefined });
    return all.map((c) => ({
      name: c.name,
      cluster: c.cluster,
      user: c.user,
      namespace: c.namespace,
      current: c.current,
    }));
  }

  engine(context: string): Promise<Engine> {
    let e = this.engines.get(context);
    if (!e) {
      e = Engine.fromKubeconfig(this.files.length ? this.files : undefined, { context, log: this.log });
      e.catch(() => this.engines.delete(context));
      this.engines.set(context, e);
    }
    return e;
  }

  async feeds(context: string): Promise<ContextFeeds> {
    const { door } = await this.engine(context);
    const nodes = door.informer('nodes');
    const namespaces = door.informer('namespaces');
    // The first rows wait for the nodes (a "Loading…" row would cost a whole-tree refresh more);
    // bounded, so an unreachable cluster still gets its error row.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      nodes.synced.catch(() => undefined),
      new Promise((r) => (timer = setTimeout(r, NODES_WAIT_MS))),
    ]);
    clearTimeout(timer);
    // Pods (thousands on a big cluster) wait for wantPods(): listing them while the first rows
    // render kept both the extension host and the API server busy on VS Code's critical path.
    return feedsFromInformers(context, {
      nodes,
      namespaces,
      pods: door.informer('pods', { start: false }),
      jobs: door.informer('jobs'),
    });
  }

  dispose(): void {
    for (const e of this.engines.values()) void e.then((x) => x.dispose()).catch(() => undefined);
    this.engines.clear();
  }
}
