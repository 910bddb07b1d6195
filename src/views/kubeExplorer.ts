// Optional integration with the Kubernetes extension (ms-kubernetes-tools.vscode-kubernetes-tools):
// its Cluster Explorer's node and pod rows get Start Capture… / Quick Capture. The ui resolves a
// clicked row through that extension's public API (clusterExplorer v1 resolveCommandTarget); the
// pure mapping from the resolved rows to our capture targets lives here. No dependency on the
// extension or its npm package: the few shapes used are declared below.
import type { ContextInfo } from './ports.js';
import type { Selection, UiTarget } from './targets.js';

export const KUBE_EXT_ID = 'ms-kubernetes-tools.vscode-kubernetes-tools';
/** Tree view id of the Kubernetes extension's Cluster Explorer. */
export const KUBE_EXPLORER_VIEW = 'extension.vsKubernetesExplorer';
/**
 * Its rows' contextValue as VS Code sees it: `vsKubernetes.resource.${abbreviation}`, and its
 * explorer appends `k8s-watchable` with no separator to kinds it can watch (nodes and pods among
 * them; seen in 1.4.1), so a node row is `vsKubernetes.resource.nodek8s-watchable`.
 */
export const KUBE_ITEM = {
  node: 'vsKubernetes.resource.nodek8s-watchable',
  pod: 'vsKubernetes.resource.podk8s-watchable',
} as const;
/** `nodeCategory` of every Cluster Explorer row object VS Code passes to a command. */
export const KUBE_NODE_CATEGORY = 'kubernetes-explorer-node';

/** ClusterExplorerV1.ClusterExplorerNode, as far as used here (other node types only by nodeType). */
export interface KubeExplorerNode {
  readonly nodeType: string;
  readonly name?: string;
  readonly namespace?: string | null;
  readonly resourceKind?: { readonly manifestKind: string; readonly abbreviation?: string };
  readonly metadata?: unknown;
}

/** True for the raw row objects of the Cluster Explorer (before resolveCommandTarget). */
export function isKubeExplorerArg(arg: unknown): boolean {
  if (!arg || typeof arg !== 'object') return false;
  const o = arg as Record<string, unknown>;
  return o['nodeCategory'] === KUBE_NODE_CATEGORY;
}

/** Kubernetes object names we accept (node names and pod names are DNS subdomains). */
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function describe(n: KubeExplorerNode): string {
  if (n.nodeType === 'resource') return `${n.resourceKind?.manifestKind ?? 'resource'} ${n.name ?? ''}`.trim();
  const what: Record<string, string> = {
    context: 'a cluster',
    'context.inactive': 'a cluster',
    'folder.grouping': 'a folder',
    'folder.resource': 'a folder',
    configitem: 'a config item',
    'helm.release': 'a Helm release',
    error: 'a message row',
    extension: "another extension's row",
  };
  return what[n.nodeType] ?? `a ${n.nodeType} row`;
}

export type KubeExplorerTargets =
  { ok: true; targets: UiTarget[]; names: string[]; skipped: string[] } | { ok: false; error: string };

/**
 * Resolved Cluster Explorer rows → capture targets. Node → {kind:'node'}, Pod → {kind:'pod'}.
 * Undefined entries (not a Cluster Explorer row) and other kinds are skipped and named; when
 * nothing is left the result is an error that says what can be captured.
 */
export function kubeNodesToTargets(nodes: readonly (KubeExplorerNode | undefined)[]): KubeExplorerTargets {
  const targets: UiTarget[] = [];
  const names: string[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const n of nodes) {
    if (!n) {
      skipped.push('a row that is not from the Cluster Explorer');
      continue;
    }
    const kind = n.nodeType === 'resource' ? n.resourceKind?.manifestKind : undefined;
    const name = n.name ?? '';
    if (kind === 'Node') {
      if (!NAME.test(name)) {
        skipped.push(`node "${name}" (not a valid node name)`);
        continue;
      }
      if (seen.has(`node/${name}`)) continue;
      seen.add(`node/${name}`);
      targets.push({ kind: 'node', name });
      names.push(name);
    } else if (kind === 'Pod') {
      const meta = n.metadata as { namespace?: unknown } | undefined;
      const ns = n.namespace ?? (typeof meta?.namespace === 'string' ? meta.namespace : undefined);
      if (!ns || !NAMESPACE.test(ns)) {
        skipped.push(`pod "${name}" (${ns ? `invalid namespace "${ns}"` : 'no namespace'})`);
        continue;
      }
      if (!NAME.test(name)) {
        skipped.push(`pod "${name}" (not a valid pod name)`);
        continue;
      }
      if (seen.has(`pod/${ns}/${name}`)) continue;
      seen.add(`pod/${ns}/${name}`);
      targets.push({ kind: 'pod', namespace: ns, name });
      names.push(`${ns}/${name}`);
    } else {
      skipped.push(describe(n));
    }
  }
  if (targets.length === 0) {
    return {
      ok: false,
      error: `Retina Capture works on Node and Pod rows of the Kubernetes Cluster Explorer, not on ${skipped.join(', ') || 'an empty selection'}.`,
    };
  }
  return { ok: true, targets, names, skipped };
}

export type KubeContextChoice = { context: string; warning?: string } | { error: string };

/**
 * Which of our contexts the capture runs in: the Kubernetes extension's current context when our
 * kubeconfig has it, else our current context with a warning (their kubeconfig may be another
 * file, or their context could not be read).
 */
export function chooseKubeContext(theirs: string | undefined, ours: readonly ContextInfo[]): KubeContextChoice {
  if (theirs && ours.some((c) => c.name === theirs)) return { context: theirs };
  const current = ours.find((c) => c.current) ?? (ours.length === 1 ? ours[0] : undefined);
  const why = theirs
    ? `The Kubernetes extension's context "${theirs}" is not in Retina Capture's kubeconfig`
    : "The Kubernetes extension's current context could not be read";
  if (!current) return { error: `${why}, and Retina Capture has no current context to use instead.` };
  return { context: current.name, warning: `${why}; capturing in "${current.name}" instead.` };
}

/** Both steps → the Selection the start flow takes (label like selectionToTargets'). */
export function kubeExplorerSelection(
  nodes: readonly (KubeExplorerNode | undefined)[],
  theirContext: string | undefined,
  ours: readonly ContextInfo[],
): { ok: true; selection: Selection; warnings: string[] } | { ok: false; error: string } {
  const t = kubeNodesToTargets(nodes);
  if (!t.ok) return t;
  const c = chooseKubeContext(theirContext, ours);
  if ('error' in c) return { ok: false, error: c.error };
  const warnings: string[] = [];
  if (c.warning) warnings.push(c.warning);
  if (t.skipped.length) warnings.push(`Skipped (only nodes and pods can be captured): ${t.skipped.join(', ')}.`);
  const { names } = t;
  const label = names.length <= 3 ? names.join(', ') : `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
  return {
    ok: true,
    selection: { context: c.context, targets: t.targets, ignored: t.skipped.length, label },
    warnings,
  };
}
