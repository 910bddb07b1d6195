// The Clusters tree as pure data: which rows exist under which parent, and how each row
// looks (label, description, tooltip, contextValue, icon). src/ui/clusterTree.ts only maps
// these onto vscode.TreeItem, so all of this is unit-tested in plain Node.
import { ITEM } from './ids.js';
import type { ClusterSnapshot, ContextInfo, NodeInfo, PodInfo } from './ports.js';

export const PAGE_SIZE = 200;

export type ClusterElement =
  | { type: 'context'; context: ContextInfo }
  | { type: 'nodes'; context: string }
  | { type: 'namespaces'; context: string }
  /** podCount undefined: the pods are not listed yet. */
  | { type: 'node'; context: string; node: NodeInfo; podCount?: number }
  | { type: 'namespace'; context: string; namespace: string; podCount?: number }
  | { type: 'workload'; context: string; namespace: string; kind: string; name: string; pods: PodInfo[] }
  | { type: 'pod'; context: string; pod: PodInfo }
  | { type: 'page'; context: string; parentKey: string; from: number; items: ClusterElement[] }
  | { type: 'message'; context: string; key: string; text: string; error?: boolean };

export type Collapsible = 'none' | 'collapsed' | 'expanded';

export interface RowView {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  contextValue: string;
  collapsible: Collapsible;
  /** Codicon id, optionally with a theme color id. */
  icon?: { id: string; color?: string };
}

/** Stable key of an element, used as TreeItem.id so expansion and selection survive updates. */
export function keyOf(e: ClusterElement): string {
  switch (e.type) {
    case 'context':
      return `ctx/${e.context.name}`;
    case 'nodes':
      return `ctx/${e.context}/nodes`;
    case 'namespaces':
      return `ctx/${e.context}/ns`;
    case 'node':
      return `ctx/${e.context}/nodes/${e.node.name}`;
    case 'namespace':
      return `ctx/${e.context}/ns/${e.namespace}`;
    case 'workload':
      return `ctx/${e.context}/ns/${e.namespace}/${e.kind}/${e.name}`;
    case 'pod':
      return `ctx/${e.context}/ns/${e.pod.namespace}/pod/${e.pod.name}`;
    case 'page':
      return `${e.parentKey}/page/${e.from}`;
    case 'message':
      return `ctx/${e.context}/msg/${e.key}`;
  }
}

/** Splits long lists into pages of PAGE_SIZE so the tree never renders thousands of rows at once. */
export function paged(context: string, parentKey: string, items: ClusterElement[], size = PAGE_SIZE): ClusterElement[] {
  if (items.length <= size) return items;
  const pages: ClusterElement[] = [];
  for (let from = 0; from < items.length; from += size) {
    pages.push({ type: 'page', context, parentKey, from, items: items.slice(from, from + size) });
  }
  return pages;
}

function isSynced(snap: ClusterSnapshot, kind: 'nodes' | 'namespaces' | 'pods'): boolean {
  return snap.syncedKinds?.[kind] ?? snap.synced;
}

// Snapshots keep their arrays until an informer changes (src/views/engineHub.ts), so derived
// data is memoized per array: a refresh caused by one pod does not re-sort 500 nodes.
const countsMemo = new WeakMap<object, { byNode: Map<string, number>; byNamespace: Map<string, number> }>();
const sortedMemo = new WeakMap<object, readonly { name: string }[]>();

function podCounts(pods: readonly PodInfo[]): { byNode: Map<string, number>; byNamespace: Map<string, number> } {
  let c = countsMemo.get(pods);
  if (!c) {
    c = { byNode: new Map(), byNamespace: new Map() };
    for (const p of pods) {
      if (p.nodeName) c.byNode.set(p.nodeName, (c.byNode.get(p.nodeName) ?? 0) + 1);
      c.byNamespace.set(p.namespace, (c.byNamespace.get(p.namespace) ?? 0) + 1);
    }
    countsMemo.set(pods, c);
  }
  return c;
}

// One collator for every comparison: localeCompare with options builds a new one per call,
// which made sorting 500 nodes cost tens of milliseconds on every tree refresh.
const collator = new Intl.Collator('en', { numeric: true });

