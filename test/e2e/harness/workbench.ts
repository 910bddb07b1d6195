// Workbench gestures that survive VS Code's DOM quirks (see field notes): rows are matched by
// text, context-menu entries are hovered before they are clicked.
import type { Locator, Page } from 'playwright-core';

export async function openRetinaView(page: Page): Promise<void> {
  const icon = page
    .locator(
      '.activitybar .action-item a[aria-label^="Retina Capture"], .activitybar .action-item[aria-label^="Retina Capture"]',
    )
    .first();
  await icon.waitFor({ timeout: 60_000 });
  await icon.click();
  await page.locator('.pane-header', { hasText: 'Clusters' }).first().waitFor({ timeout: 30_000 });
}

export function treeRow(page: Page, text: string): Locator {
  return page.locator('.monaco-list-row', { hasText: text }).first();
}

export async function clickMenuEntry(page: Page, label: string): Promise<void> {
  const entry = page.locator('.monaco-menu .action-item', { hasText: label }).first();
  await entry.waitFor({ timeout: 10_000 });
  await entry.hover();
  await page.waitForTimeout(250);
  await entry.click();
}

export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${title}`);
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
}

/**
 * Waits for a node row; when the cluster has more than a page of nodes (a shared cluster with
 * hollow nodes), expands the pages from the last one (rc-node-* sort after rc-hollow-*).
 */
export async function revealNodeRow(page: Page, name: string, timeoutMs = 60_000): Promise<Locator> {
  const row = treeRow(page, name);
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await row.isVisible()) return row;
    const pages = page.locator('.monaco-list-row[aria-expanded="false"]', { hasText: /^\s*\d+–\d+\s*$/ });
    const count = await pages.count();
    if (count > 0) {
      await pages.nth(count - 1).click();
      await page.waitForTimeout(500);
      // The tree renders only the rows in view: the wanted rows end the last page, so move the
      // focus (and the view) to the tree's last row, just below them.
      await page.keyboard.press('End');
      await page.waitForTimeout(300);
      continue;
    }
    await page.waitForTimeout(500);
  }
  await row.waitFor({ timeout: 1000 });
  return row;
}

/** Palette → Start Capture… → namespace → all pods → duration. Leaves the filter box open. */
export async function paletteToFilter(page: Page, ns: string, duration = '10s'): Promise<void> {
  await runCommand(page, 'Retina: Start Capture…');
  const input = page.locator('.quick-input-widget input.input');
  // The first command activates the extension and lists the cluster: wait for the namespace pick.
  await page.locator('.quick-input-widget input[placeholder="Namespace"]').waitFor({ timeout: 45_000 });
  await input.fill(ns);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: ns }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page
    .locator('.quick-input-widget .monaco-list-row', { hasText: 'server' })
    .first()
    .waitFor({ timeout: 15_000 });
  // Multi-select pick: a click on a row toggles its checkbox.
  for (const name of ['server', 'client']) {
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().click();
    await page.waitForTimeout(200);
  }
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
  await page.waitForTimeout(500);
  await input.fill(duration);
  await page.keyboard.press('Enter');
  await page.waitForTimeout(500);
}

/**
 * Focuses a row of the focused tree by typing its label (VS Code's type navigation), for rows a
 * virtual list has not rendered yet (a node among hundreds); resolves to the focused row.
 */
export async function focusRowByTyping(page: Page, label: string, timeoutMs = 60_000): Promise<Locator> {
  const focused = page.locator('.monaco-list-row.focused', { hasText: label }).first();
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    await page.keyboard.type(label, { delay: 30 });
    try {
      await focused.waitFor({ timeout: 3000 });
      return focused;
    } catch {
      // Rows still loading, or the typed prefix timed out: type again.
      await page.waitForTimeout(1000);
    }
  }
  await focused.waitFor({ timeout: 1000 });
  return focused;
}
