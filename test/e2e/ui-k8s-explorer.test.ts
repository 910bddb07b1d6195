// The optional Kubernetes extension integration in a real VS Code: code-server with the
// Kubernetes extension (ms-kubernetes-tools.vscode-kubernetes-tools, pinned in harness/kubeExt.ts,
// with the YAML extension it depends on) and ours. In its Cluster Explorer: cluster → Nodes →
// right-click a real node → Start Capture… runs a capture on that node; node → its pods →
// right-click one → Quick Capture runs a capture on that pod. Screenshots in test/e2e/artifacts/
// (k8s-explorer-menu.png, k8s-explorer-capture.png). Skips with the reason when the two .vsix
// files are not in the tools cache.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { createNamespace, deleteNamespace, kubectl, realNodes, runPod } from './harness/cluster.js';
import { ensureSetup, ensureVsix, startSession, type Session } from './harness/codeServer.js';
import { waitForAny } from './harness/events.js';
import { findKubeExtVsix, KUBE_EXT_PIN } from './harness/kubeExt.js';
import { clickMenuEntry, focusRowByTyping, treeRow } from './harness/workbench.js';

const kubeconfig = process.env.RETINA_TEST_KUBECONFIG;
const vsix = findKubeExtVsix();
// The whole reason once; each skipped test's own line says it plainly and briefly.
if (kubeconfig && !vsix.ok) console.log(vsix.why);
const skip = !kubeconfig
  ? 'needs RETINA_TEST_KUBECONFIG'
  : !vsix.ok
    ? 'SKIPPED, as expected on a new machine and in CI: needs two third-party .vsix files (which and where: the line above)'
    : false;

let s: Session | undefined;
let ns: string | undefined;
const captures: string[] = [];

before(async () => {
  if (skip || !vsix.ok) return;
  s = await startSession({
    kubeconfig: kubeconfig!,
    vsix: ensureVsix(),
    extraVsix: [vsix.yaml, vsix.kube],
    setup: ensureSetup(),
    settings: {
      // Their kubectl is the machine's (no download), no prompts for helm/minikube/recommendations.
      'vs-kubernetes': {
        'vs-kubernetes.kubectlVersioning': 'user-provided',
        'vs-kubernetes.suppress-helm-not-found-alerts': true,
        'vs-kubernetes.ignore-recommendations': true,
        'vs-kubernetes.crd-code-completion': 'disabled',
      },
      // The YAML extension: no schema store download, no telemetry prompt.
      'yaml.schemaStore.enable': false,
      'redhat.telemetry.enabled': false,
    },
    // Dependencies of the installed .vsix are all local: a gallery query goes nowhere.
    env: {
      EXTENSIONS_GALLERY: JSON.stringify({
        serviceUrl: 'http://127.0.0.1:9/gallery',
        itemUrl: 'http://127.0.0.1:9/item',
      }),
    },
  });
});
after(async () => {
  await s?.close();
  if (!kubeconfig) return;
  if (ns) deleteNamespace(kubeconfig, ns);
  // Node captures run their Jobs in `default`: delete this test's captures only.
  for (const c of captures)
    spawnSync(
      'kubectl',
      ['--kubeconfig', kubeconfig, 'delete', 'jobs,secrets', '-n', 'default', '-l', `capture-name=${c}`],
      { stdio: 'ignore', timeout: 30_000 },
    );
});

/** Shows the Kubernetes view container (a click on its icon while shown would hide the sidebar). */
async function openKubernetesExplorer(page: Page): Promise<void> {
  const item = page.locator('.activitybar .action-item', {
    has: page.locator('[aria-label^="Kubernetes"]'),
  });
  const icon = page
    .locator(
      '.activitybar .action-item a[aria-label^="Kubernetes"], .activitybar .action-item[aria-label^="Kubernetes"]',
    )
    .first();
  await icon.waitFor({ timeout: 60_000 });
  if (!((await item.first().getAttribute('class')) ?? '').includes('checked')) await icon.click();
  await page.locator('.part.sidebar .pane-header', { hasText: 'Helm Repos' }).first().waitFor({ timeout: 30_000 });
}

/** Expands a collapsed row (a click toggles it) and leaves it focused. */
async function expand(page: Page, text: string, timeoutMs = 60_000): Promise<void> {
  const row = treeRow(page, text);
  await row.waitFor({ timeout: timeoutMs });
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
  await page
    .locator('.monaco-list-row[aria-expanded="true"]', { hasText: text })
    .first()
    .waitFor({ timeout: timeoutMs });
}

/** Capture objects of one capture name on the cluster, and the nodes its Jobs are pinned to. */
function jobNodes(kc: string, namespace: string, capture: string): string[] {
  const out = kubectl(kc, ['get', 'jobs', '-n', namespace, '-l', `capture-name=${capture}`, '-o', 'json']);
  const jobs = (JSON.parse(out) as { items: { spec: { template: { spec: { affinity?: unknown } } } }[] }).items;
  const text = JSON.stringify(jobs.map((j) => j.spec.template.spec.affinity ?? null));
  return [...new Set(text.match(/rc-node-\d+|rc-hollow-\d+/g) ?? [])].sort();
}

