// bench:ui — the extension in a real code-server: activation time (measured inside activate),
// main bundle size, time from activation to the three nodes shown, extension-host RSS growth
// over tree refreshes. Needs the test cluster (RETINA_TEST_KUBECONFIG or the default state dir).
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeResult } from './lib/report.js';
import { ensureSetup, ensureVsix, ROOT, startSession } from '../e2e/harness/codeServer.js';
import { openRetinaView, treeRow } from '../e2e/harness/workbench.js';

const kubeconfig = process.env.RETINA_TEST_KUBECONFIG ?? path.join(ROOT, '.cache/cluster/state/admin.kubeconfig');

function exthostRss(userDataDir: string): number | undefined {
  // The extension host is a node child of code-server whose command line names our user-data dir.
  const out = execFileSync('ps', ['-eo', 'pid=,rss=,args='], { encoding: 'utf8' });
  const line = out
    .split('\n')
    .find((l) => l.includes('extensionHost') || (l.includes(userDataDir) && l.includes('type=extensionHost')));
  const rss = line ? Number(line.trim().split(/\s+/)[1]) : NaN;
  return Number.isFinite(rss) ? rss * 1024 : undefined;
}

async function main(): Promise<void> {
  const vsix = ensureVsix();
  const bundle = statSync(path.join(ROOT, 'dist/extension.cjs')).size;
  const s = await startSession({ kubeconfig, vsix, setup: ensureSetup() });
  try {
    await openRetinaView(s.page);
    for (const n of ['rc-node-1', 'rc-node-2', 'rc-node-3']) await treeRow(s.page, n).waitFor({ timeout: 60_000 });
    const activated = await s.waitForEvent('activated', 30_000);
    const shown = await s.waitForEvent('nodesShown', 30_000);
    const rss0 = exthostRss(s.userDataDir);
    for (let i = 0; i < 20; i++) {
      await s.page.keyboard.press('F1');
      await s.page.keyboard.type('>Retina: Refresh');
      await s.page.waitForTimeout(200);
      await s.page.keyboard.press('Enter');
      await s.page.waitForTimeout(500);
    }
    const rss1 = exthostRss(s.userDataDir);
    const activationMs = Number(activated.ms);
    const renderMs = Number(shown.msSinceActivation);
    const growth = rss0 !== undefined && rss1 !== undefined ? rss1 - rss0 : null;
    writeResult(
      'ui',
      {
        activation_ms: activationMs,
        bundle_bytes: bundle,
        tree_first_render_ms: renderMs,
        exthost_rss_growth_bytes: growth,
        start_to_status_ms: null,
        vsix_bytes: statSync(vsix).size,
        code_server: JSON.parse(
          readFileSync(path.join(ROOT, '.cache/e2e/code-server/node_modules/code-server/package.json'), 'utf8'),
        ).version,
      },
      [
        { figure: 'activation', value: activationMs, unit: 'ms', goal: '≤ 20', ok: activationMs <= 20 },
        { figure: 'main bundle', value: bundle, unit: 'bytes', goal: '≤ 1.5 MiB', ok: bundle <= 1.5 * 1024 * 1024 },
        { figure: 'activation → nodes shown', value: renderMs, unit: 'ms' },
        { figure: 'exthost RSS growth, 20 refreshes', value: growth, unit: 'bytes' },
      ],
    );
    console.log({ activationMs, bundle, renderMs, growth });
  } finally {
    await s.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
