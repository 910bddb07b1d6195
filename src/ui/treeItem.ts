// RowView (pure, from src/views) → vscode.TreeItem.
import * as vscode from 'vscode';
import { redact } from '../contract/index.js';
import type { RowView } from '../views/clusterModel.js';

const COLLAPSE: Record<RowView['collapsible'], vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

export function toTreeItem(row: RowView): vscode.TreeItem {
  const item = new vscode.TreeItem(row.label, COLLAPSE[row.collapsible]);
  item.id = row.id;
  // Node and capture messages carry server text: shown like notifications, redacted like the log.
  item.description = row.description === undefined ? undefined : redact(row.description);
  item.tooltip = row.tooltip === undefined ? undefined : redact(row.tooltip);
  item.contextValue = row.contextValue;
  if (row.icon) {
    item.iconPath = new vscode.ThemeIcon(
      row.icon.id,
      row.icon.color ? new vscode.ThemeColor(row.icon.color) : undefined,
    );
  }
  return item;
}