async function waitReady(session: Session, since: number): Promise<string> {
  const ready = await waitForAny(session, ['ready', 'commandError'], 150_000, since);
  if (ready.event === 'commandError') {
    await session.screenshot('k8s-explorer-failed');
    throw new Error(`capture failed in the ui: ${String(ready.message)}`);
  }
  const merged = ready.mergedFile as string;
  assert.ok(merged && existsSync(merged), `merged pcapng at ${merged}`);
  return merged;
}

test(
  `Cluster Explorer of ${KUBE_EXT_PIN.id}@${KUBE_EXT_PIN.version}: node row → Start Capture… captures that node`,
  { skip, timeout: 300_000 },
  async () => {
    const session = s!;
    const kc = kubeconfig!;
    const { page } = session;
    const node = realNodes(kc)[0];
    assert.ok(node, 'a real Ready node');
    const context = kubectl(kc, ['config', 'current-context']).trim();

    await openKubernetesExplorer(page);
    await expand(page, context);
    await expand(page, 'Nodes');
    // Hundreds of hollow nodes sort first and the list is virtual: type to reach the row.
    const row = await focusRowByTyping(page, node);
    await row.click({ button: 'right' });
    await page.locator('.monaco-menu .action-item', { hasText: 'Start Capture…' }).first().waitFor({ timeout: 10_000 });
    assert.ok(
      await page.locator('.monaco-menu .action-item', { hasText: 'Quick Capture' }).first().isVisible(),
      'Quick Capture is offered too',
    );
    const menuShot = await session.screenshot('k8s-explorer-menu');
    const since = Date.now();
    await clickMenuEntry(page, 'Start Capture…');

    // Duration, filter (default), output (host path), start now.
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 30_000 });
    await input.fill('10s');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');

    const req = await waitForAny(session, ['startRequested', 'commandError'], 30_000, since);
    if (req.event === 'commandError') throw new Error(`start failed in the ui: ${String(req.message)}`);
    assert.deepEqual(req.targets, [{ kind: 'node', name: node }]);
    // Resolved through their clusterExplorer API; the context read through their kubectl.
    const rows = await session.waitForEvent('kubeExplorerRows', 5_000, (e) => Number(e.t) >= since);
    assert.deepEqual(rows.rows, [{ nodeType: 'resource', kind: 'Node', name: node }]);
    assert.equal(rows.theirContext, context);
    assert.deepEqual(rows.warnings, []);
    assert.equal(req.context, context);
    const planned = await session.waitForEvent('progress', 60_000, (e) => e.type === 'planned' && Number(e.t) >= since);
    const capture = planned.capture as string;
    captures.push(capture);
    assert.deepEqual(planned.nodes, [node]);
    assert.deepEqual(jobNodes(kc, 'default', capture), [node], 'one capture Job, pinned to that node');
    const merged = await waitReady(session, since);
    await session.screenshot('k8s-explorer-capture');
    console.log(`capture ${capture} on ${node}: ${merged}; menu screenshot ${menuShot}`);
  },
);

test(
  'Cluster Explorer: a pod row under its node → Quick Capture captures that pod',
  { skip, timeout: 300_000 },
  async () => {
    const session = s!;
    const kc = kubeconfig!;
    const { page } = session;
    const node = realNodes(kc)[1] ?? realNodes(kc)[0]!;
    ns = createNamespace(kc, 'e2e-k8sext');
    // A name no other test's pod on that node has: the explorer lists a node's pods by name only.
    const podName = `k8sext-${ns.slice(-6)}`;
    await runPod(kc, ns, podName, node, ['server']);

    // Continues in the tree the first test expanded (cluster → Nodes): focus it and type.
    await openKubernetesExplorer(page);
    await page.locator('.part.sidebar .monaco-list').first().focus();
    const nodeRow = await focusRowByTyping(page, node);
    // The pods under a node are listed when it is expanded (Right expands the focused row).
    if ((await nodeRow.getAttribute('aria-expanded')) !== 'true') await page.keyboard.press('ArrowRight');
    const row = await focusRowByTyping(page, podName);
    const since = Date.now();
    await row.click({ button: 'right' });
    await clickMenuEntry(page, 'Quick Capture');

    const req = await waitForAny(session, ['startRequested', 'commandError'], 30_000, since);
    if (req.event === 'commandError') throw new Error(`start failed in the ui: ${String(req.message)}`);
    assert.deepEqual(req.targets, [{ kind: 'pod', namespace: ns, name: podName }]);
    const rows = await session.waitForEvent('kubeExplorerRows', 5_000, (e) => Number(e.t) >= since);
    assert.deepEqual(rows.rows, [{ nodeType: 'resource', kind: 'Pod', name: podName }]);
    assert.deepEqual(rows.warnings, []);
    const flow = await session.waitForEvent('startFlow', 5_000, (e) => Number(e.t) >= since);
    assert.equal(flow.quick, true);
    const planned = await session.waitForEvent('progress', 60_000, (e) => e.type === 'planned' && Number(e.t) >= since);
    captures.push(planned.capture as string);
    assert.deepEqual(planned.nodes, [node]);
    const merged = await waitReady(session, since);
    console.log(`capture ${String(planned.capture)} of ${ns}/${podName} on ${node}: ${merged}`);
  },
);
