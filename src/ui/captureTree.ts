// The Captures view: captures the cluster knows (ours and Retina's), with per-node state.
import * as vscode from 'vscode';
import { captureNodeRow, captureRow, sortCaptures, type CaptureElement } from '../views/captureModel.js';
import { VIEW } from '../views/ids.js';
import type { ClusterService } from './clusterService.js';
import { toTreeItem } from './treeItem.js';

export class CaptureTree implements vscode.TreeDataProvider<CaptureElement>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<CaptureElement | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<CaptureElement>;
  private readonly subs: vscode.Disposable[] = [];
  /** Local results by capture key, added by the download flow. */
  private readonly local = new Map<string, { mergedFile?: string; localPath?: string }>();

  constructor(private readonly service: ClusterService) {
    this.view = vscode.window.createTreeView(VIEW.captures, { treeDataProvider: this, canSelectMany: true });
    this.subs.push(
      this.view,
      service.onDidChangeCaptures(() => this.changed.fire(undefined)),
    );
  }

  async getChildren(e?: CaptureElement): Promise<CaptureElement[]> {
    if (e?.type === 'capture')
      return e.capture.nodes.map((node) => ({ type: 'captureNode', capture: e.capture, node }));
    if (e) return [];
    if (!this.service.hasKubeconfig()) return [];
    // The current context is watched for captures even before its tree row is expanded.
    const contexts = await this.service.contexts();
    const current = contexts.find((c) => c.current);
    if (current) await this.service.captures(current.name);
    return sortCaptures(this.service.openCaptures()).map((c) => ({ type: 'capture', capture: this.withLocal(c) }));
  }

  private withLocal(c: CaptureElement['capture']): CaptureElement['capture'] {
    const l = this.local.get(`${c.context}/${c.namespace}/${c.name}`);
    return l ? { ...c, ...l } : c;
  }

  setLocal(
    c: { context: string; namespace: string; name: string },
    local: { mergedFile?: string; localPath?: string },
  ): void {
    this.local.set(`${c.context}/${c.namespace}/${c.name}`, local);
    this.changed.fire(undefined);
  }

  getTreeItem(e: CaptureElement): vscode.TreeItem {
    return toTreeItem(e.type === 'capture' ? captureRow(e.capture, Date.now()) : captureNodeRow(e.capture, e.node));
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}
