// Memory of the cluster: every process in the process groups (and descendant trees) of the
// recorded pids — control plane, node agents and the pod processes they run.
import { readFileSync, readdirSync } from 'node:fs';

interface Proc {
  pid: number;
  ppid: number;
  pgrp: number;
}

function allProcs(): Proc[] {
  const out: Proc[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // comm may contain spaces/parens: fields after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(d), ppid: Number(rest[1]), pgrp: Number(rest[2]) });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Pids belonging to the given roots: same process group, or a descendant. */
export function clusterProcesses(roots: number[]): number[] {
  const procs = allProcs();
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const rootSet = new Set(roots);
  const belongs = (p: Proc): boolean => {
    if (rootSet.has(p.pgrp)) return true;
    for (let cur: Proc | undefined = p, hops = 0; cur && hops < 64; cur = byPid.get(cur.ppid), hops++) {
      if (rootSet.has(cur.pid)) return true;
    }
    return false;
  };
  return procs.filter(belongs).map((p) => p.pid);
}

function kbField(file: string, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const rssBytes = (pid: number): number => kbField(`/proc/${pid}/status`, 'VmRSS');
/** Proportional set size: shared pages split between sharers, so the sum is not inflated. */
export const pssBytes = (pid: number): number => kbField(`/proc/${pid}/smaps_rollup`, 'Pss');

export function memoryOf(roots: number[]): { processes: number; pss: number; rss: number } {
  const pids = clusterProcesses(roots);
  return {
    processes: pids.length,
    pss: pids.reduce((a, p) => a + pssBytes(p), 0),
    rss: pids.reduce((a, p) => a + rssBytes(p), 0),
  };
}
