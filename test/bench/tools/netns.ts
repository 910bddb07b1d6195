// A pair of network namespaces joined by a veth pair, for capture tests and benchmarks.
// Names start with `rcw-`, addresses are in 198.18.200.0/24 (RFC 2544 benchmark range), no
// default routes, no host sysctl touched. Traffic goes to TARGET_IP, an address nobody owns: its
// neighbour entry is pinned to B's MAC, so frames arrive on B's veth (where we capture) and are
// then dropped by B's IP layer without any reply (B does not forward).
import { spawnSync } from 'node:child_process';

export const IP_A = '198.18.200.1';
export const IP_B = '198.18.200.2';
export const TARGET_IP = '198.18.200.3';
export const TARGET_PORT = 9;

export interface NetnsPair {
  nsA: string;
  nsB: string;
  devA: string;
  devB: string;
}

function ip(args: string[], allowFail = false): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Creates rcw-<tag>-a / rcw-<tag>-b (tag ≤ 6 chars keeps device names within 15). */
export function setupPair(tag: string): NetnsPair {
  const p: NetnsPair = { nsA: `rcw-${tag}-a`, nsB: `rcw-${tag}-b`, devA: `rcw-${tag}-a0`, devB: `rcw-${tag}-b0` };
  teardownPair(p); // leftovers of an interrupted run
  try {
    ip(['netns', 'add', p.nsA]);
    ip(['netns', 'add', p.nsB]);
    ip(['link', 'add', p.devA, 'netns', p.nsA, 'type', 'veth', 'peer', 'name', p.devB, 'netns', p.nsB]);
    ip(['-n', p.nsA, 'addr', 'add', `${IP_A}/24`, 'dev', p.devA]);
    ip(['-n', p.nsB, 'addr', 'add', `${IP_B}/24`, 'dev', p.devB]);
    ip(['-n', p.nsA, 'link', 'set', p.devA, 'up']);
    ip(['-n', p.nsB, 'link', 'set', p.devB, 'up']);
    ip(['-n', p.nsA, 'link', 'set', 'lo', 'up']);
    ip(['-n', p.nsB, 'link', 'set', 'lo', 'up']);
    const link = ip(['-n', p.nsB, '-o', 'link', 'show', p.devB]);
    const mac = /link\/ether ([0-9a-f:]{17})/.exec(link)?.[1];
    if (!mac) throw new Error(`no MAC for ${p.devB}: ${link}`);
    ip(['-n', p.nsA, 'neigh', 'replace', TARGET_IP, 'lladdr', mac, 'dev', p.devA, 'nud', 'permanent']);
    ip(['-n', p.nsA, 'neigh', 'replace', IP_B, 'lladdr', mac, 'dev', p.devA, 'nud', 'permanent']);
  } catch (e) {
    teardownPair(p);
    throw e;
  }
  return p;
}

export function teardownPair(p: NetnsPair): void {
  ip(['netns', 'del', p.nsA], true);
  ip(['netns', 'del', p.nsB], true);
}

/** Packets the kernel counted on a device (/sys statistics), read inside the namespace. */
export function linkCounters(ns: string, dev: string): { rxPackets: number; txPackets: number; rxDropped: number } {
  const out = ip(['-n', ns, '-s', '-j', 'link', 'show', dev]);
  const j = JSON.parse(out) as { stats64?: { rx: { packets: number; dropped: number }; tx: { packets: number } } }[];
  const s = j[0]?.stats64;
  return { rxPackets: s?.rx.packets ?? 0, txPackets: s?.tx.packets ?? 0, rxDropped: s?.rx.dropped ?? 0 };
}
