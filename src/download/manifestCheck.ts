// manifest.json of a capture archive (split from unpack.ts): parsed with a size cap by the
// unpacker, then every file it lists is checked against what was written.
import type { CaptureManifest, ManifestFile } from '../contract/index.js';
import { UnpackError } from './entryRules.js';

export const MANIFEST = 'manifest.json';

export interface WrittenFile {
  path: string;
  bytes: number;
  sha256: string;
}

export function parseManifest(text: string): CaptureManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UnpackError(MANIFEST, `not valid JSON (${(err as Error).message})`);
  }
  const m = value as Partial<CaptureManifest> | null;
  if (!m || typeof m !== 'object' || !Array.isArray(m.files)) {
    throw new UnpackError(MANIFEST, 'has no files list');
  }
  for (const f of m.files as unknown[]) {
    const e = f as Partial<ManifestFile> | null;
    if (
      !e ||
      typeof e.path !== 'string' ||
      typeof e.bytes !== 'number' ||
      typeof e.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/i.test(e.sha256)
    ) {
      throw new UnpackError(MANIFEST, 'has a malformed files entry');
    }
  }
  return m as CaptureManifest;
}

export function verifyManifest(manifest: CaptureManifest, files: Map<string, WrittenFile>): void {
  for (const f of manifest.files) {
    const rel = f.path
      .split('/')
      .filter((p) => p !== '' && p !== '.')
      .join('/');
    const got = files.get(rel);
    if (!got) throw new UnpackError(f.path, 'listed in manifest.json but missing from the archive');
    if (got.bytes !== f.bytes) {
      throw new UnpackError(f.path, `size ${got.bytes} does not match manifest.json (${f.bytes})`);
    }
    if (got.sha256 !== f.sha256.toLowerCase()) throw new UnpackError(f.path, 'sha256 does not match manifest.json');
  }
}
