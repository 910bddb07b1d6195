// Start Capture from the Kubernetes extension's Cluster Explorer (optional: that extension is not a
// dependency). Its API is reached lazily through its exports, an API broker:
// exports.get('clusterexplorer' | 'kubectl' | 'configuration', 'v1') → {available, api | reason}.
import * as vscode from 'vscode';
import { KUBE_EXT_ID, kubeExplorerSelection, type KubeExplorerNode } from '../views/kubeExplorer.js';
import type { Selection } from '../views/targets.js';
import type { ClusterService } from './clusterService.js';
import { UserError } from './commands.js';
import type { Log } from './log.js';
import type { TestEventSink } from './testEvents.js';
import { showWarning } from './notify.js';

type KubeApi<T> = { available: true; api: T } | { available: false; reason: string };
interface KubeApiBroker {
  get(component: string, version: string): KubeApi<unknown> | undefined;
}
interface ClusterExplorerV1 {
  resolveCommandTarget(target?: unknown): KubeExplorerNode | undefined;
}
interface KubectlV1 {
  invokeCommand(command: string): Promise<{ code: number; stdout: string; stderr: string } | undefined>;
}
interface ConfigurationV1 {
  getKubeconfigPath(): { pathType: 'host'; hostPath: string } | { pathType: 'wsl'; wslPath: string };
}

async function broker(): Promise<KubeApiBroker> {
  const ext = vscode.extensions.getExtension<KubeApiBroker>(KUBE_EXT_ID);
  if (!ext) throw new UserError('The Kubernetes extension is not installed.');
  const exports = ext.isActive ? ext.exports : await ext.activate();
  if (!exports || typeof exports.get !== 'function')
    throw new UserError('The Kubernetes extension does not offer its API (update it to a newer version).');
  return exports;
}

function api<T>(b: KubeApiBroker, component: string): T | undefined {
  const r = b.get(component, 'v1');
  return r?.available ? (r.api as T) : undefined;
}

/** Their current context via their kubectl (same binary and kubeconfig they use), or undefined. */
async function theirContext(b: KubeApiBroker, log: Log): Promise<string | undefined> {
  const kubectl = api<KubectlV1>(b, 'kubectl');
  try {
    const r = await kubectl?.invokeCommand('config current-context');
    if (r && r.code === 0 && r.stdout.trim()) return r.stdout.trim();
    if (r) log.warn(`Kubernetes extension: kubectl config current-context: ${r.stderr.trim() || `exit ${r.code}`}`);
  } catch (e) {
    log.warn(`Kubernetes extension: kubectl config current-context failed: ${String(e)}`);
  }
  return undefined;
}

/** Cluster Explorer rows (clicked, all selected) → our Selection; warnings go to a notification. */
export async function kubeExplorerTargets(
  clicked: unknown,
  all: unknown,
  service: ClusterService,
  log: Log,
  events: TestEventSink = () => {},
): Promise<Selection> {
  const b = await broker();
  const explorer = api<ClusterExplorerV1>(b, 'clusterexplorer');
  if (!explorer) {
    const r = b.get('clusterexplorer', 'v1');
    throw new UserError(
      `The Kubernetes extension's Cluster Explorer API is not available${r && !r.available ? ` (${r.reason})` : ''}.`,
    );
  }
  const rows = Array.isArray(all) && all.length ? (all as unknown[]) : [clicked];
  const nodes = rows.map((r) => explorer.resolveCommandTarget(r));
  const context = await theirContext(b, log);
  const kubeconfig = api<ConfigurationV1>(b, 'configuration')?.getKubeconfigPath();
  if (kubeconfig)
    log.info(
      `Kubernetes extension: context ${context ?? '(unknown)'}, kubeconfig ${kubeconfig.pathType === 'host' ? kubeconfig.hostPath : `${kubeconfig.wslPath} (WSL)`}`,
    );
  const r = kubeExplorerSelection(nodes, context, await service.contexts());
  // What their API and kubectl answered, for the e2e test against the real extension.
  events('kubeExplorerRows', {
    rows: nodes.map((n) => (n ? { nodeType: n.nodeType, kind: n.resourceKind?.manifestKind, name: n.name } : null)),
    theirContext: context ?? null,
    ...(r.ok ? { context: r.selection.context, warnings: r.warnings } : { error: r.error }),
  });
  if (!r.ok) throw new UserError(r.error);
  for (const w of r.warnings) {
    log.warn(w);
    void showWarning(`Retina Capture: ${w}`);
  }
  return r.selection;
}
