// The status bar's model, driven by the session's typed progress events (not by Job status):
// per node scheduled / waiting / capturing with time left / uploading / done / failed.
// Pure: src/ui/statusBar.ts shows it, unit tests feed events.
import { formatClock, plural } from './format.js';

export type LivePhase = 'pending' | 'scheduled' | 'waiting' | 'capturing' | 'uploading' | 'done' | 'failed';

/** The session's NodePhase → what the status bar says ('finishing' = writing + uploading). */
export function livePhase(sessionPhase: string): LivePhase {
  switch (sessionPhase) {
    case 'scheduled':
    case 'waiting':
    case 'capturing':
    case 'done':
    case 'failed':
      return sessionPhase;
    case 'finishing':
      return 'uploading';
    default:
      return 'pending';
  }
}

export interface LiveNode {
  node: string;
  phase: LivePhase;
  /** Epoch ms when this node's capture time ends (from the worker's start). */
  endsAt?: number;
  reason?: string;
  message?: string;
}

export interface LiveCapture {
  /** `context/namespace/name` (or a provisional key until the Jobs exist). */
  key: string;
  name?: string;
  label: string;
  nodes: LiveNode[];
  /** Set once the session said `finished` (or the run ended). */
  finished: boolean;
}

export type LiveEvent =
  | { type: 'planned'; capture?: string; nodes: string[] }
  | { type: 'node'; node: string; phase: string; endsAt?: number; reason?: string; message?: string }
  | { type: 'finished' };

const FINAL: ReadonlySet<LivePhase> = new Set(['done', 'failed']);

/** Folds one event into a capture's live state (returns a new object). */
export function applyLiveEvent(c: LiveCapture, ev: LiveEvent): LiveCapture {
  if (ev.type === 'finished') return { ...c, finished: true };
  if (ev.type === 'planned') {
    const have = new Map(c.nodes.map((n) => [n.node, n]));
    return {
      ...c,
      name: ev.capture ?? c.name,
      nodes: ev.nodes.map((node) => have.get(node) ?? { node, phase: 'pending' }),
    };
  }
  const phase = livePhase(ev.phase);
  const next: LiveNode = {
    node: ev.node,
    phase,
    endsAt: ev.endsAt,
    reason: ev.reason,
    message: ev.message,
  };
  const i = c.nodes.findIndex((n) => n.node === ev.node);
  const nodes = [...c.nodes];
  if (i >= 0) {
    // A final state sticks: a late non-final event (informer replay) does not revive a node.
    if (FINAL.has(nodes[i]!.phase) && !FINAL.has(phase)) return c;
    nodes[i] = { ...next, endsAt: next.endsAt ?? nodes[i]!.endsAt };
  } else nodes.push(next);
  return { ...c, nodes };
}

export function isLive(c: LiveCapture): boolean {
  return !c.finished && (c.nodes.length === 0 || c.nodes.some((n) => !FINAL.has(n.phase)));
}

function nodeLine(n: LiveNode, now: number): string {
  let s = `${n.node}: ${n.phase}`;
  if (n.phase === 'capturing' && n.endsAt !== undefined) s += `, ${formatClock((n.endsAt - now) / 1000)} left`;
  if (n.phase === 'waiting' && n.reason) s += ` (${n.reason})`;
  if ((n.phase === 'failed' || n.phase === 'waiting') && n.message) s += ` — ${n.message}`;
  return s;
}

/**
 * `2/2 capturing, 0:08 left` · `1/2 capturing · 1 failed, 0:08 left` · `2/2 uploading` ·
 * `2 nodes starting`; undefined when nothing runs.
 */
export function liveStatusText(
  captures: readonly LiveCapture[],
  now: number,
): { text: string; tooltip: string } | undefined {
  const active = captures.filter(isLive);
  if (active.length === 0) return undefined;
  const nodes = active.flatMap((c) => c.nodes);
  const count = (p: LivePhase): number => nodes.filter((n) => n.phase === p).length;
  const capturing = count('capturing');
  const uploading = count('uploading');
  const waiting = count('waiting');
  const failed = count('failed');
  const total = nodes.length;
  const parts: string[] = [];
  if (capturing > 0) parts.push(`${capturing}/${total} capturing`);
  if (uploading > 0) parts.push(`${uploading}/${total} uploading`);
  if (capturing === 0 && uploading === 0) {
    const starting = nodes.filter((n) => !FINAL.has(n.phase)).length;
    parts.push(total === 0 ? 'starting' : `${plural(starting, 'node')} starting`);
  } else if (waiting > 0) parts.push(`${waiting} waiting`);
  if (failed > 0) parts.push(`${failed} failed`);
  let text = parts.join(' · ');
  const lefts = nodes
    .filter((n) => n.phase === 'capturing' && n.endsAt !== undefined)
    .map((n) => (n.endsAt as number) - now);
  if (lefts.length) text += `, ${formatClock(Math.max(0, ...lefts) / 1000)} left`;
  const icon = failed > 0 ? '$(warning)' : capturing > 0 ? '$(record)' : '$(loading~spin)';
  const tooltip = [
    'Retina Capture — click to show captures',
    ...active.flatMap((c) => [`${c.name ?? c.label}:`, ...c.nodes.map((n) => `  ${nodeLine(n, now)}`)]),
  ].join('\n');
  return { text: `${icon} ${text}`, tooltip };
}
