// What the node's network looks like, from iproute2 JSON output (`ip -j`), and the decisions
// the worker takes from it: which interfaces exist and are up, and where a pod's traffic flows.
import { execFile } from 'node:child_process';

export interface IpLink {
  ifname: string;
  flags?: string[];
  operstate?: string;
  link_type?: string;
  linkinfo?: { info_kind?: string };
}

export interface IpAddrInfo {
  family: 'inet' | 'inet6' | string;
  local: string;
  prefixlen: number;
}

export interface IpAddr extends IpLink {
  addr_info?: IpAddrInfo[];
}

export interface IpRouteGet {
  type?: string;
  dst?: string;
  gateway?: string;
  dev?: string;
}

export interface IpRoute {
  dst?: string;
  dev?: string;
  gateway?: string;
  type?: string;
}

/** Runs `ip -j …` without a shell and parses its JSON. */
export function ipJson<T>(args: readonly string[], timeoutMs = 5000): Promise<T> {
  return ipJsonOnce<T>(args, timeoutMs).catch((e: unknown) => {
    // A stop (Job deleted) signals the pod's whole process group: an `ip` started during setup
    // dies of that one SIGTERM too. The worker still has to plan, capture nothing and write its
    // archive and result, so the read-only command is run again once.
    if (e instanceof IpKilledError) return ipJsonOnce<T>(args, timeoutMs);
    throw e;
  });
}

class IpKilledError extends Error {}

function ipJsonOnce<T>(args: readonly string[], timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['-j', ...args], { timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const msg = `ip ${args.join(' ')}: ${String(stderr).trim() || err.message}`;
        // err.killed: our own timeout killed it; a SIGTERM without it came from outside.
        reject(err.signal === 'SIGTERM' && !err.killed ? new IpKilledError(msg) : new Error(msg));
        return;
      }
      try {
        resolve(JSON.parse(String(stdout) || '[]') as T);
      } catch (e) {
        reject(new Error(`ip ${args.join(' ')}: unparsable output (${(e as Error).message})`));
      }
    });
  });
}

export function isUp(link: IpLink): boolean {
  return (link.flags ?? []).includes('UP');
}

export function isLoopback(link: IpLink): boolean {
  return link.link_type === 'loopback' || (link.flags ?? []).includes('LOOPBACK');
}

/**
 * Interfaces to capture when none are named: like `tcpdump -i any` would see traffic — every
 * interface that is administratively up, except loopback (node-local chatter, and no pod
 * traffic on a Kubernetes node crosses `lo`).
 */
export function defaultInterfaces(links: readonly IpLink[]): string[] {
  return links.filter((l) => isUp(l) && !isLoopback(l)).map((l) => l.ifname);
}

/** Checks named interfaces; returns a reason naming the first bad one, or undefined. */
export function checkInterfaces(names: readonly string[], links: readonly IpLink[]): string | undefined {
  for (const name of names) {
    const link = links.find((l) => l.ifname === name);
    if (!link) {
      const known = links
        .map((l) => l.ifname)
        .slice(0, 12)
        .join(', ');
      return `interface ${name} does not exist on this node (have: ${known})`;
    }
    if (!isUp(link)) return `interface ${name} is down`;
  }
  return undefined;
}

function ipToBigInt(ip: string): { v: bigint; bits: number } | undefined {
  if (ip.includes(':')) {
    const [head = '', tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
    const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    if (groups.length !== 8) return undefined;
    let v = 0n;
    for (const g of groups) v = (v << 16n) | BigInt(parseInt(g || '0', 16));
    return { v, bits: 128 };
  }
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) return undefined;
  return { v: parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n), bits: 32 };
}

export function prefixContains(network: string, prefixLen: number, ip: string): boolean {
  const n = ipToBigInt(network);
  const a = ipToBigInt(ip);
  if (!n || !a || n.bits !== a.bits) return false;
  const shift = BigInt(n.bits - prefixLen);
  return n.v >> shift === a.v >> shift;
}

export type PodRouteDecision = { kind: 'local'; dev: string; shared: boolean } | { kind: 'fallback'; why: string };

/**
 * Where a pod lives, from `ip route get <podIP>` in the node's namespace:
 * - `type local` → the IP is the node's own: a hostNetwork pod → fallback;
 * - via a gateway, or out of the default-route device → on another node → fallback;
 * - out of a bridge (kubenet `cni0`) → local, shared with other pods → capture the bridge AND
 *   filter by the pod IP;
 * - out of a device that itself holds an address whose subnet contains the pod IP → that is a
 *   node LAN interface (pod elsewhere on the same L2) → fallback;
 * - otherwise (a host route to the pod's veth: Calico, Azure CNI, Cilium…) → local.
 */
export function classifyPodRoute(
  route: IpRouteGet | undefined,
  links: readonly IpAddr[],
  defaultDevs: readonly string[],
): PodRouteDecision {
  if (!route?.dev) return { kind: 'fallback', why: 'no route to the pod IP on this node' };
  if (route.type === 'local') return { kind: 'fallback', why: 'the pod IP is a node address (hostNetwork pod)' };
  if (route.gateway) return { kind: 'fallback', why: `the pod is reached via gateway ${route.gateway} (another node)` };
  if (defaultDevs.includes(route.dev))
    return { kind: 'fallback', why: `the pod is reached through the node's uplink ${route.dev}` };
  const link = links.find((l) => l.ifname === route.dev);
  if (!link) return { kind: 'fallback', why: `route device ${route.dev} not found` };
  if (isLoopback(link)) return { kind: 'fallback', why: 'the pod IP is a node address (hostNetwork pod)' };
  if (link.linkinfo?.info_kind === 'bridge') return { kind: 'local', dev: route.dev, shared: true };
  const dst = route.dst ?? '';
  const onLan = (link.addr_info ?? []).some(
    (a) => a.prefixlen < (a.local.includes(':') ? 128 : 32) && prefixContains(a.local, a.prefixlen, dst),
  );
  if (onLan)
    return { kind: 'fallback', why: `the pod IP is on ${route.dev}'s own subnet (a node LAN, not a pod interface)` };
  return { kind: 'local', dev: route.dev, shared: false };
}
