// A newcomer's first capture in a running sandbox, done by a browser: open the sandbox's VS Code,
// Retina view → Clusters → right-click rc-node-2 → Start Capture… (10 s, no filter, host path,
// start now) → the Captures view shows the capture done. Screenshots in .cache/sandbox/check/.
//
//   npm run sandbox            (in one terminal; leave it running)
//   npm run sandbox:check      (in another; the URL comes from .cache/sandbox/state.json, or pass it)
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT } from '../e2e/harness/codeServer.js';
import { clickMenuEntry, openRetinaView, revealNodeRow } from '../e2e/harness/workbench.js';

const DIR = path.join(ROOT, '.cache/sandbox');
const OUT = path.join(DIR, 'check');
const NODE = process.env.SANDBOX_CHECK_NODE ?? 'rc-node-2';

function sandboxUrl(): string {
  if (process.argv[2]) return process.argv[2];
  try {
    const state = JSON.parse(readFileSync(path.join(DIR, 'state.json'), 'utf8')) as { url?: string };
    if (state.url) return state.url;
  } catch {
    // no state: no sandbox
  }
  throw new Error('no running sandbox found (.cache/sandbox/state.json has no url): start `npm run sandbox` first');
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const url = sandboxUrl();
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(OUT, `${name}.png`) });
  const t0 = Date.now();
  const say = (msg: string): void => console.error(`[sandbox:check] ${((Date.now() - t0) / 1000).toFixed(1)} s ${msg}`);
  try {
    await page.goto(url);
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    await openRetinaView(page);
    const row = await revealNodeRow(page, NODE);
    say(`${NODE} is in the Clusters tree`);
    await row.click({ button: 'right' });
    await clickMenuEntry(page, 'Start Capture…');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill('10s');
    await page.keyboard.press('Enter'); // duration
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter'); // no filter
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter'); // host path
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter'); // start now
    say('Start Capture… answered (10 s, no filter, host path)');

    // The Captures view's row: "1/1 capturing" while it runs, "1 node · <size>" with a pass icon when done.
    const captures = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Captures' }) });
    const running = captures.locator('.monaco-list-row', { hasText: /capturing/ }).first();
    await running.waitFor({ timeout: 90_000 });
    say(`running: ${(await running.innerText()).replace(/\s+/g, ' ')}`);
    await shot('running');
    const done = captures.locator('.monaco-list-row', { has: page.locator('.codicon-pass'), hasText: /1 node/ });
    await done.first().waitFor({ timeout: 120_000 });
    say(`done: ${(await done.first().innerText()).replace(/\s+/g, ' ')}`);
    await shot('done');
    const failed = await captures.locator('.monaco-list-row', { has: page.locator('.codicon-error') }).count();
    if (failed) throw new Error(`${failed} capture row(s) show an error icon`);
    console.log(`sandbox check passed: a capture on ${NODE} ran and shows done (screenshots in ${OUT})`);
  } catch (e) {
    await shot('failed').catch(() => undefined);
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e: unknown) => {
  console.error(`[sandbox:check] FAILED: ${e instanceof Error ? e.message : String(e)}`);
  console.error(
    `[sandbox:check]   screenshot: ${path.join(OUT, 'failed.png')}; sandbox log: ${path.join(DIR, 'code-server.log')}`,
  );
  process.exit(1);
});