function byName<T extends { name: string }>(a: T, b: T): number {
  return collator.compare(a.name, b.name);
}

function sortedByName<T extends { name: string }>(items: readonly T[]): readonly T[] {
  let s = sortedMemo.get(items) as readonly T[] | undefined;
  if (!s) {
    s = [...items].sort(byName);
    sortedMemo.set(items, s);
  }
  return s;
}

function loading(ctx: string): ClusterElement[] {
  return [{ type: 'message', context: ctx, key: 'loading', text: 'Loading…' }];
}

/** Children of a context row or deeper; `snapshot` is that context's live cluster view. */
export function childrenOf(e: ClusterElement, snap: ClusterSnapshot | undefined): ClusterElement[] {
  const ctx = e.type === 'context' ? e.context.name : e.context;
  if (e.type === 'page') return e.items;
  if (e.type === 'context') {
    if (snap?.error) return [{ type: 'message', context: ctx, key: 'error', text: snap.error, error: true }];
    return [
      { type: 'nodes', context: ctx },
      { type: 'namespaces', context: ctx },
    ];
  }
  if (!snap) return [];
  // The context's rows were answered before the cluster opened: its error shows in the groups.
  if (snap.error && (e.type === 'nodes' || e.type === 'namespaces'))
    return [{ type: 'message', context: ctx, key: `error-${e.type}`, text: snap.error, error: true }];
  const podsSynced = isSynced(snap, 'pods');
  switch (e.type) {
    case 'nodes': {
      if (!isSynced(snap, 'nodes')) return loading(ctx);
      const counts = podsSynced ? podCounts(snap.pods).byNode : undefined;
      const rows: ClusterElement[] = sortedByName(snap.nodes).map((node) => ({
        type: 'node',
        context: ctx,
        node,
        podCount: counts ? (counts.get(node.name) ?? 0) : undefined,
      }));
      return rows.length
        ? paged(ctx, keyOf(e), rows)
        : [{ type: 'message', context: ctx, key: 'nonodes', text: 'No nodes' }];
    }
    case 'namespaces': {
      if (!isSynced(snap, 'namespaces')) return loading(ctx);
      const counts = podsSynced ? podCounts(snap.pods).byNamespace : undefined;
      const rows: ClusterElement[] = sortedByName(snap.namespaces).map((ns) => ({
        type: 'namespace',
        context: ctx,
        namespace: ns.name,
        podCount: counts ? (counts.get(ns.name) ?? 0) : undefined,
      }));
      return paged(ctx, keyOf(e), rows);
    }
    case 'namespace': {
      if (!podsSynced) return [{ type: 'message', context: ctx, key: `loading-${e.namespace}`, text: 'Loading…' }];
      const pods = snap.pods.filter((p) => p.namespace === e.namespace).sort(byName);
      const groups = new Map<string, { kind: string; name: string; pods: PodInfo[] }>();
      const loose: ClusterElement[] = [];
      for (const pod of pods) {
        if (pod.owner) {
          const k = `${pod.owner.kind}/${pod.owner.name}`;
          const g = groups.get(k) ?? { ...pod.owner, pods: [] };
          g.pods.push(pod);
          groups.set(k, g);
        } else loose.push({ type: 'pod', context: ctx, pod });
      }
      const workloads: ClusterElement[] = [...groups.values()]
        .sort((a, b) => collator.compare(a.kind, b.kind) || byName(a, b))
        .map((g) => ({ type: 'workload', context: ctx, namespace: e.namespace, ...g }));
      const rows = [...workloads, ...loose];
      return rows.length
        ? paged(ctx, keyOf(e), rows)
        : [{ type: 'message', context: ctx, key: `empty-${e.namespace}`, text: 'No pods' }];
    }
    case 'workload':
      return paged(
        ctx,
        keyOf(e),
        e.pods.map((pod) => ({ type: 'pod', context: ctx, pod })),
      );
    case 'node':
    case 'pod':
    case 'message':
      return [];
  }
}

const PHASE_ICON: Record<string, { id: string; color?: string }> = {
  Running: { id: 'pass-filled', color: 'testing.iconPassed' },
  Pending: { id: 'clock', color: 'testing.iconQueued' },
  Succeeded: { id: 'check' },
  Failed: { id: 'error', color: 'testing.iconFailed' },
};

