// The resource kinds this extension touches, with their API paths and RBAC names.

export interface ResourceKind {
  /** `/api/v1` or `/apis/<group>/<version>`. */
  prefix: string;
  plural: string;
  /** API group ('' for core), for access reviews. */
  group: string;
  namespaced: boolean;
  /** RBAC-style display name, `jobs.batch`. */
  display: string;
}

function kind(prefix: string, plural: string, group: string, namespaced: boolean): ResourceKind {
  return { prefix, plural, group, namespaced, display: group ? `${plural}.${group}` : plural };
}

export const KINDS = {
  nodes: kind('/api/v1', 'nodes', '', false),
  namespaces: kind('/api/v1', 'namespaces', '', false),
  pods: kind('/api/v1', 'pods', '', true),
  secrets: kind('/api/v1', 'secrets', '', true),
  events: kind('/api/v1', 'events', '', true),
  jobs: kind('/apis/batch/v1', 'jobs', 'batch', true),
  deployments: kind('/apis/apps/v1', 'deployments', 'apps', true),
  statefulsets: kind('/apis/apps/v1', 'statefulsets', 'apps', true),
  daemonsets: kind('/apis/apps/v1', 'daemonsets', 'apps', true),
  replicasets: kind('/apis/apps/v1', 'replicasets', 'apps', true),
  captures: kind('/apis/retina.sh/v1alpha1', 'captures', 'retina.sh', true),
  selfSubjectAccessReviews: kind(
    '/apis/authorization.k8s.io/v1',
    'selfsubjectaccessreviews',
    'authorization.k8s.io',
    false,
  ),
} as const;

export type KindName = keyof typeof KINDS;

/** Collection path (namespace omitted = all namespaces for namespaced kinds) or object path. */
export function resourcePath(k: ResourceKind, namespace?: string, name?: string, sub?: string): string {
  let p = k.prefix;
  if (k.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${k.plural}`;
  if (name) p += `/${encodeURIComponent(name)}`;
  if (sub) p += `/${sub}`;
  return p;
}

/** The metadata every object has; full types come from client-node's models. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: Date | string;
    deletionTimestamp?: Date | string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    generateName?: string;
  };
}

export interface ObjectList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

export function objectKey(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}
