// Capture, archive and timestamp naming shared by planner, worker and downloader.
import { isSafePathComponent } from './safeName.js';

/** `YYYYMMDDHHMMSS` + `UTC`, the same for every node of one capture. */
export function captureTimestamp(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    p(d.getUTCFullYear(), 4) +
    p(d.getUTCMonth() + 1) +
    p(d.getUTCDate()) +
    p(d.getUTCHours()) +
    p(d.getUTCMinutes()) +
    p(d.getUTCSeconds()) +
    'UTC'
  );
}

const TS_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})UTC$/;

export function parseCaptureTimestamp(ts: string): Date | undefined {
  const m = TS_RE.exec(ts);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Base name without extension: `<capture>-<node>-<ts>`. */
export function captureBaseName(capture: string, node: string, ts: string): string {
  return `${capture}-${node}-${ts}`;
}

export function archiveName(capture: string, node: string, ts: string): string {
  return `${captureBaseName(capture, node, ts)}.tar.gz`;
}

/**
 * Splits an archive name back into its parts. Node names may contain dashes, so the capture
 * name must be known (it is: we list by it). The name comes from storage or a node's folder
 * and becomes a local file name, and the node part a folder prefix: both must be single safe
 * path components (no `..`, no separator of any platform), else the name is not ours.
 */
export function parseArchiveName(fileName: string, capture: string): { node: string; timestamp: string } | undefined {
  if (!fileName.startsWith(`${capture}-`) || !fileName.endsWith('.tar.gz')) return undefined;
  if (!isSafePathComponent(fileName)) return undefined;
  const middle = fileName.slice(capture.length + 1, -'.tar.gz'.length);
  const cut = middle.lastIndexOf('-');
  if (cut <= 0) return undefined;
  const timestamp = middle.slice(cut + 1);
  if (!TS_RE.test(timestamp)) return undefined;
  const node = middle.slice(0, cut);
  if (!isSafePathComponent(node) || !isSafePathComponent(`${node}-`)) return undefined;
  return { node, timestamp };
}

/** RFC 1123 label rules used for capture names (they become label values and name prefixes). */
export const CAPTURE_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Leaves room for the `-xxxxx` suffix of generateName within 63 characters. */
export const CAPTURE_NAME_MAX = 50;
