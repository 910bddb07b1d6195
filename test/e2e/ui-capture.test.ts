// The whole user path in a real VS Code: multi-select two nodes → right-click → Start
// Capture… with a filter → status bar counts down → "ready" notification → merged pcapng that
// tshark reads → "Open in Wireshark" starts real Wireshark under Xvfb (screenshot).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, ensureSetup, ensureVsix, startSession, type Session } from './harness/codeServer.js';
import { clickMenuEntry, openRetinaView, revealNodeRow, treeRow } from './harness/workbench.js';

const kubeconfig = process.env.RETINA_TEST_KUBECONFIG;
const DISPLAY = ':77';
let s: Session | undefined;
let xvfb: ChildProcess | undefined;
let traffic: ChildProcess | undefined;

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
  await s?.close();
  for (const c of [traffic, xvfb])
    if (c?.pid)
      try {
        process.kill(-c.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
});

test(
  'two nodes → Start Capture… → status → ready → tshark → Wireshark',
  { skip: !kubeconfig && 'needs RETINA_TEST_KUBECONFIG', timeout: 420_000 },
  async () => {
    const session = s!;
    const { page } = session;
    await openRetinaView(page);
    await revealNodeRow(page, 'rc-node-1');
    await revealNodeRow(page, 'rc-node-2');
    await treeRow(page, 'rc-node-1').click();
    await treeRow(page, 'rc-node-2').click({ modifiers: ['Control'] });
    await treeRow(page, 'rc-node-2').click({ button: 'right' });
    await clickMenuEntry(page, 'Start Capture…');

    // Duration, filter, output, go.
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill('20s');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    await input.fill('icmp or tcp');
    await page.waitForTimeout(200);
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter'); // host path
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter'); // start now
    const req = await session.waitForEvent('startRequested', 15_000);
    assert.deepEqual(req.targets, [
      { kind: 'node', name: 'rc-node-1' },
      { kind: 'node', name: 'rc-node-2' },
    ]);
    assert.equal(req.filter, 'icmp or tcp');

    // Traffic between the two node namespaces while they capture (our own test addresses only).
    traffic = spawn('ip', ['netns', 'exec', 'rc-node-1', 'ping', '-c', '40', '-i', '0.5', '198.18.0.12'], {
      stdio: 'ignore',
      detached: true,
    });

    const status = await session.waitForEvent(
      'status',
      120_000,
      (e) => typeof e.text === 'string' && /capturing/.test(e.text),
    );
    console.log(`status bar: ${String(status.text)}`);
    await session.screenshot('capture-running');
    // Fail fast with the ui's own message when the capture fails (the notification says the same).
    const ready = await Promise.race([
      session.waitForEvent('ready', 240_000),
      session.waitForEvent('commandError', 240_000).then(async (e) => {
        await session.screenshot('capture-failed');
        throw new Error(`capture failed in the ui: ${String(e.message)}`);
      }),
    ]);
    const merged = ready.mergedFile as string;
    assert.ok(merged && existsSync(merged), `merged pcapng at ${merged}`);
    const ts = spawnSync('tshark', ['-r', merged, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
    const packets = ts.stdout.trim().split('\n').filter(Boolean).length;
    console.log(`tshark: ${packets} packets in ${merged}`);
    assert.ok(packets > 0, 'tshark finds traffic');
    await session.screenshot('capture-ready');

    const open = page.locator('.notifications-toasts .monaco-button', { hasText: 'Open in Wireshark' }).first();
    await open.waitFor({ timeout: 30_000 });
    await open.click();
    const started = await session.waitForEvent('wiresharkStarted', 30_000);
    console.log(`wireshark pid ${String(started.pid)} version ${String(started.version)}`);
    await new Promise((r) => setTimeout(r, 8000));
    const shot = path.join(ARTIFACTS, 'wireshark.png');
    spawnSync('sh', ['-c', `xwd -root -silent -display ${DISPLAY} | convert xwd:- ${shot}`]);
    assert.ok(existsSync(shot));
    try {
      process.kill(started.pid as number, 'SIGTERM');
    } catch {
      /* gone */
    }
  },
);
