// Rules for the names inside a capture archive (split from unpack.ts): what an entry may be
// called before anything is created for it.
import { MAX_COMPONENT_BYTES, unprintableProblem } from '../contract/index.js';

/** An archive that breaks a rule. `entry` is the path as the archive names it. */
export class UnpackError extends Error {
  constructor(
    readonly entry: string | undefined,
    readonly rule: string,
  ) {
    super(entry === undefined ? `archive rejected: ${rule}` : `archive entry ${entry}: ${rule}`);
    this.name = 'UnpackError';
  }
}

// Windows: reserved characters (':' would also open an alternate data stream) and device names.
const WIN_BAD_CHARS = /[<>:"|?*]/;
const WIN_DEVICE = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;
/**
 * Whole relative path, in UTF-8 bytes: the target folder must still fit in PATH_MAX (4096 on
 * Linux, 1024 on macOS), and the worker's own names are far shorter.
 */
export const MAX_ENTRY_PATH_BYTES = 512;

/** An entry name shown in an error: long names are cut so the message stays readable. */
export function shownName(raw: string): string {
  return raw.length > 200 ? `${raw.slice(0, 120)}…(${raw.length} characters)` : raw;
}

/**
 * Checks an entry's path and returns its normalised components. Throws UnpackError naming
 * the entry and the rule it breaks. `platform` adds Windows' name rules there (tests pass it).
 */
export function checkEntryPath(raw: string, maxDepth: number, platform: NodeJS.Platform = process.platform): string[] {
  if (raw.includes('\\')) throw new UnpackError(raw, 'path contains a backslash');
  // Control, DEL, C1 and bidi-override characters make the listed name differ from the real one.
  const unprintable = unprintableProblem(raw);
  if (unprintable) throw new UnpackError(raw, `path ${unprintable}`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw new UnpackError(raw, 'absolute path');
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnpackError(raw, 'path escapes the target folder');
  if (parts.length > maxDepth) throw new UnpackError(raw, `path is deeper than ${maxDepth} levels`);
  if (parts.some((p) => Buffer.byteLength(p, 'utf8') > MAX_COMPONENT_BYTES)) {
    throw new UnpackError(shownName(raw), `a path component is longer than ${MAX_COMPONENT_BYTES} bytes`);
  }
  if (Buffer.byteLength(parts.join('/'), 'utf8') > MAX_ENTRY_PATH_BYTES) {
    throw new UnpackError(shownName(raw), `path is longer than ${MAX_ENTRY_PATH_BYTES} bytes`);
  }
  if (platform === 'win32') {
    for (const p of parts) {
      if (WIN_BAD_CHARS.test(p) || WIN_DEVICE.test(p) || /[. ]$/.test(p)) {
        throw new UnpackError(raw, 'path is not a valid Windows file name');
      }
    }
  }
  return parts;
}

/** fs errors (ENAMETOOLONG, ENOSPC, EEXIST…) become rule errors naming the entry, not a local path. */
export function asUnpackError(err: unknown, entry: string): unknown {
  if (err instanceof UnpackError || !(err instanceof Error)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (!code) return err;
  const why: Record<string, string> = {
    ENAMETOOLONG: 'name is too long for this file system',
    ENOSPC: "the download folder's disk is full",
    EEXIST: 'path exists already (two names for one file on this file system)',
    EILSEQ: 'name is not valid on this file system',
    EINVAL: 'name is not valid on this file system',
  };
  return new UnpackError(shownName(entry), `cannot be written: ${why[code] ?? code}`);
}
