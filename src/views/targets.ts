// Tree selection → capture targets. The shape matches CaptureTarget in src/capture/request.ts
// (structurally), so the request built by the ui goes to the planner unchanged.
import type { ClusterElement } from './clusterModel.js';

export type UiTarget =
  | { kind: 'node'; name: string }
  | { kind: 'pod'; namespace: string; name: string }
  | { kind: 'podSelector'; podLabels: Record<string, string>; namespace: string }
  | {
      kind: 'workload';
      namespace: string;
      workloadKind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'Job';
      name: string;
    };

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

export interface Selection {
  context: string | undefined;
  targets: UiTarget[];
  /** Rows that can't be captured (groups, messages), or from a second context. */
  ignored: number;
  /** Human text: `rc-node-1, rc-node-2` or `3 pods in default`. */
  label: string;
}

/** VS Code passes (clicked, allSelected); allSelected is undefined for a single click. */
export function selectionToTargets(
  clicked: ClusterElement | undefined,
  all: readonly ClusterElement[] | undefined,
): Selection {
  const rows = all && all.length ? all : clicked ? [clicked] : [];
  const context = rows[0] ? (rows[0].type === 'context' ? rows[0].context.name : rows[0].context) : undefined;
  const targets: UiTarget[] = [];
  const names: string[] = [];
  let ignored = 0;
  const seen = new Set<string>();
  const add = (key: string, t: UiTarget, name: string): void => {
    if (seen.has(key)) return;
    seen.add(key);
    targets.push(t);
    names.push(name);
  };
  for (const r of rows) {
    const ctx = r.type === 'context' ? r.context.name : r.context;
    if (ctx !== context) {
      ignored++;
      continue;
    }
    switch (r.type) {
      case 'node':
        add(`node/${r.node.name}`, { kind: 'node', name: r.node.name }, r.node.name);
        break;
      case 'pod':
        add(
          `pod/${r.pod.namespace}/${r.pod.name}`,
          { kind: 'pod', namespace: r.pod.namespace, name: r.pod.name },
          `${r.pod.namespace}/${r.pod.name}`,
        );
        break;
      case 'namespace':
        add(
          `ns/${r.namespace}`,
          { kind: 'podSelector', podLabels: {}, namespace: r.namespace },
          `namespace ${r.namespace}`,
        );
        break;
      case 'workload':
        if (WORKLOAD_KINDS.has(r.kind)) {
          add(
            `wl/${r.namespace}/${r.kind}/${r.name}`,
            {
              kind: 'workload',
              namespace: r.namespace,
              workloadKind: r.kind as Extract<UiTarget, { kind: 'workload' }>['workloadKind'],
              name: r.name,
            },
            `${r.kind.toLowerCase()} ${r.namespace}/${r.name}`,
          );
        } else {
          for (const pod of r.pods)
            add(
              `pod/${pod.namespace}/${pod.name}`,
              { kind: 'pod', namespace: pod.namespace, name: pod.name },
              `${pod.namespace}/${pod.name}`,
            );
        }
        break;
      default:
        ignored++;
    }
  }
  const label = names.length <= 3 ? names.join(', ') : `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
  return { context, targets, ignored, label };
}

/** Namespace the capture's Jobs go to: the pods' namespace when all targets share one. */
export function captureNamespace(targets: readonly UiTarget[], fallback = 'default'): string {
  const nss = new Set(targets.filter((t) => t.kind !== 'node').map((t) => (t as { namespace: string }).namespace));
  return nss.size === 1 ? [...nss][0]! : fallback;
}

/** Palette flow without a tree selection: pods of one namespace → a Selection (pure). */
export function podsToSelection(context: string, namespace: string, pods: readonly string[]): Selection {
  return {
    context,
    targets: pods.map((name) => ({ kind: 'pod', namespace, name })),
    ignored: 0,
    label: pods.length === 1 ? `${namespace}/${pods[0]}` : `${pods.length} pods in ${namespace}`,
  };
}
