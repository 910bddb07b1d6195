// The capture tarball: `<capture>-<node>-<ts>UTC.tar.gz`, entries relative to the work dir
// (no top-level folder), manifest.json last. Entries can be added while other work goes on
// (the pcap files are packed while metadata is still being collected), and the gzip stream is
// hashed as it is written, so the archive's sha256 costs no second read. Each file added with
// add() is hashed as it is streamed in (digest(): the manifest's sha256), so the capture loop
// does not hash what it writes.
// The pcap files are streamed from disk; metadata (~800 small /proc copies and command outputs)
// and the manifest come from memory: here creating a file costs 0.3–0.6 ms, so writing, reading
// back and removing them as temp files cost ~0.4 s of every stop. The tar headers are node-tar's
// Header/Pax, written the way its Pack writes them with `portable: true`.
// Compression is chosen for stop time (the Job may be deleted with a grace period): measured
// on 100 MB of incompressible payload here, deflate level 1 took 2.0 s, Huffman-only 0.53 s,
// stored 0.14 s. Up to 32 MB of captures we use level 1 (≤ 0.6 s, best ratio for header-heavy
// traffic); above, Huffman-only (entropy coding without match search: still shrinks headers
// and text, ~4× faster).
import {
  closeSync,
  constants as fsc,
  createReadStream,
  createWriteStream,
  fstatSync,
  openSync,
  readSync,
} from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Hash } from 'node:crypto';
import type * as Zlib from 'node:zlib';

// crypto and zlib are loaded when the archive is made, not at start-up: each built-in a
// process loads stays resident (zlib + crypto ≈ 3 MB of RSS for the whole capture).
const zlib = (): typeof Zlib => process.getBuiltinModule('node:zlib');
const createHash = (algorithm: string): Hash => process.getBuiltinModule('node:crypto').createHash(algorithm);

export interface ArchiveResult {
  bytes: number;
  sha256: string;
}

/** An entry made in memory (metadata, manifest): a file, or a directory when `data` is absent. */
export interface MemoryEntry {
  /** Relative, '/'-separated; directories may end in '/'. */
  path: string;
  data?: Buffer;
}

export interface ArchiveWriter {
  /** Queues regular files (relative to the work dir), packed in call order with addData(). */
  add(entries: readonly string[]): void;
  /** SHA-256 (hex) of a file queued with add(), once it has been packed; rejects if packing fails. */
  digest(entry: string): Promise<string>;
  /** Queues entries held in memory: no temp file is written, read back or removed for them. */
  addData(entries: readonly MemoryEntry[]): void;
  /** Ends the archive and resolves once it is fully written to `dest`. */
  finish(): Promise<ArchiveResult>;
}

export const HUFFMAN_ONLY_ABOVE = 32 * 1024 * 1024;

/**
 * gzip settings for a capture of `captureBytes`. Above the threshold, a 1 MiB sample from the
 * middle of `sampleFile` is Huffman-coded first: when that saves under 5 % (encrypted or
 * random payloads) the archive is stored (level 0, ~4× faster again); gzip framing stays, so
 * the name and every reader are unchanged.
 */
export function gzipOptionsFor(captureBytes: number, sampleFile?: string): { level: number; strategy?: number } {
  if (captureBytes <= HUFFMAN_ONLY_ABOVE) return { level: 1 };
  const huffman = { level: 1, strategy: zlib().constants.Z_HUFFMAN_ONLY };
  if (!sampleFile) return huffman;
  try {
    const fd = openSync(sampleFile, 'r');
    try {
      const size = fstatSync(fd).size;
      const sample = Buffer.alloc(Math.min(1 << 20, size));
      const n = readSync(fd, sample, 0, sample.length, Math.max(0, Math.floor(size / 2) - sample.length / 2));
      const packed = zlib().deflateRawSync(sample.subarray(0, n), huffman).length;
      return n > 0 && packed / n > 0.95 ? { level: 0 } : huffman;
    } finally {
      closeSync(fd);
    }
  } catch {
    return huffman;
  }
}

