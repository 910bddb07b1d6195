// One `up`/`down` at a time per machine: two test runs starting together must not see each
// other's half-started cluster as "dead" and tear it down. The lock is a file holding the
// owner's pid; a lock whose owner is gone is taken over.
import { openSync, closeSync, writeSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { isAlive } from './proc.js';
import { waitFor } from './wait.js';

function tryLock(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch {
    const owner = Number(readFileSafe(file).trim());
    if (!Number.isInteger(owner) || owner <= 0 || (!isAlive(owner) && owner !== process.pid)) {
      // Stale (owner died): remove and retry on the next poll.
      try {
        unlinkSync(file);
      } catch {
        /* raced with another taker */
      }
    }
    return false;
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export async function withLock<T>(
  file: string,
  what: string,
  fn: () => Promise<T>,
  timeoutMs = 15 * 60_000,
): Promise<T> {
  mkdirSync(path.dirname(file), { recursive: true });
  let announced = false;
  await waitFor(
    `the cluster lock ${file} (held by pid ${readFileSafe(file).trim() || '?'})`,
    () => {
      if (tryLock(file)) return true;
      if (!announced) {
        console.error(`[cluster] waiting for another ${what} (pid ${readFileSafe(file).trim()}) to finish`);
        announced = true;
      }
      return false;
    },
    { timeoutMs, intervalMs: 250 },
  );
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
}