export function rowOf(e: ClusterElement, currentlyExpanded = true): RowView {
  const id = keyOf(e);
  switch (e.type) {
    case 'context':
      return {
        id,
        label: e.context.name,
        description: e.context.current ? `current · ${e.context.cluster}` : e.context.cluster,
        tooltip: `Context ${e.context.name}\nCluster ${e.context.cluster}${e.context.user ? `\nUser ${e.context.user}` : ''}`,
        contextValue: ITEM.context,
        collapsible: e.context.current && currentlyExpanded ? 'expanded' : 'collapsed',
        icon: { id: 'server-environment' },
      };
    case 'nodes':
      return { id, label: 'Nodes', contextValue: ITEM.nodesGroup, collapsible: 'expanded', icon: { id: 'server' } };
    case 'namespaces':
      return {
        id,
        label: 'Namespaces',
        contextValue: ITEM.namespacesGroup,
        collapsible: 'collapsed',
        icon: { id: 'folder-library' },
      };
    case 'node': {
      const n = e.node;
      const status = n.ready ? 'Ready' : 'NotReady';
      const pods = e.podCount === undefined ? 'pods loading…' : `${e.podCount} pods`;
      const parts = [status, n.os, pods].filter(Boolean);
      return {
        id,
        label: n.name,
        description: parts.join(' · '),
        tooltip: [
          `Node ${n.name}`,
          `Status ${status}${n.unschedulable ? ' (cordoned)' : ''}`,
          n.os ? `OS ${n.os}${n.arch ? `/${n.arch}` : ''}` : '',
          n.internalIP ? `IP ${n.internalIP}` : '',
          pods,
        ]
          .filter(Boolean)
          .join('\n'),
        contextValue: n.os === 'windows' ? `${ITEM.node}.windows` : ITEM.node,
        collapsible: 'none',
        icon: n.ready
          ? { id: 'vm-running', color: 'testing.iconPassed' }
          : { id: 'vm-outline', color: 'testing.iconFailed' },
      };
    }
    case 'namespace': {
      const pods = e.podCount === undefined ? 'pods loading…' : `${e.podCount} pods`;
      return {
        id,
        label: e.namespace,
        description: pods,
        tooltip: `Namespace ${e.namespace}\n${pods}`,
        contextValue: ITEM.namespace,
        collapsible: 'collapsed',
        icon: { id: 'symbol-namespace' },
      };
    }
    case 'workload':
      return {
        id,
        label: e.name,
        description: `${e.kind} · ${e.pods.length} pods`,
        tooltip: `${e.kind} ${e.namespace}/${e.name}\n${e.pods.length} pods`,
        contextValue: ITEM.workload,
        collapsible: 'collapsed',
        icon: { id: 'layers' },
      };
    case 'pod': {
      const p = e.pod;
      return {
        id,
        label: p.name,
        description: [p.phase, p.nodeName, p.podIP].filter(Boolean).join(' · '),
        tooltip: [
          `Pod ${p.namespace}/${p.name}`,
          `Phase ${p.phase}`,
          p.nodeName ? `Node ${p.nodeName}` : 'Not scheduled',
          p.podIP ? `IP ${p.podIP}${p.hostNetwork ? ' (host network)' : ''}` : 'No IP yet',
        ].join('\n'),
        contextValue: ITEM.pod,
        collapsible: 'none',
        icon: PHASE_ICON[p.phase] ?? { id: 'circle-outline' },
      };
    }
    case 'page': {
      const to = e.from + e.items.length;
      return {
        id,
        label: `${e.from + 1}–${to}`,
        contextValue: ITEM.page,
        collapsible: 'collapsed',
        icon: { id: 'list-flat' },
      };
    }
    case 'message':
      return {
        id,
        label: e.text,
        tooltip: e.text,
        contextValue: e.error ? ITEM.contextError : ITEM.message,
        collapsible: 'none',
        icon: e.error ? { id: 'warning', color: 'problemsWarningIcon.foreground' } : { id: 'info' },
      };
  }
}
