// Owns the connection to the clusters for the ui: finds the kubeconfig, loads the engine lazily
// (first time a tree asks), and per context reads the engine door's shared informers — the
// same watches the capture sessions follow — telling the trees when anything changed.
// One instance per extension lifetime.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Engine } from '../engine.js';
import type { ContextFeeds, EngineHub } from '../views/engineHub.js';
import type { CaptureInfo, ClusterSnapshot, ContextInfo } from '../views/ports.js';
import type { Log } from './log.js';
import { userSetting } from './userSettings.js';

/** KUBECONFIG may list several files; the setting wins over the environment. */
export function kubeconfigFiles(): string[] {
  const setting = userSetting<string>('kubeconfig', '');
  const raw = setting || process.env.KUBECONFIG || path.join(os.homedir(), '.kube', 'config');
  return raw.split(path.delimiter).filter((f) => f !== '' && existsSync(f));
}

export class ClusterService implements vscode.Disposable {
  private source: Promise<EngineHub> | undefined;
  private readonly feeds = new Map<string, { feeds: ContextFeeds; unsubscribe: (() => void)[] }>();
  private readonly changed = new vscode.EventEmitter<string | undefined>();
  /** Fires with the context whose data changed (undefined: everything). */
  readonly onDidChange = this.changed.event;
  private readonly capturesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCaptures = this.capturesChanged.event;
  private contextsCache: ContextInfo[] | undefined;

  /** `mark`: records the first time each step of opening a cluster happened (bench:ui stages). */
  constructor(
    private readonly log: Log,
    private readonly mark: (stage: string) => void = () => {},
  ) {}

  hasKubeconfig(): boolean {
    return kubeconfigFiles().length > 0;
  }

  private load(): Promise<EngineHub> {
    this.source ??= (async () => {
      const t0 = performance.now();
      const { EngineHub } = await import(/* webpackChunkName: "engine" */ '../views/engineHub.js');
      const files = kubeconfigFiles();
      const src = new EngineHub(files, (m) => this.log.info(m));
      this.mark('clientLoaded');
      this.log.info(
        `Kubernetes client loaded in ${Math.round(performance.now() - t0)} ms (${files.join(', ') || 'default kubeconfig'})`,
      );
      return src;
    })();
    this.source.catch(() => (this.source = undefined));
    return this.source;
  }

  /** The context's engine: the capture commands share its door (and informers) with the trees. */
  async engine(context: string): Promise<Engine> {
    return (await this.load()).engine(context);
  }

  async contexts(): Promise<ContextInfo[]> {
    if (!this.hasKubeconfig()) return [];
    this.contextsCache ??= await (await this.load()).contexts();
    return this.contextsCache;
  }

  /**
   * Starts loading the Kubernetes client and listing the current context while VS Code is still
   * setting up the view that will ask for them (the first render waits on both otherwise).
   */
  prefetch(): void {
    void this.contexts()
      .then((cs) => {
        const current = cs.find((c) => c.current);
        return current ? this.open(current.name) : undefined;
      })
      .catch(() => undefined); // the tree's own read shows the error
  }

  /** The live snapshot of a context; opens its informers on first use. */
  async cluster(context: string): Promise<ClusterSnapshot> {
    return (await this.open(context)).cluster.current();
  }

  /** The snapshot once every informer listed (or failed, or `timeoutMs` passed): for pickers. */
  async syncedCluster(context: string, timeoutMs = 20_000): Promise<ClusterSnapshot> {
    const feeds = await this.open(context);
    feeds.wantPods();
    const now = feeds.cluster.current();
    if (now.synced || now.error) return now;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
        resolve(feeds.cluster.current());
      };
      const timer = setTimeout(done, timeoutMs);
      const unsubscribe = feeds.cluster.onChange(() => {
        const s = feeds.cluster.current();
        if (s.synced || s.error) done();
      });
    });
  }

  /** The snapshot of a context whose feeds are open already, without waiting. */
  peek(context: string): ClusterSnapshot | undefined {
    return this.feeds.get(context)?.feeds.cluster.current();
  }

  /** Start listing the context's pods (the tree calls this once its first rows are out). */
  wantPods(context: string): void {
    this.feeds.get(context)?.feeds.wantPods();
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
    await src.engine(context);
    this.mark('engineReady');
    const feeds = await src.feeds(context);
    this.mark('nodesListed');
    const raced = this.feeds.get(context);
    if (raced) {
      feeds.dispose();
      return raced.feeds;
    }
    this.log.info(`watching context ${context}`);
    const unsubscribe = [
      feeds.cluster.onChange(() => this.changed.fire(context)),
      feeds.captures.onChange(() => this.capturesChanged.fire()),
    ];
    this.feeds.set(context, { feeds, unsubscribe });
    return feeds;
  }

  /**
   * Refresh: re-reads the kubeconfig's contexts and re-lists the open contexts' informers on the
   * same connections (running captures keep following). `reconnect` (kubeconfig changed) closes
   * every engine: the next read starts fresh.
   */
  refresh(reconnect = false): void {
    if (reconnect) {
      this.closeAll();
      void this.source?.then((h) => h.dispose()).catch(() => undefined);
      this.source = undefined;
    } else {
      for (const { feeds } of this.feeds.values()) feeds.relist();
    }
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
    void this.source?.then((h) => h.dispose()).catch(() => undefined);
    this.changed.dispose();
    this.capturesChanged.dispose();
  }
}
