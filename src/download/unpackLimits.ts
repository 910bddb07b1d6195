// Limits, options and result of an unpack (split from unpack.ts, which re-exports them).
import type { CaptureManifest } from '../contract/index.js';
import type { DiskBudget, FreeSpace } from './budget.js';

export interface UnpackLimits {
  /** Entries of any kind (directories included). */
  maxEntries: number;
  /** Size of one file, as declared and as read. */
  maxEntryBytes: number;
  /** Sum of all file sizes. */
  maxTotalBytes: number;
  /** Path components of one entry (`a/b/c` has depth 3). */
  maxDepth: number;
  /** manifest.json is parsed in memory: keep it small. */
  maxManifestBytes: number;
  /** Sum over every archive of one capture (when they share a DiskBudget). */
  maxCaptureBytes: number;
  /** Free space the unpack leaves on the target's filesystem. */
  minFreeBytes: number;
  /** Decompressed ÷ compressed bytes of a gzipped archive. */
  maxCompressionRatio: number;
  /** The ratio is judged once this many bytes came out (small archives are mostly padding). */
  ratioCheckAfterBytes: number;
}

export const DEFAULT_UNPACK_LIMITS: Readonly<UnpackLimits> = Object.freeze({
  maxEntries: 10_000,
  maxEntryBytes: 4 * 1024 ** 3,
  maxTotalBytes: 16 * 1024 ** 3,
  maxDepth: 16,
  maxManifestBytes: 8 * 1024 ** 2,
  maxCaptureBytes: 64 * 1024 ** 3,
  minFreeBytes: 1024 ** 3,
  // Real captures compress 2-10:1 (zero-payload traffic a few dozen); deflate's ceiling is
  // ~1032:1, so zero-filled bombs sit at ~1000:1.
  maxCompressionRatio: 500,
  ratioCheckAfterBytes: 1024 ** 2,
});

export interface UnpackedFile {
  /** Relative, `/`-separated. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface UnpackResult {
  /** The fresh private folder (mode 0700) holding the archive's contents. */
  dir: string;
  files: UnpackedFile[];
  /** Parsed manifest.json when the archive has one; its checksums were verified. */
  manifest?: CaptureManifest;
}

export interface UnpackOptions {
  /** Name prefix of the folder created inside targetParent (default `unpack-`). */
  prefix?: string;
  /** Compressed (input) bytes consumed so far. */
  onProgress?: (inputBytes: number) => void;
  /** Shared by the archives of one capture (default: a budget for this archive alone). */
  budget?: DiskBudget;
  /** Free-space probe for a budget made here (default fs.statfs; tests fake it). */
  freeSpace?: FreeSpace;
}
