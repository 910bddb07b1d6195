// Builds the BPF the worker compiles. Retina's planner writes TCPDUMP_FILTER as
//   <include/exclude clause> or (host <podIP> or host <podIP> …)
// (crd_to_job.go: updateTcpdumpFilterWithPodIPAddress), where the clause itself is
//   ((host A) or (host B and port P) or (port Q)) and not ((…))   |   not ((…))   |   ((…))
// OR-ing the pod IPs widens the capture to everything the clause matches on the node. We split
// the trailing pod-IP group off and AND every part instead:
//   (PCAP_FILTER) and (include/exclude clause) and (host podA or host podB)
import { isIP } from 'node:net';

export interface ParsedTcpdumpFilter {
  /** Include/exclude clause without the pod-IP group ('' when none). */
  clause: string;
  /** Pod IPs Retina appended (OR-ed); we AND them. */
  podIps: string[];
}

const HOST_GROUP_RE = /^\((host \S+(?: or host \S+)*)\)$/;

/** Index of the `(` matching the `)` at `end`, or -1. */
function matchingOpen(text: string, end: number): number {
  let depth = 0;
  for (let i = end; i >= 0; i--) {
    if (text[i] === ')') depth++;
    else if (text[i] === '(') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function hostGroupIps(group: string): string[] | undefined {
  const m = HOST_GROUP_RE.exec(group);
  if (!m) return undefined;
  const ips = (m[1] as string).split(' or ').map((h) => h.slice('host '.length));
  return ips.every((ip) => isIP(ip) !== 0) ? ips : undefined;
}

/** Splits Retina's TCPDUMP_FILTER into its clause and the pod IPs it OR-ed in. */
export function parseTcpdumpFilter(raw: string | undefined): ParsedTcpdumpFilter {
  const text = (raw ?? '').trim();
  if (text === '') return { clause: '', podIps: [] };
  if (text.endsWith(')')) {
    const open = matchingOpen(text, text.length - 1);
    if (open >= 0) {
      const ips = hostGroupIps(text.slice(open));
      if (ips) {
        const before = text.slice(0, open).trimEnd();
        if (before === '') return { clause: '', podIps: ips };
        if (before.endsWith(' or')) return { clause: before.slice(0, -3).trimEnd(), podIps: ips };
      }
    }
  }
  return { clause: text, podIps: [] };
}

/** `host a or host b` for IPv4 and IPv6 alike ('' for none). */
export function hostFilter(ips: readonly string[]): string {
  return [...new Set(ips)].map((ip) => `host ${ip}`).join(' or ');
}

/** ANDs the non-empty parts, each parenthesised. */
export function andFilters(...parts: (string | undefined)[]): string {
  const p = parts.map((x) => (x ?? '').trim()).filter((x) => x !== '');
  if (p.length === 0) return '';
  if (p.length === 1) return p[0] as string;
  return p.map((x) => `(${x})`).join(' and ');
}

export interface RawFilterArgs {
  interfaces: string[];
  snapLength?: number;
  /** Tokens we do not interpret (reported as a warning). */
  ignored: string[];
}

/**
 * TCPDUMP_RAW_FILTER holds extra tcpdump arguments split on spaces (Retina passes them to
 * tcpdump verbatim, e.g. `-i eth0`). We honour `-i <if>` and `-s <len>`; anything else is
 * reported, not silently dropped.
 */
export function parseRawFilterArgs(raw: string | undefined): RawFilterArgs {
  const tokens = (raw ?? '').split(' ').filter((t) => t !== '');
  const out: RawFilterArgs = { interfaces: [], ignored: [] };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    const next = tokens[i + 1];
    if ((t === '-i' || t === '--interface') && next !== undefined) {
      out.interfaces.push(...next.split(',').filter(Boolean));
      i++;
    } else if (/^-i\S+$/.test(t)) out.interfaces.push(t.slice(2));
    else if ((t === '-s' || t === '--snapshot-length') && next !== undefined && /^\d+$/.test(next)) {
      out.snapLength = Number(next);
      i++;
    } else out.ignored.push(t);
  }
  return out;
}
