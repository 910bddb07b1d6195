// The Captures tree as pure data (see clusterModel.ts for why). The status bar's model is
// liveStatus.ts (session events, not Job status).
import { formatBytes, formatClock, plural } from './format.js';
import { ITEM } from './ids.js';
import type { CaptureInfo, CaptureNodeState } from './ports.js';
import type { RowView } from './clusterModel.js';

export type CaptureElement =
  { type: 'capture'; capture: CaptureInfo } | { type: 'captureNode'; capture: CaptureInfo; node: CaptureNodeState };

const ACTIVE = new Set(['pending', 'running', 'uploading']);

export function isActive(c: CaptureInfo): boolean {
  return c.nodes.some((n) => ACTIVE.has(n.phase));
}

/** Seconds left until the capture's planned end, or undefined when unknown. */
export function secondsLeft(c: CaptureInfo, now: number): number | undefined {
  if (c.startedAt === undefined || c.durationSeconds === undefined) return undefined;
  return Math.max(0, (c.startedAt + c.durationSeconds * 1000 - now) / 1000);
}

export function captureState(c: CaptureInfo): 'running' | 'failed' | 'partial' | 'done' {
  if (isActive(c)) return 'running';
  const failed = c.nodes.filter((n) => n.phase === 'failed').length;
  if (failed === 0) return 'done';
  return failed === c.nodes.length ? 'failed' : 'partial';
}

function sum(nodes: readonly CaptureNodeState[], f: (n: CaptureNodeState) => number | undefined): number | undefined {
  let total: number | undefined;
  for (const n of nodes) {
    const v = f(n);
    if (v !== undefined) total = (total ?? 0) + v;
  }
  return total;
}

export function sortCaptures(cs: readonly CaptureInfo[]): CaptureInfo[] {
  // Running first, then newest first.
  return [...cs].sort(
    (a, b) =>
      Number(isActive(b)) - Number(isActive(a)) ||
      (b.startedAt ?? 0) - (a.startedAt ?? 0) ||
      a.name.localeCompare(b.name),
  );
}

export function captureRow(c: CaptureInfo, now: number): RowView {
  const state = captureState(c);
  const capturing = c.nodes.filter((n) => n.phase === 'running').length;
  const left = secondsLeft(c, now);
  const bytes = sum(c.nodes, (n) => n.bytes);
  const drops = sum(c.nodes, (n) => n.drops);
  const desc: string[] = [];
  if (state === 'running') {
    desc.push(`${capturing}/${c.nodes.length} capturing`);
    if (left !== undefined) desc.push(`${formatClock(left)} left`);
  } else {
    desc.push(state === 'done' ? plural(c.nodes.length, 'node') : `${state} (${plural(c.nodes.length, 'node')})`);
    if (bytes !== undefined) desc.push(formatBytes(bytes));
    if (drops) desc.push(`${drops} dropped`);
  }
  if (c.origin === 'retina') desc.push('Retina');
  const contextValue =
    state === 'running' ? ITEM.captureRunning : c.mergedFile || c.localPath ? ITEM.captureDownloaded : ITEM.captureDone;
  const icon =
    state === 'running'
      ? { id: 'loading~spin' }
      : state === 'done'
        ? { id: 'pass', color: 'testing.iconPassed' }
        : { id: 'error', color: 'testing.iconFailed' };
  const tooltip = [
    `Capture ${c.namespace}/${c.name} (${c.context})`,
    c.startedAt ? `Started ${new Date(c.startedAt).toISOString()}` : '',
    c.durationSeconds ? `Duration ${formatClock(c.durationSeconds)}` : '',
    c.filter ? `Filter ${c.filter}` : '',
    c.hostPath ? `Host path ${c.hostPath}` : '',
    c.blob ? 'Blob upload' : '',
    c.mergedFile ? `Downloaded ${c.mergedFile}` : c.localPath ? `Downloaded ${c.localPath}` : '',
    ...(c.warnings ?? []).map((w) => `⚠ ${w}`),
  ]
    .filter(Boolean)
    .join('\n');
  return {
    id: `cap/${c.context}/${c.namespace}/${c.name}`,
    label: c.name,
    description: desc.join(' · '),
    tooltip,
    contextValue,
    collapsible: 'collapsed',
    icon,
  };
}

const NODE_ICON: Record<string, { id: string; color?: string }> = {
  pending: { id: 'clock' },
  running: { id: 'record', color: 'errorForeground' },
  uploading: { id: 'cloud-upload' },
  succeeded: { id: 'pass', color: 'testing.iconPassed' },
  failed: { id: 'error', color: 'testing.iconFailed' },
  unknown: { id: 'question' },
};

export function captureNodeRow(c: CaptureInfo, n: CaptureNodeState): RowView {
  const desc: string[] = [n.phase];
  if (n.packets !== undefined) desc.push(`${n.packets} pkts`);
  if (n.bytes !== undefined) desc.push(formatBytes(n.bytes));
  if (n.drops) desc.push(`${n.drops} dropped`);
  return {
    id: `cap/${c.context}/${c.namespace}/${c.name}/${n.node}`,
    label: n.node,
    description: desc.join(' · '),
    tooltip: [`Node ${n.node}: ${n.phase}`, n.message ?? '', n.archive ? `Archive ${n.archive}` : '']
      .filter(Boolean)
      .join('\n'),
    contextValue: ITEM.captureNode,
    collapsible: 'none',
    icon: NODE_ICON[n.phase] ?? NODE_ICON.unknown,
  };
}
