// Builds what the cluster runs and caches it under <cache>/bin, keyed by a stamp (hash of the
// sources that decide the binary), so only the first `up` on a machine pays the build.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  openSync,
  closeSync,
} from 'node:fs';
import path from 'node:path';
import { clusterSrc, K8S_VERSION } from './paths.js';
import { tail } from './proc.js';

const log = (msg: string): void => console.error(`[cluster] ${msg}`);

/**
 * The Debian packages the cluster and its tests run (scripts/packages.txt, set `base`), through
 * scripts/bootstrap.sh so there is one list; quick when all are there.
 */
export function ensureHostTools(): void {
  const r = spawnSync('bash', [path.join(clusterSrc, '../../scripts/bootstrap.sh'), '--no-npm'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 900_000,
  });
  if (r.status !== 0)
    throw new Error(`scripts/bootstrap.sh --no-npm failed (${r.status ?? r.signal}): see its FAILED lines above`);
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function goBinary(): string {
  if (process.env.GO) return process.env.GO;
  if (onPath('go')) return 'go';
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error('the Go toolchain is needed to build the test cluster (set GO=/path/to/go or put go on PATH)');
}

/** Hash of every go.mod/go.sum/*.go under dir (not descending into nested modules' own stamps). */
function sourceHash(dir: string, exclude: string[] = []): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (exclude.includes(p)) continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (name === 'go.mod' || name === 'go.sum' || name.endsWith('.go'))
        h.update(path.relative(dir, p)).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex').slice(0, 16);
}

// Version stamping as the Kubernetes release build does, so /version reports v1.36.3.
const K8S_LDFLAGS = [
  '-s -w',
  `-X k8s.io/component-base/version.gitVersion=${K8S_VERSION}`,
  '-X k8s.io/component-base/version.gitMajor=1',
  '-X k8s.io/component-base/version.gitMinor=36',
  '-X k8s.io/component-base/version.gitTreeState=clean',
  `-X k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION}`,
  '-X k8s.io/client-go/pkg/version.gitMajor=1',
  '-X k8s.io/client-go/pkg/version.gitMinor=36',
].join(' ');

interface Target {
  name: string;
  outputs: string[]; // binary names expected in bin/
  dir: string; // go module dir to build in
  stampOf: () => string;
  args: (bin: string) => string[];
}

function targets(): Target[] {
  const cp = path.join(clusterSrc, 'controlplane');
  const modFiles = (d: string) => (): string => sourceHash(d, [path.join(d, 'etcd'), path.join(d, 'certs')]);
  return [
    {
      name: 'control plane',
      // kubectl too, at the cluster's version: the e2e harness, the Kubernetes extension's e2e and the
      // sandbox's users run it, and the machine image's (gcloud's v1.32) is outside the one-minor skew.
      outputs: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'],
      dir: cp,
      stampOf: () => modFiles(cp)() + K8S_LDFLAGS.length,
      args: (bin) => [
        'build',
        '-trimpath',
        `-ldflags=${K8S_LDFLAGS}`,
        '-o',
        bin + '/',
        'k8s.io/kubernetes/cmd/kube-apiserver',
        'k8s.io/kubernetes/cmd/kube-controller-manager',
        'k8s.io/kubernetes/cmd/kube-scheduler',
        'k8s.io/kubernetes/cmd/kubectl',
      ],
    },
    {
      name: 'etcd',
      outputs: ['etcd'],
      dir: path.join(cp, 'etcd'),
      stampOf: () => sourceHash(path.join(cp, 'etcd')),
      args: (bin) => ['build', '-trimpath', '-ldflags=-s -w', '-o', path.join(bin, 'etcd'), '.'],
    },
    {
      name: 'certs',
      outputs: ['certs'],
      dir: cp,
      stampOf: () => sourceHash(path.join(cp, 'certs')),
      args: (bin) => ['build', '-trimpath', '-o', path.join(bin, 'certs'), './certs'],
    },
    {
      name: 'nodeagent',
      outputs: ['nodeagent'],
      dir: path.join(clusterSrc, 'nodeagent'),
      stampOf: () => sourceHash(path.join(clusterSrc, 'nodeagent')),
      args: (bin) => ['build', '-trimpath', '-o', path.join(bin, 'nodeagent'), '.'],
    },
  ];
}

function runLogged(cmd: string, args: string[], cwd: string, logFile: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = openSync(logFile, 'a');
    const child = spawn(cmd, args, {
      cwd,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false' },
    });
    closeSync(fd);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${cmd} ${args.slice(0, 2).join(' ')} in ${cwd} failed (${code ?? sig}); last lines of ${logFile}:\n${tail(logFile, 20)}\n` +
              'fix: a download error needs the Go module proxy (go env GOPROXY); "no space left" needs disk for ' +
              '`go env GOCACHE`; then run the command again (what was built is kept)',
          ),
        );
    });
  });
}

/** Targets whose binary is missing or older than its sources (stamp mismatch). */
export function staleTargets(binDir: string): string[] {
  return targets()
    .filter((t) => existsSync(path.join(t.dir, 'go.mod')))
    .filter((t) => {
      const stampFile = path.join(binDir, `.${t.name.replace(/ /g, '-')}.stamp`);
      const have = t.outputs.every((o) => existsSync(path.join(binDir, o)));
      return !have || !existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== t.stampOf();
    })
    .map((t) => t.name);
}

export interface BuildReport {
  built: string[];
  seconds: Record<string, number>;
}

/**
 * Builds every target whose outputs are missing or whose stamp changed. `force` rebuilds all
 * (the cold-build benchmark also points GOCACHE at an empty dir).
 */
export async function buildAll(
  binDir: string,
  opts: { force?: boolean; only?: string[]; skip?: string[] } = {},
): Promise<BuildReport> {
  mkdirSync(binDir, { recursive: true });
  const go = goBinary();
  const report: BuildReport = { built: [], seconds: {} };
  for (const t of targets()) {
    if (opts.only && !opts.only.includes(t.name)) continue;
    if (opts.skip?.includes(t.name)) continue;
    if (!existsSync(path.join(t.dir, 'go.mod'))) {
      if (t.name === 'nodeagent') {
        log('nodeagent sources not found; skipping its build');
        continue;
      }
      throw new Error(`${t.dir}/go.mod is missing`);
    }
    const stampFile = path.join(binDir, `.${t.name.replace(/ /g, '-')}.stamp`);
    const stamp = t.stampOf();
    const have = t.outputs.every((o) => existsSync(path.join(binDir, o)));
    if (!opts.force && have && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) continue;
    const logFile = path.join(binDir, '..', `build-${t.name.replace(/ /g, '-')}.log`);
    writeFileSync(logFile, '');
    log(`building ${t.name} (${t.outputs.join(', ')}) — the first build on a machine takes minutes; log: ${logFile}`);
    const start = performance.now();
    await runLogged(go, t.args(binDir), t.dir, logFile, 60 * 60_000);
    const s = (performance.now() - start) / 1000;
    writeFileSync(stampFile, stamp);
    report.built.push(t.name);
    report.seconds[t.name] = Math.round(s * 10) / 10;
    log(`built ${t.name} in ${s.toFixed(1)} s`);
  }
  return report;
}
