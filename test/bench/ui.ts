// bench:ui — the extension in a real code-server: activation time (measured inside activate),
// main bundle size, time from activation to the nodes shown, extension-host RSS growth over 20
// tree refreshes, and start → status bar: from "Start" in the palette flow (startRequested) to
// the status bar showing nodes capturing (session events), on two traffic pods of a namespace
// of its own. Needs the test cluster (RETINA_TEST_KUBECONFIG or the running cluster's).
// Scale mode: when the cluster has hollow nodes (`cluster:up -- --hollow 500`), the bench first
// binds SCALE_PODS (default 5,000) pods over them in a namespace of its own, waits until they
// are Running, measures with them, and deletes the namespace afterwards (also on failure).
import { readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { writeResult } from './lib/report.js';
import { createScalePods, deleteScalePods, type ScalePods } from './lib/scalePods.js';
import { createNamespace, deleteNamespace, kubectl, realNodes, startTraffic } from '../e2e/harness/cluster.js';
import { ensureSetup, ensureVsix, ROOT, startSession, type Session } from '../e2e/harness/codeServer.js';
import { waitForAny } from '../e2e/harness/events.js';
import { openRetinaView, paletteToFilter, revealNodeRow, runCommand } from '../e2e/harness/workbench.js';

const kubeconfig = process.env.RETINA_TEST_KUBECONFIG ?? path.join(ROOT, '.cache/cluster/state/admin.kubeconfig');

/** RSS of this session's extension host: `--type=extensionHost` with our event file in its env. */
function exthostRss(eventsFile: string): number | undefined {
  const out = execFileSync('ps', ['-eo', 'pid=,rss=,args='], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    if (!line.includes('--type=extensionHost')) continue;
    const [pid, rss] = line.trim().split(/\s+/);
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(eventsFile)) return Number(rss) * 1024;
    } catch {
      // exited or not ours
    }
  }
  return undefined;
}

async function startToStatus(s: Session): Promise<{ toStatus: number; toCapturing: number }> {
  const nodes = realNodes(kubeconfig);
  const ns = createNamespace(kubeconfig, 'bench-ui');
  try {
    await startTraffic(kubeconfig, ns, nodes[1] ?? nodes[0]!, nodes[0]!);
    await s.page.waitForTimeout(1500);
    const { page } = s;
    const t0 = Date.now();
    const input = page.locator('.quick-input-widget input.input');
    await paletteToFilter(page, ns);
    await input.fill('tcp or udp');
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
    await page.waitForTimeout(500);
    await page.keyboard.press('Enter'); // host path
    await page.waitForTimeout(400);
    await page.keyboard.press('Enter'); // start now
    const req = await waitForAny(s, ['startRequested'], 15_000, t0);
    const first = await waitForAny(s, ['status'], 60_000, t0);
    const capturing = await s.waitForEvent(
      'status',
      90_000,
      (e) => Number(e.t) >= t0 && typeof e.text === 'string' && /capturing/.test(e.text),
    );
    await waitForAny(s, ['ready', 'commandError'], 120_000, t0);
    return { toStatus: Number(first.t) - Number(req.t), toCapturing: Number(capturing.t) - Number(req.t) };
  } finally {
    deleteNamespace(kubeconfig, ns);
  }
}

const scalePodCount = Number(process.env.SCALE_PODS ?? 5000);
const SCALE_SETTLE_MS = 30_000;

function hollowNodeCount(): number {
  return kubectl(kubeconfig, ['get', 'nodes', '-l', 'retina-capture.test/kind=hollow', '-o', 'name'])
    .split('\n')
    .filter(Boolean).length;
}

async function main(): Promise<void> {
  const vsix = ensureVsix();
  const bundle = statSync(path.join(ROOT, 'dist/extension.cjs')).size;
  const setup = ensureSetup();
  let scale: ScalePods | undefined;
  if (scalePodCount > 0 && hollowNodeCount() > 0) {
    // Interrupted (Ctrl-C): finally blocks do not run, so the namespace goes here.
    for (const sig of ['SIGINT', 'SIGTERM'] as const)
      process.once(sig, () => {
        if (scale) deleteNamespace(kubeconfig, scale.namespace);
        process.exit(130);
      });
    scale = await createScalePods(kubeconfig, scalePodCount);
    console.log(
      `scale mode: ${scale.pods} pods on ${scale.nodes} hollow nodes in ${scale.namespace} (created in ${scale.createMs} ms, all Running after ${scale.runningMs} ms)`,
    );
    // The figures are for a cluster at rest, as a user opening VS Code finds it: right after the
    // creates, the control plane is still busy with the pods' status updates and the first
    // session measured that (1.4–1.6 s first renders against ~0.76 s for the next ones).
    await new Promise((r) => setTimeout(r, SCALE_SETTLE_MS));
  }
  try {
    await measure(vsix, bundle, setup, scale);
  } finally {
    if (scale) await deleteScalePods(scale);
  }
}

