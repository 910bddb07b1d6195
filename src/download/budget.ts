// Disk budget of an unpack: a hostile or broken archive must not fill the user's disk. Three
// bounds, the smallest wins: bytes per archive (UnpackLimits.maxTotalBytes), bytes per capture
// (one DiskBudget shared by every archive of a download, parallel ones included), and the free
// space of the target's filesystem minus a margin (fs.statfs, read when each archive starts).
import { statfs } from 'node:fs/promises';
import { UnpackError } from './entryRules.js';

/** Free bytes for an unprivileged writer on the filesystem holding `dir`. */
export type FreeSpace = (dir: string) => Promise<number>;

export const statfsFreeSpace: FreeSpace = async (dir) => {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
};

const FIX = 'free some space or choose another download folder (setting retinaCapture.downloadFolder)';

function mib(n: number): string {
  return `${(n / 1024 ** 2).toFixed(n < 10 * 1024 ** 2 ? 1 : 0)} MiB`;
}

/** One per capture download; every archive of it draws from the same budget. */
export class DiskBudget {
  private used = 0;
  /** Fixed at the first archive: min(maxCaptureBytes, free space then − margin). */
  private cap: number | undefined;

  constructor(
    readonly maxCaptureBytes: number,
    readonly minFreeBytes: number,
    private readonly freeSpace: FreeSpace = statfsFreeSpace,
  ) {}

  /**
   * Called as an archive starts: the bytes it may write before the disk's margin is reached,
   * or an UnpackError when the disk is already too full to start.
   */
  async open(dir: string): Promise<number> {
    const free = await this.freeSpace(dir);
    const room = free - this.minFreeBytes;
    this.cap ??= Math.min(this.maxCaptureBytes, Math.max(0, room));
    if (room <= 0) {
      throw new UnpackError(
        undefined,
        `only ${mib(free)} free on the download folder's disk and ${mib(this.minFreeBytes)} must stay free: ${FIX}`,
      );
    }
    return room;
  }

  /** Bytes the capture may still write. */
  get remaining(): number {
    return (this.cap ?? this.maxCaptureBytes) - this.used;
  }

  /** The rule an archive breaks when it outgrows the room open() gave it. */
  lowSpaceRule(): string {
    return this.minFreeBytes > 0
      ? `unpacking would leave less than ${mib(this.minFreeBytes)} free on the download folder's disk: ${FIX}`
      : `the files do not fit on the download folder's disk: ${FIX}`;
  }

  /** The rule broken when the capture's budget is spent. */
  overRule(): string {
    return this.cap !== undefined && this.cap < this.maxCaptureBytes
      ? this.lowSpaceRule()
      : `the capture's unpacked files exceed the ${this.maxCaptureBytes}-byte budget per capture`;
  }

  /** Counts `n` more bytes written; throws when the capture's budget is spent. */
  take(n: number, entry: string): void {
    if (this.used + n > (this.cap ?? this.maxCaptureBytes)) throw new UnpackError(entry, this.overRule());
    this.used += n;
  }

  /** Gives back what a failed (and removed) archive had written. */
  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

/**
 * Compression-ratio guard. Real captures compress a few times (headers, timestamps and
 * payloads vary); deflate tops out near 1032:1, so a bomb sits between `limit` and that.
 * Checked only once `minBytes` have come out, so tiny archives (mostly tar padding) pass.
 */
export function ratioProblem(outBytes: number, inBytes: number, limit: number, minBytes: number): string | undefined {
  if (outBytes < minBytes || inBytes <= 0) return undefined;
  const ratio = outBytes / inBytes;
  return ratio > limit
    ? `compression ratio over ${limit}:1 (${Math.round(ratio)}:1 so far): a decompression bomb, real captures compress a few times`
    : undefined;
}

/**
 * The merge writes a second copy of every packet file: when that would eat into the margin,
 * say so (the per-node files stay usable) instead of filling the disk.
 */
export async function mergeRoomProblem(
  folder: string,
  bytesNeeded: number,
  minFreeBytes: number,
  freeSpace: FreeSpace = statfsFreeSpace,
): Promise<string | undefined> {
  const free = await freeSpace(folder);
  if (free - minFreeBytes >= bytesNeeded) return undefined;
  return `not merged: the merged file needs about ${mib(bytesNeeded)} and only ${mib(free)} is free on the download folder's disk (${mib(minFreeBytes)} must stay free); the per-node files are in ${folder}`;
}