export async function startArchive(
  workDir: string,
  dest: string,
  gzip: { level: number; strategy?: number } = { level: 1 },
): Promise<ArchiveWriter> {
  // Its own chunk, loaded at stop: nothing of tar is compiled before the capture starts.
  const { Header, Pax } = await import(/* webpackChunkName: "tar" */ 'tar');
  // `dest` is in the host folder other pods and host users can write to: create it ourselves,
  // never through a planted symlink (O_NOFOLLOW) nor into a file that exists (O_EXCL).
  const fd = openSync(dest, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | (fsc.O_NOFOLLOW ?? 0), 0o644);
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });

  // What node-tar's Pack writes with `portable: true`: no uid/gid/names/atime/ctime, modes with
  // the minimum umask, directories without mtime, a pax header only when a field does not fit.
  const headerFor = (p: string, type: 'File' | 'Directory', size: number, mode: number, mtime?: Date): Buffer => {
    if (p.startsWith('/') || p.split('/').includes('..')) throw new Error(`archive: unsafe entry path ${p}`);
    const h = new Header({ path: p, type, size, mode, ...(mtime ? { mtime } : {}) });
    const pax = h.encode() ? new Pax({ path: p, size, ...(mtime ? { mtime } : {}) }).encode() : undefined;
    return pax ? Buffer.concat([pax, h.block as Buffer]) : (h.block as Buffer);
  };
  const pad = (size: number): Buffer => Buffer.alloc((512 - (size % 512)) % 512);

  /** A packed file's SHA-256, settled once fileEntry() has streamed it (or packing failed). */
  interface PendingDigest {
    promise: Promise<string>;
    resolve: (h: string) => void;
    reject: (e: unknown) => void;
  }
  const digests = new Map<string, PendingDigest>();
  const digestOf = (name: string): PendingDigest => {
    let d = digests.get(name);
    if (!d) {
      let resolve!: (h: string) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<string>((res, rej) => ((resolve = res), (reject = rej)));
      promise.catch(() => undefined); // observed by digest()'s caller, or by finish()
      d = { promise, resolve, reject };
      digests.set(name, d);
    }
    return d;
  };

  async function* fileEntry(name: string): AsyncGenerator<Buffer> {
    const abs = path.join(workDir, name);
    const st = await lstat(abs);
    if (!st.isFile()) throw new Error(`archive: ${name} is not a regular file`);
    yield headerFor(name, 'File', st.size, (st.mode & 0o7777 & ~0o022) | 0o600, st.mtime);
    let n = 0;
    const h = createHash('sha256');
    if (st.size > 0)
      for await (const chunk of createReadStream(abs, { end: st.size - 1, highWaterMark: 1 << 20 })) {
        n += (chunk as Buffer).length;
        h.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    if (n !== st.size) throw new Error(`archive: ${name} changed size while packed (${st.size} → ${n})`);
    digestOf(name).resolve(h.digest('hex'));
    yield pad(n);
  }

  const memoryEntry = (e: MemoryEntry, mtime: Date): Buffer =>
    e.data === undefined
      ? headerFor(e.path.endsWith('/') ? e.path : `${e.path}/`, 'Directory', 0, 0o755)
      : Buffer.concat([headerFor(e.path, 'File', e.data.length, 0o644, mtime), e.data, pad(e.data.length)]);

  // Entries are queued by add()/addData() and written in call order; the generator waits for
  // more until finish(). Readable.from pulls it only as fast as gzip and the disk take it.
  const queue: (string | MemoryEntry)[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    wake?.();
    wake = undefined;
  };
  async function* tarStream(): AsyncGenerator<Buffer> {
    for (;;) {
      const next = queue.shift();
      if (next === undefined) {
        if (ended) break;
        await new Promise<void>((r) => (wake = r));
      } else if (typeof next === 'string') yield* fileEntry(next);
      else yield memoryEntry(next, new Date());
    }
    yield Buffer.alloc(1024); // two zero blocks: end of archive
  }

  // node's zlib stream compresses in the libuv thread pool, so packing, compressing and
  // hashing overlap on two cores.
  const done = pipeline(
    Readable.from(tarStream(), { objectMode: false }),
    zlib().createGzip({ ...gzip, chunkSize: 256 * 1024 }),
    tap,
    createWriteStream(dest, { fd }),
  );
  done.catch((e: unknown) => {
    // observed in finish(); a digest still waiting will never come
    for (const d of digests.values()) d.reject(e);
  });
  return {
    add(entries) {
      for (const e of entries) digestOf(e);
      queue.push(...entries);
      poke();
    },
    digest(entry) {
      const d = digests.get(entry);
      return d ? d.promise : Promise.reject(new Error(`archive: ${entry} was not added`));
    },
    addData(entries) {
      queue.push(...entries);
      poke();
    },
    async finish() {
      ended = true;
      poke();
      await done;
      return { bytes, sha256: hash.digest('hex') };
    },
  };
}
