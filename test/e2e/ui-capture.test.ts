// The whole user path in a real VS Code: multi-select two nodes → right-click → Start
// Capture… (10 s, filter) → status bar counts down → "ready" notification → merged pcapng that
// tshark reads (traffic pods of this test's namespace) → "Open in Wireshark" starts the real
// Wireshark under Xvfb on that file (argv checked, screenshot test/e2e/artifacts/wireshark.png).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createNamespace, deleteNamespace, kubectl, realNodes, startTraffic, tsharkCount } from './harness/cluster.js';
import { ARTIFACTS, ensureSetup, ensureVsix, startSession, type Session } from './harness/codeServer.js';
import { waitForAny } from './harness/events.js';
import { clickMenuEntry, openRetinaView, revealNodeRow, treeRow } from './harness/workbench.js';

const kubeconfig = process.env.RETINA_TEST_KUBECONFIG;
const DISPLAY = ':77';
let s: Session | undefined;
let xvfb: ChildProcess | undefined;
let ns: string | undefined;
let capture: string | undefined;
let wiresharkPid: number | undefined;

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  for (const target of [-pid, pid])
    try {
      process.kill(target, 'SIGTERM');
    } catch {
      /* gone */
    }
}

before(async () => {
  if (!kubeconfig) return;
  const setup = ensureSetup();
  xvfb = spawn('Xvfb', [DISPLAY, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
    stdio: 'ignore',
    detached: true,
  });
  s = await startSession({ kubeconfig, vsix: ensureVsix(), setup, env: { DISPLAY } });
});
after(async () => {
  killGroup(wiresharkPid);
  await s?.close();
  killGroup(xvfb?.pid);
  if (kubeconfig && ns) deleteNamespace(kubeconfig, ns);
  // Node captures run their Jobs in `default`: delete this test's capture only.
  if (kubeconfig && capture)
    spawnSync(
      'kubectl',
      ['--kubeconfig', kubeconfig, 'delete', 'jobs,secrets', '-n', 'default', '-l', `capture-name=${capture}`],
      { stdio: 'ignore', timeout: 30_000 },
    );
});

test(
  'two nodes → Start Capture… → status → ready → tshark → Wireshark',
  { skip: !kubeconfig && 'needs RETINA_TEST_KUBECONFIG', timeout: 180_000 },
  async () => {
    const session = s!;
    const kc = kubeconfig!;
    const nodes = realNodes(kc);
    assert.ok(nodes.length >= 2, `two real Ready nodes, have ${nodes.join(', ')}`);
    const [n1, n2] = [nodes[0]!, nodes[1]!];
    ns = createNamespace(kc, 'e2e-nodes');
    const traffic = await startTraffic(kc, ns, n2, n1);
    console.log(`traffic ${traffic.clientIP} (${n1}) → ${traffic.serverIP} (${n2}) in ${ns}`);

    const { page } = session;
    await openRetinaView(page);
    await revealNodeRow(page, n1);
    await revealNodeRow(page, n2);
    await treeRow(page, n1).click();
    await treeRow(page, n2).click({ modifiers: ['Control'] });
    await treeRow(page, n2).click({ button: 'right' });
    await clickMenuEntry(page, 'Start Capture…');

    // Duration, filter, output, go.
    const filter = 'tcp port 8080 or udp port 9000';
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill('10s');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    await input.fill(filter);
    await page.waitForTimeout(200);
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter'); // host path
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter'); // start now
    const req = await session.waitForEvent('startRequested', 15_000);
    assert.deepEqual(req.targets, [
      { kind: 'node', name: n1 },
      { kind: 'node', name: n2 },
    ]);
    assert.equal(req.filter, filter);
    const planned = await session.waitForEvent('progress', 60_000, (e) => e.type === 'planned');
    capture = planned.capture as string;

    const status = await waitForAny(session, ['status', 'commandError'], 90_000);
    if (status.event === 'commandError') throw new Error(`capture failed in the ui: ${String(status.message)}`);
    const counting = await session.waitForEvent(
      'status',
      90_000,
      (e) => typeof e.text === 'string' && /capturing.*left/.test(e.text),
    );
    console.log(`status bar: ${String(counting.text)}`);
    await session.screenshot('capture-running');
    // Fail fast with the ui's own message when the capture fails (the notification says the same).
    const ready = await waitForAny(session, ['ready', 'commandError'], 120_000);
    if (ready.event === 'commandError') {
      await session.screenshot('capture-failed');
      throw new Error(`capture failed in the ui: ${String(ready.message)}`);
    }
    const merged = ready.mergedFile as string;
    assert.ok(merged && existsSync(merged), `merged pcapng at ${merged}`);
    const http = tsharkCount(merged, `ip.addr==${traffic.serverIP} && tcp.port==8080`);
    const udp = tsharkCount(merged, `ip.addr==${traffic.serverIP} && udp.port==9000`);
    const other = tsharkCount(merged, 'not (tcp.port==8080 or udp.port==9000)');
    console.log(`tshark: ${http} HTTP and ${udp} UDP packets of the test traffic, ${other} others, in ${merged}`);
    assert.ok(http > 0 && udp > 0, 'tshark finds the test traffic');
    assert.equal(other, 0, 'the filter was applied');
    await session.screenshot('capture-ready');

    const open = page.locator('.notifications-toasts .monaco-button', { hasText: 'Open in Wireshark' }).first();
    await open.waitFor({ timeout: 30_000 });
    await open.click();
    const started = await waitForAny(session, ['wiresharkStarted', 'wiresharkMissing', 'commandError'], 30_000);
    assert.equal(started.event, 'wiresharkStarted', JSON.stringify(started));
    wiresharkPid = started.pid as number;
    const argv = readFileSync(`/proc/${wiresharkPid}/cmdline`, 'utf8').split('\0');
    console.log(`wireshark pid ${wiresharkPid} version ${String(started.version)} argv ${argv.join(' ')}`);
    assert.ok(argv.includes(merged), `Wireshark has ${merged} in its argv`);
    // Wireshark 4.0 shows the packet list within a few seconds; give it time to load under load.
    await new Promise((r) => setTimeout(r, 8000));
    const shot = path.join(ARTIFACTS, 'wireshark.png');
    spawnSync('sh', ['-c', `xwd -root -silent -display ${DISPLAY} | convert xwd:- ${shot}`], { timeout: 30_000 });
    assert.ok(existsSync(shot), 'screenshot written');
    assert.ok(existsSync(`/proc/${wiresharkPid}`), 'Wireshark still running after opening the file');
    // No capture objects left in the test namespace (node captures run in default).
    assert.equal(kubectl(kc, ['get', 'jobs', '-n', ns, '-o', 'name']).trim(), '');
  },
);
