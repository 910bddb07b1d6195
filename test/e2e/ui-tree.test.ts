// The extension in a real VS Code (code-server + chromium): the Clusters view shows the test
// cluster's three nodes, fed by informers. Screenshot: test/e2e/artifacts/clusters-view.png.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureSetup, ensureVsix, startSession, type Session } from './harness/codeServer.js';
import { openRetinaView, revealNodeRow } from './harness/workbench.js';

const kubeconfig = process.env.RETINA_TEST_KUBECONFIG;
let s: Session | undefined;

before(async () => {
  if (!kubeconfig) return;
  s = await startSession({ kubeconfig, vsix: ensureVsix(), setup: ensureSetup() });
});
after(async () => s?.close());

test(
  'Clusters view lists rc-node-1..3',
  { skip: !kubeconfig && 'needs RETINA_TEST_KUBECONFIG', timeout: 240_000 },
  async () => {
    const session = s!;
    const activated = await session.waitForEvent('activated', 60_000).catch(() => undefined);
    await openRetinaView(session.page);
    const a = activated ?? (await session.waitForEvent('activated', 30_000));
    assert.equal(a.kubeconfig, true, 'the extension found the kubeconfig');
    for (const n of ['rc-node-1', 'rc-node-2', 'rc-node-3']) await revealNodeRow(session.page, n);
    const shown = await session.waitForEvent('nodesShown', 30_000);
    for (const n of ['rc-node-1', 'rc-node-2', 'rc-node-3'])
      assert.ok((shown.nodes as string[]).includes(n), `${n} in ${JSON.stringify(shown.nodes)}`);
    const shot = await session.screenshot('clusters-view');
    console.log(`screenshot: ${shot}; activation ${String(a.ms)} ms`);
  },
);
