// Golden files: the expected JSON lives in golden/<name>.json. `UPDATE_GOLDEN=1` rewrites them;
// otherwise any difference (or a missing file) fails the test, and the diff is the review.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');

export function assertGolden(name: string, value: unknown): void {
  const file = path.join(dir, `${name}.json`);
  const actual = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `golden file ${name}.json is missing; run with UPDATE_GOLDEN=1 and review it`);
  // Compared as data, not text: prettier may reflow the checked-in JSON without changing it.
  assert.deepEqual(
    JSON.parse(actual) as unknown,
    JSON.parse(readFileSync(file, 'utf8')) as unknown,
    `${name}.json differs; if intended, run with UPDATE_GOLDEN=1`,
  );
}
