// Host path (and PVC) output: the archive appears under its final name only when complete —
// written to a hidden temporary name in the same directory, then renamed (atomic on one
// filesystem), so a reader (Retina's download pod, our helper pod) never sees half a file.
import { constants } from 'node:fs';
import { copyFile, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * A fresh temp name in the shared host folder: random, so no one can plant a symlink there in
 * advance (the pid is 1 in every container); the writers also create it exclusively.
 */
export function tempPathFor(dir: string, name: string): string {
  const nonce = process.getBuiltinModule('node:crypto').randomBytes(8).toString('hex');
  return path.join(dir, `.${name}.partial-${nonce}`);
}

async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Renames a finished temp file (in `dir`) to its final name; returns the final path. */
export async function publish(tmp: string, dir: string, name: string): Promise<string> {
  const final = path.join(dir, name);
  await fsyncPath(tmp);
  await rename(tmp, final);
  await fsyncPath(dir).catch(() => undefined); // directory entry durability; not all filesystems allow it
  return final;
}

/** Copies `src` into `dir` as `name` through a temp name. */
export async function copyInto(src: string, dir: string, name: string): Promise<string> {
  const tmp = tempPathFor(dir, name);
  try {
    // COPYFILE_EXCL: fails on anything at tmp, a dangling symlink included, instead of following it.
    await copyFile(src, tmp, constants.COPYFILE_EXCL);
    return await publish(tmp, dir, name);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
