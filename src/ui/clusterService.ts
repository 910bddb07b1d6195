// Owns the connection to the clusters for the ui: finds the kubeconfig, loads the Kubernetes
// code lazily (first time a tree asks), opens one informer set per context on demand, and
// tells the trees when anything changed. One instance per extension lifetime.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { ContextFeeds, KubeSource } from '../views/kubeReadOnly.js';
import type { CaptureInfo, ClusterSnapshot, ContextInfo } from '../views/ports.js';
import { SETTINGS } from '../views/ids.js';
import type { Log } from './log.js';

/** KUBECONFIG may list several files; the setting wins over the environment. */
export function kubeconfigFiles(): string[] {
  const setting = vscode.workspace.getConfiguration(SETTINGS.section).get<string>(SETTINGS.kubeconfig);
  const raw = setting || process.env.KUBECONFIG || path.join(os.homedir(), '.kube', 'config');
  return raw.split(path.delimiter).filter((f) => f !== '' && existsSync(f));
}

export class ClusterService implements vscode.Disposable {
  private source: Promise<KubeSource> | undefined;
  private readonly feeds = new Map<string, { feeds: ContextFeeds; unsubscribe: (() => void)[] }>();
  private readonly changed = new vscode.EventEmitter<string | undefined>();
  /** Fires with the context whose data changed (undefined: everything). */
  readonly onDidChange = this.changed.event;
  private readonly capturesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCaptures = this.capturesChanged.event;
  private contextsCache: ContextInfo[] | undefined;

  constructor(private readonly log: Log) {}

  hasKubeconfig(): boolean {
    return kubeconfigFiles().length > 0;
  }

  private load(): Promise<KubeSource> {
    this.source ??= (async () => {
      const t0 = performance.now();
      const { createKubeSource } = await import(/* webpackChunkName: "kube" */ '../views/kubeReadOnly.js');
      const files = kubeconfigFiles();
      const src = createKubeSource(files.length === 1 ? files[0] : undefined, (m) => this.log.warn(m));
      this.log.info(
        `Kubernetes client loaded in ${Math.round(performance.now() - t0)} ms (${files.join(', ') || 'default kubeconfig'})`,
      );
      return src;
    })();
    return this.source;
  }

  async contexts(): Promise<ContextInfo[]> {
    if (!this.hasKubeconfig()) return [];
    this.contextsCache ??= (await this.load()).contexts();
    return this.contextsCache;
  }

  /** The live snapshot of a context; opens its informers on first use. */
  async cluster(context: string): Promise<ClusterSnapshot> {
    return (await this.open(context)).cluster.current();
  }

  async captures(context: string): Promise<CaptureInfo[]> {
    return (await this.open(context)).captures.current();
  }

  /** Captures of every context opened so far (for the status bar and Captures tree). */
  openCaptures(): CaptureInfo[] {
    return [...this.feeds.values()].flatMap((f) => f.feeds.captures.current());
  }

  openContexts(): string[] {
    return [...this.feeds.keys()];
  }

  private async open(context: string): Promise<ContextFeeds> {
    const have = this.feeds.get(context);
    if (have) return have.feeds;
    const src = await this.load();
    const again = this.feeds.get(context);
    if (again) return again.feeds;
    const feeds = src.open(context);
    this.log.info(`watching context ${context}`);
    const unsubscribe = [
      feeds.cluster.onChange(() => this.changed.fire(context)),
      feeds.captures.onChange(() => this.capturesChanged.fire()),
    ];
    this.feeds.set(context, { feeds, unsubscribe });
    return feeds;
  }

  /** Drops every informer and cached kubeconfig: the next read starts fresh. */
  refresh(): void {
    this.closeAll();
    this.source = undefined;
    this.contextsCache = undefined;
    this.changed.fire(undefined);
    this.capturesChanged.fire();
  }

  private closeAll(): void {
    for (const { feeds, unsubscribe } of this.feeds.values()) {
      for (const u of unsubscribe) u();
      feeds.dispose();
    }
    this.feeds.clear();
  }

  dispose(): void {
    this.closeAll();
    this.changed.dispose();
    this.capturesChanged.dispose();
  }
}
