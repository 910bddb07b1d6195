// A read-only, informer-fed view of each kubeconfig context (nodes, namespaces, pods, capture
// Jobs) for the trees. Loaded with a dynamic import, so @kubernetes/client-node lands in a
// lazy chunk and is never loaded at activation.
// It stands in for the engine's informers (src/kube, src/engine.ts) until the ui adapter
// switches to them; it never writes to the cluster.
import * as k8s from '@kubernetes/client-node';
import { captureSelector } from '../contract/index.js';
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
  dispose(): void;
}

export interface KubeSource {
  contexts(): ContextInfo[];
  open(context: string): ContextFeeds;
}

const RETRY_MS = 5000;

function nodeInfo(n: k8s.V1Node): NodeInfo {
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

function podInfo(p: k8s.V1Pod): PodInfo {
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

class Emitter {
  private readonly listeners = new Set<() => void>();
  private pending: NodeJS.Timeout | undefined;
  on(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  /** Coalesces bursts (the initial list of 1000 pods) into one tree refresh. */
  fire(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      for (const l of this.listeners) l();
    }, 100);
  }
  dispose(): void {
    clearTimeout(this.pending);
    this.listeners.clear();
  }
}

function openContext(base: k8s.KubeConfig, context: string, log: (m: string) => void): ContextFeeds {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(base.exportConfig());
  kc.setCurrentContext(context);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const clusterEvents = new Emitter();
  const captureEvents = new Emitter();
  let error: string | undefined;
  const synced = { nodes: false, namespaces: false, pods: false };
  let stopped = false;

  function watch<T extends k8s.KubernetesObject>(
    what: string,
    path: string,
    list: () => Promise<k8s.KubernetesListObject<T>>,
    emitter: Emitter,
    selector?: string,
    onSynced?: () => void,
  ): k8s.Informer<T> & k8s.ObjectCache<T> {
    const inf = k8s.makeInformer<T>(kc, path, list, selector);
    const changed = (): void => emitter.fire();
    inf.on('add', changed);
    inf.on('update', changed);
    inf.on('delete', changed);
    inf.on('connect', () => {
      error = undefined;
      onSynced?.();
      emitter.fire();
    });
    inf.on('error', (err: unknown) => {
      if (stopped) return;
      error = `Cannot list ${what}: ${err instanceof Error ? err.message : String(err)}`;
      log(`${context}: ${error}`);
      emitter.fire();
      // The client's informer stops on error; start it again after a pause.
      setTimeout(() => {
        if (!stopped) inf.start().catch(() => undefined);
      }, RETRY_MS);
    });
    inf.start().catch(() => undefined);
    return inf;
  }

  const nodes = watch(
    'nodes',
    '/api/v1/nodes',
    () => core.listNode(),
    clusterEvents,
    undefined,
    () => (synced.nodes = true),
  );
  const namespaces = watch(
    'namespaces',
    '/api/v1/namespaces',
    () => core.listNamespace(),
    clusterEvents,
    undefined,
    () => (synced.namespaces = true),
  );
  const pods = watch(
    'pods',
    '/api/v1/pods',
    () => core.listPodForAllNamespaces(),
    clusterEvents,
    undefined,
    () => (synced.pods = true),
  );
  const selector = captureSelector();
  const jobs = watch(
    'capture jobs',
    '/apis/batch/v1/jobs',
    () => batch.listJobForAllNamespaces({ labelSelector: selector }),
    captureEvents,
    selector,
  );

  return {
    cluster: {
      current: () => ({
        nodes: nodes.list().map(nodeInfo),
        namespaces: namespaces.list().map((n) => ({ name: n.metadata?.name ?? '?', phase: n.status?.phase })),
        pods: pods.list().map(podInfo),
        synced: synced.nodes && synced.namespaces && synced.pods,
        error,
      }),
      onChange: (l) => clusterEvents.on(l),
    },
    captures: {
      current: () => jobsToCaptures(context, jobs.list() as JobLike[]),
      onChange: (l) => captureEvents.on(l),
    },
    dispose: () => {
      stopped = true;
      for (const inf of [nodes, namespaces, pods, jobs]) inf.stop().catch(() => undefined);
      clusterEvents.dispose();
      captureEvents.dispose();
    },
  };
}

/** Loads the kubeconfig files (KUBECONFIG semantics: several files merge, first wins). */
export function createKubeSource(kubeconfigPath: string | undefined, log: (m: string) => void): KubeSource {
  const kc = new k8s.KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return {
    contexts: () => {
      const current = kc.getCurrentContext();
      return kc.getContexts().map((c) => ({
        name: c.name,
        cluster: c.cluster,
        user: c.user,
        namespace: c.namespace,
        current: c.name === current,
      }));
    },
    open: (context) => openContext(kc, context, log),
  };
}