const RENDER_RUNS = Number(process.env.BENCH_UI_RENDER_RUNS ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Opens the view in a fresh session: the extension's own "nodes shown" event (its reply with the
 * Nodes group's rows) and the time those rows appear in the workbench's DOM — the first row
 * under Nodes: a page row ("1–200") on a big cluster, else a node — both from the start of
 * activate() (the activated event's wall-clock time minus its duration).
 */
async function firstRender(s: Session): Promise<{
  activated: Record<string, unknown>;
  shown: Record<string, unknown>;
  domMs: number;
}> {
  const nodeRow = s.page
    .locator('.monaco-list-row', { hasText: /^\s*(1–\d+\s*$|rc-node-\d+)/ })
    .first()
    .waitFor({ timeout: 60_000 })
    .then(() => Date.now());
  await openRetinaView(s.page);
  const activated = await s.waitForEvent('activated', 30_000);
  const shown = await s.waitForEvent('nodesShown', 30_000);
  const domAt = await nodeRow;
  const activateStart = Number(activated.t) - Number(activated.ms);
  return { activated, shown, domMs: domAt - activateStart };
}

async function measure(
  vsix: string,
  bundle: number,
  setup: ReturnType<typeof ensureSetup>,
  scale: ScalePods | undefined,
): Promise<void> {
  // Other work on this 2-core machine moves the render figures a lot: record how busy it was.
  const load1m = os.loadavg()[0]!;
  const s = await startSession({ kubeconfig, vsix, setup });
  try {
    const first = await firstRender(s);
    const { activated, shown } = first;
    // Node rows show once nodes are listed; their pod counts follow when the pods are.
    const counted = await s.waitForEvent('nodePodsCounted', 60_000);
    // With a few nodes, check the rows are really on screen; with hundreds (scale mode) they are
    // paged, and the extension's own nodesShown event is the measurement.
    if ((shown.nodes as string[]).length <= 200) for (const n of realNodes(kubeconfig)) await revealNodeRow(s.page, n);
    await s.page.waitForTimeout(2000);
    const rss0 = exthostRss(s.eventsFile);
    for (let i = 0; i < 20; i++) {
      await runCommand(s.page, 'Retina: Refresh');
      await s.page.waitForTimeout(500);
    }
    await s.page.waitForTimeout(2000);
    const rss1 = exthostRss(s.eventsFile);
    const { toStatus, toCapturing } = await startToStatus(s);
    const activationMs = Number(activated.ms);
    // More fresh sessions for the render figures (one sample moves a lot on this machine).
    const renders = [first];
    for (let i = 1; i < RENDER_RUNS; i++) {
      const again = await startSession({ kubeconfig, vsix, setup });
      try {
        renders.push(await firstRender(again));
      } finally {
        await again.close();
      }
    }
    const renderMs = median(renders.map((r) => Number(r.shown.msSinceActivation)));
    const domMs = median(renders.map((r) => r.domMs));
    const growth = rss0 !== undefined && rss1 !== undefined ? rss1 - rss0 : null;
    writeResult(
      'ui',
      {
        activation_ms: activationMs,
        bundle_bytes: bundle,
        tree_first_render_ms: renderMs,
        tree_first_render_runs: renders.map((r) => Number(r.shown.msSinceActivation)),
        tree_first_render_dom_ms: domMs,
        tree_first_render_dom_runs: renders.map((r) => r.domMs),
        tree_first_render_nodes: (shown.nodes as string[]).length,
        // ms since activation of each step up to the first node rows (src/ui/clusterTree.ts)
        tree_first_render_stages: renders.map((r) => r.shown.stages ?? null),
        tree_pods_counted_ms: Number(counted.msSinceActivation),
        tree_pods_counted_pods: Number(counted.pods),
        scale_pods: scale?.pods ?? 0,
        scale_hollow_nodes: scale?.nodes ?? 0,
        // Scale mode: run against `npm run cluster:up -- --hollow 500` and the same figure covers it.
        tree_first_render_500_hollow_ms: (shown.nodes as string[]).length >= 500 ? renderMs : null,
        exthost_rss_bytes: rss1 ?? null,
        exthost_rss_growth_bytes: growth,
        start_to_status_ms: toStatus,
        start_to_capturing_ms: toCapturing,
        vsix_bytes: statSync(vsix).size,
        load_1m: load1m,
        code_server: JSON.parse(
          readFileSync(path.join(path.dirname(setup.codeServerEntry), '../../package.json'), 'utf8'),
        ).version,
      },
      [
        { figure: 'activation', value: activationMs, unit: 'ms', goal: '≤ 20', ok: activationMs <= 20 },
        { figure: 'main bundle', value: bundle, unit: 'bytes', goal: '≤ 1.5 MiB', ok: bundle <= 1.5 * 1024 * 1024 },
        {
          figure: `activation → nodes shown (${(shown.nodes as string[]).length} nodes, ${scale?.pods ?? 0} scale pods; extension side, median of ${renders.length})`,
          value: renderMs,
          unit: 'ms',
          goal: (shown.nodes as string[]).length >= 500 ? '≤ 1000' : undefined,
          ok: (shown.nodes as string[]).length >= 500 ? renderMs <= 1000 : undefined,
        },
        {
          figure: `activation → first Nodes rows in the workbench DOM (median of ${renders.length})`,
          value: domMs,
          unit: 'ms',
          goal: (shown.nodes as string[]).length >= 500 ? '≤ 1000' : undefined,
          ok: (shown.nodes as string[]).length >= 500 ? domMs <= 1000 : undefined,
        },
        {
          figure: `activation → node rows with pod counts (${Number(counted.pods)} pods)`,
          value: Number(counted.msSinceActivation),
          unit: 'ms',
        },
        {
          figure: 'exthost RSS growth, 20 refreshes',
          value: growth,
          unit: 'bytes',
          goal: '≤ 150 MB',
          ok: growth === null ? undefined : growth <= 150 * 1e6,
        },
        { figure: 'start → status bar', value: toStatus, unit: 'ms' },
        { figure: 'start → status bar "capturing"', value: toCapturing, unit: 'ms' },
        { figure: 'machine load (1-min loadavg at start)', value: load1m, unit: '' },
      ],
    );
    console.log({ activationMs, bundle, renderMs, domMs, rss0, rss1, growth, toStatus, toCapturing });
  } finally {
    await s.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
