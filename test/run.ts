// Runs the test suite with Node's built-in runner. Unit tests need nothing; integration and
// e2e tests get one test cluster for the whole run (started here, torn down at the end, even
// on failure) and the built bundles.
//
//   npm test                 all suites
//   npm test -- unit         one suite (unit | integration | e2e)
//   npm test -- path.test.ts specific files (cluster started if they are not unit tests)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stageWorkerRuntime } from './support/workerRuntime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SUITES = ['unit', 'integration', 'e2e'] as const;
type Suite = (typeof SUITES)[number];

function findTests(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'tmp' && name !== 'artifacts' && name !== 'node_modules') out.push(...findTests(p));
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function runNodeTests(files: string[], concurrency: number): Promise<number> {
  if (files.length === 0) return Promise.resolve(0);
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Runs one step of the suite and says how long it took (the README's cold-machine figures). */
async function timed<T>(step: string, fn: () => T | Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    console.error(`[test] ${step}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const explicitFiles = argv.filter((a) => a.endsWith('.ts')).map((f) => path.resolve(f));
  const suites: Suite[] = argv.filter((a): a is Suite => (SUITES as readonly string[]).includes(a));
  const chosen: Suite[] = explicitFiles.length ? [] : suites.length ? suites : [...SUITES];

  const unitFiles = chosen.includes('unit') ? findTests(path.join(root, 'test/unit')) : [];
  const clusterFiles = [
    ...(chosen.includes('integration') ? findTests(path.join(root, 'test/integration')) : []),
    ...(chosen.includes('e2e') ? findTests(path.join(root, 'test/e2e')) : []),
    ...explicitFiles,
  ];

  let failed = 0;
  if (unitFiles.length) failed += await timed('unit tests', () => runNodeTests(unitFiles, 2));
  if (clusterFiles.length === 0) return failed;

  // The worker bundle is what the test cluster's image map runs, as the image would: on Node 24
  // from the staged app dir (scripts/worker-runtime.sh; installs Node 24 and builds cap for it
  // on a fresh machine, then copies the new bundle in). Worker tests with RCX_WORKER=dist use it too.
  const build = await timed('build (npm run build)', () =>
    spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' }),
  );
  if (build.status !== 0) {
    console.error('[test] FAILED: npm run build (webpack); its errors are above. Fix them, then run npm test again.');
    return 1;
  }
  const runtime = await timed('worker runtime (scripts/worker-runtime.sh)', () =>
    stageWorkerRuntime({ requireBundle: true }),
  );
  console.error(`[test] worker runtime: Node ${runtime.nodeVersion}, ${runtime.app}`);

  const needsCluster = clusterFiles.some((f) => !f.includes(`${path.sep}unit${path.sep}`));
  type ClusterModule = {
    up(opts?: object): Promise<{ kubeconfig: string; limitedKubeconfig?: string; startedAt: string; bin: string }>;
    down(): Promise<void>;
    readCluster(): { startedAt: string } | undefined;
  };
  let cluster: ClusterModule | undefined;
  if (needsCluster && !process.env.RETINA_TEST_KUBECONFIG && existsSync(path.join(root, 'test/cluster/cluster.ts'))) {
    // Imported by URL: the cluster module is optional for unit-only checkouts.
    cluster = (await import(pathToFileURL(path.join(root, 'test/cluster/cluster.ts')).href)) as ClusterModule;
    // A healthy cluster already running (any shape with ≥ 3 nodes) is used and left running:
    // restarting it would kill whatever else is using it.
    const before = cluster.readCluster();
    const up = cluster.up.bind(cluster);
    const info = await timed('test cluster up (builds the control plane on first use)', () => up({ atLeast: true }));
    if (before?.startedAt === info.startedAt) {
      console.error('[test] using the test cluster that was already running; it stays up after the tests');
      cluster = undefined;
    }
    process.env.RETINA_TEST_KUBECONFIG = info.kubeconfig;
    // kubectl of the cluster's version, built with the control plane: the machine image's (gcloud's
    // v1.32) is outside kubectl's one-minor skew from a v1.36 server.
    process.env.PATH = `${info.bin}${path.delimiter}${process.env.PATH ?? ''}`;
    if (info.limitedKubeconfig) process.env.RETINA_TEST_LIMITED_KUBECONFIG = info.limitedKubeconfig;
  }
  // The cluster CA signs HTTPS endpoints on the bridge (test/support/clusterBlob.ts: Azurite for
  // blob output); test processes and the code-server they start trust it from their start.
  const kubeconfig = process.env.RETINA_TEST_KUBECONFIG;
  const clusterCa = kubeconfig ? path.join(path.dirname(kubeconfig), 'pki', 'ca.crt') : undefined;
  if (clusterCa && existsSync(clusterCa)) {
    // NODE_EXTRA_CA_CERTS takes one file, and machines often set it already (a system bundle):
    // trust both by writing them into one bundle next to the cluster CA.
    const given = process.env.NODE_EXTRA_CA_CERTS;
    if (given && path.resolve(given) !== clusterCa && existsSync(given)) {
      const bundle = path.join(path.dirname(clusterCa), 'node-extra-ca-bundle.crt');
      writeFileSync(bundle, `${readFileSync(given, 'utf8').trimEnd()}\n${readFileSync(clusterCa, 'utf8')}`);
      process.env.NODE_EXTRA_CA_CERTS = bundle;
    } else process.env.NODE_EXTRA_CA_CERTS = clusterCa;
  }
  try {
    // One at a time: tests share one small cluster and two cores; parallel runs make timing flaky.
    failed += await timed('integration and e2e tests', () => runNodeTests(clusterFiles, 1));
  } finally {
    const down = cluster?.down.bind(cluster);
    if (down && !process.env.RETINA_KEEP_CLUSTER) await timed('test cluster down', down);
  }
  return failed;
}

main().then(
  (code) => process.exit(code ? 1 : 0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
