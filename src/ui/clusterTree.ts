// The Clusters view: kubeconfig contexts → Nodes / Namespaces → pods, live from informers.
import * as vscode from 'vscode';
import { childrenOf, rowOf, type ClusterElement } from '../views/clusterModel.js';
import { VIEW } from '../views/ids.js';
import type { ClusterSnapshot } from '../views/ports.js';
import type { ClusterService } from './clusterService.js';
import type { TestEventSink } from './testEvents.js';
import { toTreeItem } from './treeItem.js';

const PODS_AFTER_ROWS_MS = 500;

export class ClusterTree implements vscode.TreeDataProvider<ClusterElement>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ClusterElement | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<ClusterElement>;
  private readonly subs: vscode.Disposable[] = [];
  private firstRenderReported = false;
  private podCountsReported = false;

  constructor(
    private readonly service: ClusterService,
    private readonly events: TestEventSink,
    private readonly activatedAt: number,
  ) {
    this.view = vscode.window.createTreeView(VIEW.clusters, {
      treeDataProvider: this,
      canSelectMany: true,
      showCollapseAll: true,
    });
    // Whole-tree refresh on change: element identity is by TreeItem.id, so expansion and
    // selection survive, and VS Code diffs the rows.
    this.subs.push(
      this.view,
      this.service.onDidChange(() => this.changed.fire(undefined)),
    );
    // Shown (or about to be): the tree will read the cluster, so start now, after activate returns.
    if (this.view.visible) setTimeout(() => this.service.prefetch(), 0);
    else {
      const once = this.view.onDidChangeVisibility((e) => {
        if (!e.visible) return;
        once.dispose();
        this.service.prefetch();
      });
      this.subs.push(once);
    }
  }

  getTreeItem(e: ClusterElement): vscode.TreeItem {
    return toTreeItem(rowOf(e));
  }

  async getChildren(e?: ClusterElement): Promise<ClusterElement[]> {
    if (!e) {
      this.mark('rootAsked');
      const contexts = await this.service.contexts();
      this.mark('contextsRead');
      return contexts.map((context) => ({ type: 'context', context }));
    }
    const ctx = e.type === 'context' ? e.context.name : e.context;
    this.mark(`${e.type}Asked`);
    // A context's rows (Nodes, Namespaces) need no data: answering at once lets VS Code ask for
    // the expanded Nodes group while the cluster still opens (one round trip less to wait for).
    // Once open, its snapshot may carry the context's error row.
    if (e.type === 'context') return childrenOf(e, this.service.peek(ctx));
    const snap = await this.service.cluster(ctx);
    this.mark('clusterOpened');
    const kids = childrenOf(e, snap);
    if (e.type === 'nodes') this.reportRender(ctx, snap);
    // Pods next, a moment after these rows went out: listing thousands of pods (extension host,
    // API server) while the workbench paints the first rows competed with it for the CPU.
    setTimeout(() => this.service.wantPods(ctx), PODS_AFTER_ROWS_MS);
    return kids;
  }

  /** First time (ms since activation) each step of the first render happened: for bench:ui. */
  private readonly stages: Record<string, number> = {};
  mark(stage: string): void {
    if (!this.firstRenderReported) this.stages[stage] ??= Math.round(performance.now() - this.activatedAt);
  }

  /** Test events: node rows first shown (nodes listed), then first shown with pod counts. */
  private reportRender(context: string, snap: ClusterSnapshot): void {
    const ms = (): number => Math.round(performance.now() - this.activatedAt);
    const nodesSynced = snap.syncedKinds?.nodes ?? snap.synced;
    if (nodesSynced && !this.firstRenderReported) {
      this.firstRenderReported = true;
      this.events('nodesShown', {
        context,
        nodes: snap.nodes.map((n) => n.name),
        podsSynced: snap.syncedKinds?.pods ?? snap.synced,
        stages: this.stages,
        msSinceActivation: ms(),
      });
    }
    if (nodesSynced && (snap.syncedKinds?.pods ?? snap.synced) && !this.podCountsReported) {
      this.podCountsReported = true;
      this.events('nodePodsCounted', { context, pods: snap.pods.length, msSinceActivation: ms() });
    }
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}
