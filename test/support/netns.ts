// Network namespaces for worker tests: a "node" namespace joined to a "peer" by a veth pair,
// optionally a "pod" namespace with its veth into the node and a /32 route to it, as a CNI
// plugin sets it up. Addresses in 198.18.201.0/24 (RFC 2544 benchmark range), no default
// route, nothing outside the namespaces touched. Names are prefixed `rcx-` and carry a short
// id so parallel runs do not collide.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface NetnsPair {
  id: string;
  node: string;
  peer: string;
  pod?: string;
  /** node-side interface toward the peer */
  nodeIf: string;
  peerIf: string;
  /** node-side interface toward the pod (pod's host veth) */
  podHostIf?: string;
  podIf?: string;
  nodeIp: string;
  peerIp: string;
  podIp?: string;
  podGwIp?: string;
  destroy(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function nsExec(ns: string, ...args: string[]): void {
  execFileSync('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates the namespaces; `withPod` adds the pod namespace. Always call destroy(). */
export function createNetns(withPod = false): NetnsPair {
  const id = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`.slice(-5);
  const node = `rcx-${id}-node`;
  const peer = `rcx-${id}-peer`;
  const pod = withPod ? `rcx-${id}-pod` : undefined;
  const nodeIf = `rx${id}n0`;
  const peerIf = `rx${id}p0`;
  const podHostIf = withPod ? `rx${id}h0` : undefined;
  const podIf = withPod ? `rx${id}q0` : undefined;
  // Disjoint ranges: node/peer /30s in .0–.127, pods in .128–.191, pod gateways in .192–.255.
  const slot = Math.floor(Math.random() * 32);
  const nodeIp = `198.18.201.${4 * slot + 1}`;
  const peerIp = `198.18.201.${4 * slot + 2}`;
  const podIp = withPod ? `198.18.201.${128 + 2 * slot + 1}` : undefined;
  const podGwIp = withPod ? `198.18.201.${192 + 2 * slot + 1}` : undefined;
  const created: string[] = [];
  const destroy = (): void => {
    for (const ns of created.reverse()) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    created.length = 0;
  };
  try {
    for (const ns of [node, peer, ...(pod ? [pod] : [])]) {
      ip('netns', 'add', ns);
      created.push(ns);
      nsExec(ns, 'ip', 'link', 'set', 'lo', 'up');
    }
    ip('link', 'add', nodeIf, 'netns', node, 'type', 'veth', 'peer', 'name', peerIf, 'netns', peer);
    nsExec(node, 'ip', 'addr', 'add', `${nodeIp}/30`, 'dev', nodeIf);
    nsExec(peer, 'ip', 'addr', 'add', `${peerIp}/30`, 'dev', peerIf);
    nsExec(node, 'ip', 'link', 'set', nodeIf, 'up');
    nsExec(peer, 'ip', 'link', 'set', peerIf, 'up');
    if (pod && podHostIf && podIf && podIp && podGwIp) {
      ip('link', 'add', podHostIf, 'netns', node, 'type', 'veth', 'peer', 'name', podIf, 'netns', pod);
      // CNI style: pod /32 with a host route on the node side; the node's end has a /32 too.
      nsExec(node, 'ip', 'addr', 'add', `${podGwIp}/32`, 'dev', podHostIf);
      nsExec(node, 'ip', 'link', 'set', podHostIf, 'up');
      nsExec(node, 'ip', 'route', 'add', `${podIp}/32`, 'dev', podHostIf);
      nsExec(pod, 'ip', 'addr', 'add', `${podIp}/32`, 'dev', podIf);
      nsExec(pod, 'ip', 'link', 'set', podIf, 'up');
      nsExec(pod, 'ip', 'route', 'add', `${podGwIp}/32`, 'dev', podIf);
    }
  } catch (e) {
    destroy();
    throw e;
  }
  return {
    id,
    node,
    peer,
    nodeIf,
    peerIf,
    nodeIp,
    peerIp,
    destroy,
    ...(pod ? { pod, podHostIf, podIf, podIp, podGwIp } : {}),
  };
}

/**
 * Sends `count` UDP datagrams of `size` payload bytes from namespace `ns` to `dst:port`, each
 * payload starting with `<tag>-<seq>`, paced so a capture keeps up (bursts of `burst`).
 * Resolves when all are sent.
 */
export function sendUdp(
  ns: string,
  dst: string,
  port: number,
  count: number,
  opts: { size?: number; tag?: string; burst?: number; gapMs?: number; random?: boolean } = {},
): Promise<void> {
  const script = `
const d = require('node:dgram').createSocket('udp4');
const [dst, port, count, size, tag, burst, gap, random] = process.argv.slice(1);
const pool = random === '1' ? require('node:crypto').randomBytes(1 << 20) : undefined;
let i = 0;
function next() {
  let n = 0;
  while (i < +count && n < +burst) {
    const head = Buffer.from(tag + '-' + i + '-');
    const b = Buffer.alloc(Math.max(+size, head.length), 120);
    if (pool) pool.copy(b, 0, (i * 7919) % (pool.length - b.length));
    head.copy(b);
    d.send(b, +port, dst);
    i++; n++;
  }
  if (i < +count) setTimeout(next, +gap); else setTimeout(() => d.close(), 50);
}
d.bind(0, next);
`;
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        '-e',
        script,
        dst,
        String(port),
        String(count),
        String(opts.size ?? 64),
        opts.tag ?? 'rcx',
        String(opts.burst ?? 50),
        String(opts.gapMs ?? 1),
        opts.random ? '1' : '0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sender exited ${code}: ${err}`))));
  });
}

export type { ChildProcess };
