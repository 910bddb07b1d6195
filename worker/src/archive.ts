// The capture tarball: `<capture>-<node>-<ts>UTC.tar.gz`, entries relative to the work dir
// (no top-level folder), manifest.json last. Entries can be added while other work goes on
// (the pcap files are packed while metadata is still being collected), and the gzip stream is
// hashed as it is written, so the archive's sha256 costs no second read. gzip level 1: pcap
// data dominates and higher levels multiply the stop time of a 100 MB capture for a few
// percent of size.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface ArchiveResult {
  bytes: number;
  sha256: string;
}

export interface ArchiveWriter {
  /** Queues files or directories (relative to the work dir), packed in call order. */
  add(entries: readonly string[]): void;
  /** Ends the archive and resolves once it is fully written to `dest`. */
  finish(): Promise<ArchiveResult>;
}

export async function startArchive(workDir: string, dest: string, level = 1): Promise<ArchiveWriter> {
  const { Pack } = await import(/* webpackMode: "eager" */ 'tar');
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  const pack = new Pack({ gzip: { level }, cwd: workDir, portable: true });
  const done = pipeline(pack as unknown as NodeJS.ReadableStream, tap, createWriteStream(dest, { mode: 0o644 }));
  done.catch(() => undefined); // observed in finish()
  return {
    add(entries) {
      for (const e of entries) pack.add(e);
    },
    async finish() {
      pack.end();
      await done;
      return { bytes, sha256: hash.digest('hex') };
    },
  };
}
