// Teardown used by `down`, also after a crash: stop recorded processes (ours only), let the
// node agent remove namespaces/links/mounts, verify nothing is left, remove the state dir.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Paths } from './paths.js';
import { BRIDGE } from './paths.js';
import { isAlive, isOurs, readPidFiles, stopGroup } from './proc.js';

interface Recorded {
  pids: Record<string, number>;
  bin: string;
}

/** Stop order: nodes first (they still talk to the apiserver while shutting down), etcd last. */
function rank(name: string): number {
  const order = ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
  const i = order.indexOf(name);
  return i < 0 ? -1 : i;
}

export async function stopRecorded(p: Paths, info: Recorded | undefined, log: (m: string) => void): Promise<void> {
  const byName = new Map<string, number>();
  for (const { name, pid } of readPidFiles(p.pids)) byName.set(name, pid);
  for (const [name, pid] of Object.entries(info?.pids ?? {})) byName.set(name, pid);
  const bins = [p.bin, ...(info?.bin && info.bin !== p.bin ? [info.bin] : [])];
  const entries = [...byName.entries()].sort((a, b) => rank(a[0]) - rank(b[0]));
  // Nodes in parallel (each may take a moment to stop its pods), then the control plane in order.
  const nodes = entries.filter(([n]) => rank(n) < 0);
  const control = entries.filter(([n]) => rank(n) >= 0);
  const stopOne = async ([name, pid]: [string, number]): Promise<void> => {
    if (!isAlive(pid)) return;
    if (!bins.some((b) => isOurs(pid, b))) {
      log(`pid ${pid} recorded for ${name} runs something else now; left alone`);
      return;
    }
    const t0 = performance.now();
    // Short grace: the state is thrown away anyway, and the apiserver's graceful shutdown
    // otherwise waits ~10 s on open client streams.
    await stopGroup(pid, rank(name) < 0 ? 5_000 : 3_000, rank(name) < 0);
    log(`stopped ${name} (pid ${pid}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  await Promise.all(nodes.map(stopOne));
  // Scheduler and controller-manager together (both only talk to the apiserver), then apiserver, etcd.
  await Promise.all(control.filter(([n]) => rank(n) < 2).map(stopOne));
  for (const e of control.filter(([n]) => rank(n) >= 2)) await stopOne(e);
}

function ourNetns(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => /^rc-(node|pod)-/.test(n));
}

function bridgeExists(): boolean {
  return spawnSync('ip', ['link', 'show', BRIDGE], { stdio: 'ignore' }).status === 0;
}

/** Mount points at or under dir in our mount namespace, deepest first. */
function mountsUnder(dir: string): string[] {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const out: string[] = [];
  for (const l of lines) {
    const mp = l.split(' ')[4];
    if (!mp) continue;
    // mountinfo escapes spaces etc. as \040 octal.
    const decoded = mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (decoded === dir || decoded.startsWith(dir + '/')) out.push(decoded);
  }
  return out.sort((a, b) => b.length - a.length);
}

export async function cleanupLeftovers(p: Paths, log: (m: string) => void, opts: { network: boolean }): Promise<void> {
  const agent = path.join(p.bin, 'nodeagent');
  if (opts.network && existsSync(agent)) {
    const t0 = performance.now();
    const r = spawnSync(agent, ['cleanup', `--state-root=${p.state}`], { encoding: 'utf8', timeout: 120_000 });
    log(`nodeagent cleanup took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (r.status !== 0)
      log(
        `nodeagent cleanup exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').slice(-5).join(' | ')}`,
      );
  }
  // Belt and braces (and the only path when the agent binary is missing): our names only.
  if (opts.network) {
    for (const ns of ourNetns()) spawnSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
    if (bridgeExists()) spawnSync('ip', ['link', 'delete', BRIDGE], { stdio: 'ignore' });
  }

  for (const mp of mountsUnder(p.state)) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
  const problems: string[] = [];
  const ns = opts.network ? ourNetns() : [];
  if (ns.length) problems.push(`network namespaces left: ${ns.join(', ')}`);
  if (opts.network && bridgeExists()) problems.push(`bridge ${BRIDGE} still exists`);
  const mounts = mountsUnder(p.state);
  if (mounts.length) problems.push(`mounts left under ${p.state}: ${mounts.join(', ')}`);
  const alive = readPidFiles(p.pids).filter(({ pid }) => isAlive(pid) && isOurs(pid, p.bin));
  if (alive.length) problems.push(`processes still running: ${alive.map((a) => `${a.name}=${a.pid}`).join(', ')}`);
  // The state dir (pid files included) stays when something is left, so a second down can retry.
  // Never rm through a mount (a hostPath bind could point anywhere): checked just above.
  if (problems.length) throw new Error(`down left things behind: ${problems.join('; ')}`);
  rmSync(p.state, { recursive: true, force: true });
  log('down: nothing left behind');
}
