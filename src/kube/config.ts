// Kubeconfig as users have it: KUBECONFIG with several files merged the kubectl way (the first
// file that defines a name wins, the first current-context wins), contexts with their
// namespace, exec plugins (kubelogin), client certs, tokens, proxy-url.
// client-node's own loadFromDefault throws on duplicate names and lets later files override
// the current context, so the merge is done here.
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';
import { KubeError } from './errors.js';

export interface ContextInfo {
  name: string;
  cluster: string;
  user: string;
  /** Namespace set on the context; `default` when none. */
  namespace: string;
  server?: string;
  current: boolean;
  /** `exec: kubelogin`, `token`, `client certificate`, … (for display, no secrets). */
  auth: string;
  proxyUrl?: string;
}

export interface KubeconfigSource {
  /** Explicit files; default KUBECONFIG (path-list) or ~/.kube/config. */
  files?: string[];
}

/** The kubeconfig files in effect, in precedence order. */
export function kubeconfigFiles(src: KubeconfigSource = {}): string[] {
  if (src.files?.length) return src.files;
  const env = process.env.KUBECONFIG;
  if (env) return env.split(path.delimiter).filter(Boolean);
  return [path.join(os.homedir(), '.kube', 'config')];
}

type KubeConfigCtor = new () => KubeConfig;

async function kubeConfigClass(): Promise<KubeConfigCtor> {
  // Lazy: the client is heavy and ESM-only; activation must stay cheap.
  const { KubeConfig } = await import(/* webpackChunkName: "k8s-config" */ './k8sConfig.js');
  return KubeConfig;
}

/** Reads and merges the files (first wins). Missing files are skipped as kubectl does. */
export async function loadMerged(src: KubeconfigSource = {}): Promise<KubeConfig> {
  const KC = await kubeConfigClass();
  const files = kubeconfigFiles(src).filter((f) => existsSync(f));
  if (files.length === 0) {
    throw new KubeError(
      'config',
      `No kubeconfig found (looked at ${kubeconfigFiles(src).join(', ')}). Set KUBECONFIG or run \`az aks get-credentials\`.`,
    );
  }
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let current = '';
  for (const file of files) {
    const one = new KC();
    try {
      one.loadFromFile(file);
    } catch (e) {
      throw new KubeError('config', `Cannot read kubeconfig ${file}: ${(e as Error).message}`, { cause: e });
    }
    for (const c of one.clusters) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of one.users) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of one.contexts) if (!contexts.has(c.name)) contexts.set(c.name, c);
    if (!current && one.currentContext) current = one.currentContext;
  }
  const merged = new KC();
  merged.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext: current,
  });
  return merged;
}

function describeAuth(u: User | null): string {
  if (!u) return 'none';
  if (u.exec) return `exec: ${path.basename(String(u.exec.command))}`;
  if (u.authProvider) return `auth-provider: ${u.authProvider.name}`;
  if (u.token) return 'token';
  if (u.certData || u.certFile) return 'client certificate';
  if (u.username) return 'basic';
  return 'none';
}

export function contextInfos(kc: KubeConfig): ContextInfo[] {
  return kc.getContexts().map((c) => {
    const cluster = kc.getCluster(c.cluster);
    return {
      name: c.name,
      cluster: c.cluster,
      user: c.user,
      namespace: c.namespace || 'default',
      server: cluster?.server,
      current: c.name === kc.currentContext,
      auth: describeAuth(kc.getUser(c.user)),
      proxyUrl: cluster?.proxyUrl,
    };
  });
}

/** Every context of the merged kubeconfig. */
export async function listContexts(src: KubeconfigSource = {}): Promise<ContextInfo[]> {
  return contextInfos(await loadMerged(src));
}

/**
 * A KubeConfig that knows only one context (and its cluster and user): a door built from it
 * cannot drift to another context when the user switches in a terminal.
 */
export async function configForContext(
  src: KubeconfigSource,
  name?: string,
): Promise<{ kc: KubeConfig; info: ContextInfo }> {
  const merged = await loadMerged(src);
  const ctxName = name ?? merged.currentContext;
  if (!ctxName) throw new KubeError('config', 'The kubeconfig has no current context: pick one.');
  const ctx = merged.getContextObject(ctxName);
  if (!ctx) {
    const names = merged.getContexts().map((c) => c.name);
    throw new KubeError(
      'config',
      `Context "${ctxName}" is not in the kubeconfig (have: ${names.join(', ') || 'none'}).`,
    );
  }
  const cluster = merged.getCluster(ctx.cluster);
  if (!cluster)
    throw new KubeError(
      'config',
      `Context "${ctxName}" refers to cluster "${ctx.cluster}", which the kubeconfig does not define.`,
    );
  const user = merged.getUser(ctx.user);
  const KC = await kubeConfigClass();
  const kc = new KC();
  kc.loadFromOptions({
    clusters: [cluster],
    users: user ? [user] : [],
    contexts: [ctx],
    currentContext: ctxName,
  });
  const info = contextInfos(kc)[0] as ContextInfo;
  return { kc, info };
}
