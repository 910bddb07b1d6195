// Safe, streaming unpack of a capture archive (`<capture>-<node>-<ts>UTC.tar.gz`).
//
// tar's own Unpack is safe against escapes by default (see field-notes), but it skips bad
// entries with a warning and creates links, devices and whatever else the archive asks for.
// Here tar is only the *parser* (headers, PAX, GNU long names): every entry goes through an
// allow-list (regular files and directories), path rules and size caps, and the bytes are
// written by this module into a fresh private folder with O_EXCL|O_NOFOLLOW, hashed on the
// way. Any rejected entry fails the whole unpack and removes the partial folder.
import { createHash, type Hash } from 'node:crypto';
import { constants as fsc, createReadStream, closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { assertSafePathComponent, type CaptureManifest } from '../contract/index.js';
import { DiskBudget, ratioProblem } from './budget.js';
import { asUnpackError, checkEntryPath, UnpackError } from './entryRules.js';
import { MANIFEST, parseManifest, verifyManifest } from './manifestCheck.js';
import { readHead } from './streamHead.js';
import {
  DEFAULT_UNPACK_LIMITS,
  type UnpackedFile,
  type UnpackLimits,
  type UnpackOptions,
  type UnpackResult,
} from './unpackLimits.js';

export { checkEntryPath, UnpackError } from './entryRules.js';
export { DiskBudget, mergeRoomProblem, type FreeSpace } from './budget.js';
export {
  DEFAULT_UNPACK_LIMITS,
  type UnpackedFile,
  type UnpackLimits,
  type UnpackOptions,
  type UnpackResult,
} from './unpackLimits.js';

const CASE_INSENSITIVE = process.platform === 'win32' || process.platform === 'darwin';
const O_NOFOLLOW = fsc.O_NOFOLLOW ?? 0;
const MAX_TRAILING = 16 * 1024 * 1024;

type Source = Readable | string;

interface ParsedEntry {
  type: string;
  path: string;
  size: number;
  on(ev: 'data', fn: (c: Buffer) => void): unknown;
  on(ev: 'end', fn: () => void): unknown;
  resume(): unknown;
}

/**
 * Streams a (gzipped or plain) tar archive into a fresh folder `mkdtemp(targetParent/prefix)`.
 * Rejects anything that is not a regular file or a directory, unsafe paths and archives over
 * the limits; verifies every file listed in manifest.json (bytes and sha256). On any failure
 * or abort the partial folder is removed and the error is thrown.
 */
export async function unpackArchive(
  source: Source,
  targetParent: string,
  limits: Partial<UnpackLimits> = {},
  signal?: AbortSignal,
  options: UnpackOptions = {},
): Promise<UnpackResult> {
  const lim: UnpackLimits = { ...DEFAULT_UNPACK_LIMITS, ...limits };
  signal?.throwIfAborted();
  // The prefix carries a node name: one safe component, so the folder stays in targetParent.
  const prefix = assertSafePathComponent(options.prefix ?? 'unpack-', 'the unpack folder prefix');
  await mkdir(targetParent, { recursive: true });
  const budget = options.budget ?? new DiskBudget(lim.maxCaptureBytes, lim.minFreeBytes, options.freeSpace);
  // Before anything is created: a disk that is already too full fails here.
  const room = await budget.open(targetParent);
  const dir = await mkdtemp(path.join(targetParent, prefix));
  // mkdtemp creates 0700 already; be explicit about the intent for readers.
  const written = { bytes: 0 };
  try {
    const result = await extractInto(source, dir, lim, signal, options, { budget, room, written });
    return result;
  } catch (err) {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    budget.release(written.bytes);
    throw err;
  }
}

async function extractInto(
  source: Source,
  dir: string,
  lim: UnpackLimits,
  signal: AbortSignal | undefined,
  options: UnpackOptions,
  disk: { budget: DiskBudget; room: number; written: { bytes: number } },
): Promise<UnpackResult> {
  const { Parser } = await import('tar');
  const input: Readable = typeof source === 'string' ? createReadStream(source, { highWaterMark: 256 * 1024 }) : source;

  let failure: unknown;
  const files = new Map<string, UnpackedFile>();
  const seen = new Map<string, 'file' | 'dir'>();
  let entries = 0;
  let declaredTotal = 0;
  let actualTotal = 0;
  let manifestText: string | undefined;
  let sawEof = false;
  let openFd: number | undefined;
  let lastName: string | undefined;

  const fail = (err: unknown): void => {
    if (failure === undefined) failure = err;
  };

  const onEntry = (entry: ParsedEntry): void => {
    if (failure !== undefined) {
      entry.resume();
      return;
    }
    try {
      handleEntry(entry);
    } catch (err) {
      fail(asUnpackError(err, entry.path));
      entry.resume();
    }
  };

  const handleEntry = (entry: ParsedEntry): void => {
    const name = entry.path;
    lastName = name;
    if (++entries > lim.maxEntries) throw new UnpackError(name, `more than ${lim.maxEntries} entries`);
    const isFile = entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile';
    const isDir = entry.type === 'Directory';
    if (!isFile && !isDir) {
      throw new UnpackError(name, `entry type ${entry.type} is not allowed (only regular files and directories)`);
    }
    const parts = checkEntryPath(name, lim.maxDepth);
    if (parts.length === 0) {
      if (isDir) {
        entry.resume();
        return;
      }
      throw new UnpackError(name, 'empty path');
    }
    const rel = parts.join('/');
    const key = CASE_INSENSITIVE ? rel.toLowerCase() : rel;
    const abs = path.resolve(dir, ...parts);
    if (!abs.startsWith(dir + path.sep)) throw new UnpackError(name, 'path escapes the target folder');
    const before = seen.get(key);
    if (isDir) {
      if (before === 'file') throw new UnpackError(name, 'directory replaces a file of the same name');
      if (entry.size > 0) throw new UnpackError(name, 'directory entry carries data');
      for (let i = 1; i <= parts.length; i++) {
        const k = parts.slice(0, i).join('/');
        if (seen.get(CASE_INSENSITIVE ? k.toLowerCase() : k) === 'file') {
          throw new UnpackError(name, 'a parent of this path is a file');
        }
      }
      if (before !== 'dir') mkdirSync(abs, { recursive: true, mode: 0o700 });
      for (let i = 1; i <= parts.length; i++) {
        const k = parts.slice(0, i).join('/');
        seen.set(CASE_INSENSITIVE ? k.toLowerCase() : k, 'dir');
      }
      entry.resume();
      return;
    }
    if (before !== undefined) throw new UnpackError(name, 'duplicate entry (the archive names this path twice)');
    for (let i = 1; i < parts.length; i++) {
      const k = parts.slice(0, i).join('/');
      if (seen.get(CASE_INSENSITIVE ? k.toLowerCase() : k) === 'file') {
        throw new UnpackError(name, 'a parent of this path is a file');
      }
    }
    const declared = entry.size;
    if (!Number.isSafeInteger(declared) || declared < 0) throw new UnpackError(name, 'invalid size in header');
    if (declared > lim.maxEntryBytes) {
      throw new UnpackError(name, `declared size ${declared} exceeds the ${lim.maxEntryBytes}-byte entry limit`);
    }
    declaredTotal += declared;
    if (declaredTotal > lim.maxTotalBytes) {
      throw new UnpackError(name, `archive contents exceed the ${lim.maxTotalBytes}-byte total limit`);
    }
    // Headers can lie low, never high: a declared size over a budget fails before any write.
    if (declaredTotal > disk.room) throw new UnpackError(name, disk.budget.lowSpaceRule());
    if (declaredTotal - disk.written.bytes > disk.budget.remaining) throw new UnpackError(name, disk.budget.overRule());
    const parentKey = parts.slice(0, -1).join('/');
    // Folders made earlier in this unpack are known: skip the syscall (creates are slow on some disks).
    if (parts.length > 1 && seen.get(CASE_INSENSITIVE ? parentKey.toLowerCase() : parentKey) !== 'dir') {
      mkdirSync(path.dirname(abs), { recursive: true, mode: 0o700 });
      for (let i = 1; i < parts.length; i++) {
        const k = parts.slice(0, i).join('/');
        seen.set(CASE_INSENSITIVE ? k.toLowerCase() : k, 'dir');
      }
    }
    seen.set(key, 'file');
    const isManifest = rel === MANIFEST;
    if (isManifest && declared > lim.maxManifestBytes) {
      throw new UnpackError(name, `manifest.json is larger than ${lim.maxManifestBytes} bytes`);
    }
    // O_EXCL + O_NOFOLLOW: never through a link, never over something that exists.
    const fd = openSync(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | O_NOFOLLOW, 0o600);
    openFd = fd;
    const hash: Hash = createHash('sha256');
    const manifestChunks: Buffer[] = [];
    let bytes = 0;
    entry.on('data', (chunk: Buffer) => {
      if (failure !== undefined) return;
      try {
        bytes += chunk.length;
        actualTotal += chunk.length;
        if (bytes > declared || bytes > lim.maxEntryBytes) {
          throw new UnpackError(name, 'more data than the size in its header');
        }
        if (actualTotal > lim.maxTotalBytes) {
          throw new UnpackError(name, `archive contents exceed the ${lim.maxTotalBytes}-byte total limit`);
        }
        if (actualTotal > disk.room) throw new UnpackError(name, disk.budget.lowSpaceRule());
        disk.budget.take(chunk.length, name);
        disk.written.bytes += chunk.length;
        hash.update(chunk);
        if (isManifest) manifestChunks.push(chunk);
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      } catch (err) {
        fail(asUnpackError(err, name));
      }
    });
    entry.on('end', () => {
      if (openFd === fd) openFd = undefined;
      try {
        closeSync(fd);
      } catch (err) {
        fail(err);
      }
      if (failure !== undefined) return;
      if (bytes !== declared) {
        fail(new UnpackError(name, `size mismatch: header says ${declared} bytes, archive holds ${bytes}`));
        return;
      }
      files.set(rel, { path: rel, bytes, sha256: hash.digest('hex') });
      if (isManifest) manifestText = Buffer.concat(manifestChunks).toString('utf8');
    });
  };

  const parser = new Parser({
    strict: true,
    // We decompress; the parser must never unwrap a nested layer on its own.
    zstd: false,
    brotli: false,
    onReadEntry: onEntry as never,
  });
  parser.on('error', (err: Error) => {
    const header = (err as { header?: { path?: string; cksumValid?: boolean } }).header;
    if (header?.path && header.cksumValid) fail(new UnpackError(header.path, `malformed entry (${err.message})`));
    else if (lastName !== undefined)
      fail(new UnpackError(lastName, `malformed archive after this entry (${err.message})`));
    else fail(new UnpackError(undefined, `malformed archive (${err.message})`));
  });
  parser.on('ignoredEntry', (entry: ParsedEntry) => {
    lastName = entry.path;
    fail(new UnpackError(entry.path, `entry type ${entry.type} is not allowed (only regular files and directories)`));
  });
  parser.on('eof', () => {
    sawEof = true;
  });

  // Decompress ourselves: we count every decompressed byte (bomb guard), and a parser fed
  // plain tar never decompresses a second, nested layer on its own.
  const maxStream = lim.maxTotalBytes + (lim.maxEntries + 4) * 1536 + 1024 * 1024;
  let inputBytes = 0;
  let streamBytes = 0;
  let trailing = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      inputBytes += chunk.length;
      options.onProgress?.(inputBytes);
      cb(null, chunk);
    },
  });

  const abortError = (): Error => (signal?.reason instanceof Error ? signal.reason : new Error('unpack cancelled'));
  const stages: NodeJS.ReadableStream[] = [];
  let plain: Readable;
  // Sniff the first bytes for gzip's magic, then build the pipeline.
  const head = await readHead(input, 2);
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  input.unshift(head);
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    plain = gunzip;
    stages.push(input, counter, gunzip);
  } else {
    plain = counter;
    stages.push(input, counter);
  }
  const piped = new Promise<void>((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (pipeline as any)(...stages, (err: Error | null) => (err ? reject(err) : resolve()));
  });
  piped.catch(() => undefined);

  const onAbort = (): void => {
    fail(abortError());
    plain.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let first = true;
    for await (const chunk of plain as AsyncIterable<Buffer>) {
      if (failure !== undefined) break;
      streamBytes += chunk.length;
      const bomb = gzip
        ? ratioProblem(streamBytes, inputBytes, lim.maxCompressionRatio, lim.ratioCheckAfterBytes)
        : undefined;
      if (bomb) {
        fail(new UnpackError(lastName, bomb));
        break;
      }
      if (first) {
        first = false;
        if (chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
          fail(new UnpackError(undefined, 'nested compression inside the archive'));
          break;
        }
      }
      if (sawEof) {
        // Padding after the end-of-archive marker is normal (records of 10 KiB); megabytes are not.
        trailing += chunk.length;
        if (trailing > MAX_TRAILING) {
          fail(new UnpackError(undefined, `more than ${MAX_TRAILING} bytes after the end of the archive`));
          break;
        }
        continue;
      }
      if (streamBytes > maxStream) {
        fail(new UnpackError(undefined, `decompressed data exceeds ${maxStream} bytes`));
        break;
      }
      if (!parser.write(chunk) && failure === undefined && !sawEof) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            parser.off('drain', done);
            parser.off('error', done);
            signal?.removeEventListener('abort', done);
            resolve();
          };
          parser.on('drain', done);
          parser.on('error', done);
          signal?.addEventListener('abort', done, { once: true });
        });
      }
      if (failure !== undefined) break;
    }
    if (failure === undefined) {
      await piped;
      await new Promise<void>((resolve) => {
        parser.on('end', resolve);
        parser.on('error', () => resolve());
        parser.end();
      });
    }
  } catch (err) {
    if (signal?.aborted) fail(abortError());
    else if (err instanceof UnpackError) fail(err);
    else {
      const msg = err instanceof Error ? err.message : String(err);
      fail(
        lastName !== undefined
          ? new UnpackError(lastName, `archive data is corrupt or truncated after this entry (${msg})`)
          : new UnpackError(undefined, `archive data is corrupt or truncated (${msg})`),
      );
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (failure !== undefined) {
      input.destroy();
      plain.destroy();
      parser.abort(new Error('unpack stopped'));
    }
    if (openFd !== undefined) {
      try {
        closeSync(openFd);
      } catch {
        // already closed
      }
      openFd = undefined;
    }
  }
  if (failure === undefined && signal?.aborted) fail(abortError());
  if (failure !== undefined) throw failure;
  if (!sawEof && entries === 0) throw new UnpackError(undefined, 'empty or unrecognised archive');

  let manifest: CaptureManifest | undefined;
  if (manifestText !== undefined) {
    manifest = parseManifest(manifestText);
    verifyManifest(manifest, files);
  }
  const list = [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return manifest ? { dir, files: list, manifest } : { dir, files: list };
}
