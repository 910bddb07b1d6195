// Retina's include/exclude "IP:port" filters and the BPF clauses built from them, with two fixes:
// IPv6 works (`[fd00::1]:80`; Retina splits on every ':'), and pod IPs are AND-ed with the
// include/exclude clause instead of OR-ed (Retina's OR widens the capture to everything included).
import { isIP } from 'node:net';

export interface IpPort {
  /** Undefined = any address. */
  ip?: string;
  /** Undefined = any port. */
  port?: number;
}

/** Address text acceptable to BPF `host`: plain IPv4/IPv6, no zone, no CIDR. */
export function isPlainIp(text: string): boolean {
  return !text.includes('%') && isIP(text) !== 0;
}

function parsePort(text: string): number | undefined | 'bad' {
  if (text === '*' || text === '') return undefined;
  if (!/^\d{1,5}$/.test(text)) return 'bad';
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : 'bad';
}

/**
 * Parses one include/exclude entry. Forms (Retina's, plus bracketed IPv6):
 * `10.0.0.1`, `10.0.0.1:80`, `10.0.0.1:*`, `*:80`, `:80`, `80`, `fd00::1`, `[fd00::1]`, `[fd00::1]:443`.
 */
export function parseIpPort(entry: string): IpPort | string {
  const text = entry.trim();
  const why = `"${entry}" is not IP, IP:port, *:port or port (IPv6 with a port is written [addr]:port)`;
  if (text === '') return `an empty entry is not allowed`;
  let ipText: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return why;
    ipText = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return why;
    portText = rest.slice(1);
    if (isIP(ipText) !== 6) return why;
  } else if ((text.match(/:/g) ?? []).length > 1) {
    // More than one colon and no brackets: a bare IPv6 address, never a port.
    ipText = text;
    portText = '';
  } else if (text.includes(':')) {
    const i = text.indexOf(':');
    ipText = text.slice(0, i);
    portText = text.slice(i + 1);
    if (portText === '') return why;
  } else if (/^\d+$/.test(text)) {
    ipText = '*';
    portText = text;
  } else {
    ipText = text;
    portText = '';
  }
  const ip = ipText === '*' || ipText === '' ? undefined : ipText;
  if (ip !== undefined && !isPlainIp(ip)) return why;
  const port = parsePort(portText);
  if (port === 'bad') return `"${entry}": the port must be between 1 and 65535 or *`;
  if (ip === undefined && port === undefined) return `"${entry}" matches every packet; leave it out instead`;
  return { ...(ip !== undefined ? { ip } : {}), ...(port !== undefined ? { port } : {}) };
}

/** `(a) and (b)` with parentheses only when both are present, so precedence never surprises. */
export function andClauses(...clauses: string[]): string {
  const present = clauses.filter((c) => c !== '');
  if (present.length <= 1) return present[0] ?? '';
  return present.map((c) => `(${c})`).join(' and ');
}

/** `(one or two …)`: entries grouped by address, each in parentheses, sorted for stable output. */
function group(entries: IpPort[]): string {
  const anyIpPorts = new Set<number>();
  const byIp = new Map<string, Set<number> | 'any'>();
  for (const e of entries) {
    if (e.ip === undefined) {
      anyIpPorts.add(e.port as number);
    } else if (e.port === undefined) {
      byIp.set(e.ip, 'any');
    } else {
      const cur = byIp.get(e.ip);
      if (cur === 'any') continue;
      const ports = cur ?? new Set<number>();
      ports.add(e.port as number);
      byIp.set(e.ip, ports);
    }
  }
  const parts: string[] = [];
  for (const port of [...anyIpPorts].sort((a, b) => a - b)) parts.push(`(port ${port})`);
  for (const ip of [...byIp.keys()].sort()) {
    const ports = byIp.get(ip)!;
    if (ports === 'any') {
      parts.push(`(host ${ip})`);
      continue;
    }
    // `*:80` already covers `ip:80`.
    for (const port of [...ports].filter((p) => !anyIpPorts.has(p)).sort((a, b) => a - b)) {
      parts.push(`(host ${ip} and port ${port})`);
    }
  }
  return parts.length ? `(${parts.join(' or ')})` : '';
}

function parseAll(entries: string[]): IpPort[] {
  const out: IpPort[] = [];
  for (const e of entries) {
    const p = parseIpPort(e);
    if (typeof p === 'string') throw new Error(`invalid include/exclude entry: ${p}`);
    out.push(p);
  }
  return out;
}

/** Retina's TCPDUMP_FILTER clause: `(includes) and not (excludes)`. Throws on invalid entries (validate first). */
export function includeExcludeClause(include: string[], exclude: string[]): string {
  const inc = group(parseAll(include));
  const exc = group(parseAll(exclude));
  if (inc && exc) return `${inc} and not ${exc}`;
  if (inc) return inc;
  if (exc) return `not ${exc}`;
  return '';
}

/** `(host a or host b)` for a node's selected pods; '' when the node is captured whole. */
export function podIpClause(ips: string[]): string {
  const unique = [...new Set(ips)];
  return unique.length ? `(${unique.map((ip) => `host ${ip}`).join(' or ')})` : '';
}

/** TCPDUMP_FILTER for one node: the include/exclude clause AND-ed with the node's pod IPs. */
export function tcpdumpFilterFor(include: string[], exclude: string[], podIps: string[]): string {
  return andClauses(includeExcludeClause(include, exclude), podIpClause(podIps));
}

function directional(direction: 'src' | 'dst', ips: string[]): string {
  return ips.map((ip) => `${direction} host ${ip}`).join(' or ');
}

/** PCAP_FILTER as Retina builds it: user BPF AND (any source) AND (any destination). */
export function pcapFilterFor(filter: string, sourceIPs: string[], destinationIPs: string[]): string {
  return andClauses(filter.trim(), andClauses(directional('src', sourceIPs), directional('dst', destinationIPs)));
}
