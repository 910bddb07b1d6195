// The narrow shape of cluster and capture data the ui shows. The engine (src/engine.ts,
// src/kube informers, src/session) is adapted to these in src/ui/engineAdapter.ts, so views
// and their tests don't depend on how the engine stores things.

export interface ContextInfo {
  name: string;
  cluster: string;
  user?: string;
  namespace?: string;
  current: boolean;
}

export interface NodeInfo {
  name: string;
  ready: boolean;
  os?: string;
  arch?: string;
  internalIP?: string;
  unschedulable?: boolean;
  labels?: Record<string, string>;
}

export interface NamespaceInfo {
  name: string;
  phase?: string;
}

export interface PodInfo {
  namespace: string;
  name: string;
  phase: string;
  nodeName?: string;
  podIP?: string;
  hostNetwork?: boolean;
  /** Top controller when known: Deployment via its ReplicaSet, else the direct owner. */
  owner?: { kind: string; name: string };
}

export interface ClusterSnapshot {
  nodes: readonly NodeInfo[];
  namespaces: readonly NamespaceInfo[];
  pods: readonly PodInfo[];
  /** False until the first list of every informer arrived. */
  synced: boolean;
  /**
   * Per kind, so the Nodes list can show before 5,000 pods are listed (their counts follow).
   * Absent: `synced` stands for every kind.
   */
  syncedKinds?: { nodes: boolean; namespaces: boolean; pods: boolean };
  /** Set when the cluster can't be listed (unreachable, forbidden): shown in the tree. */
  error?: string;
}

export type NodeCapturePhase = 'pending' | 'running' | 'uploading' | 'succeeded' | 'failed' | 'unknown';

export interface CaptureNodeState {
  node: string;
  phase: NodeCapturePhase;
  message?: string;
  packets?: number;
  bytes?: number;
  drops?: number;
  archive?: string;
}

export interface CaptureInfo {
  name: string;
  namespace: string;
  context: string;
  /** Started by this extension, or found by label (Retina's CLI/operator). */
  origin: 'ours' | 'retina';
  startedAt?: number;
  durationSeconds?: number;
  filter?: string;
  nodes: readonly CaptureNodeState[];
  hostPath?: string;
  blob?: boolean;
  /** Local folder or merged pcapng once downloaded. */
  localPath?: string;
  mergedFile?: string;
  warnings?: readonly string[];
}
