// Network metadata next to the packets, with Retina's file names (ip-resources.txt,
// iptables-rules.txt, socket-stats.txt, proc-net/, proc-sys-net/) plus conntrack.txt and
// nft-ruleset.txt when those tools exist. Commands run without a shell, each with a timeout;
// a missing tool is recorded, never fatal. Everything is kept in memory (bounded: per /proc file,
// per tree, per command output) and hashed for the manifest; no temp files.
import { execFile } from 'node:child_process';
import type { ManifestFile } from '../../src/contract/index.js';
import type { MemoryEntry } from './archive.js';

interface Cmd {
  bin: string;
  args: string[];
  description: string;
}

const FILES: { file: string; commands: Cmd[] }[] = [
  {
    file: 'ip-resources.txt',
    commands: [
      { bin: 'ip', args: ['-d', '-j', 'addr', 'show'], description: 'IP address configuration' },
      { bin: 'ip', args: ['-d', '-j', 'neigh', 'show'], description: 'IP neighbor status' },
      { bin: 'ip', args: ['-j', 'rule', 'list'], description: 'Policy routing list' },
      { bin: 'ip', args: ['-j', 'route', 'show', 'table', 'all'], description: 'Routes of all route tables' },
    ],
  },
  {
    file: 'iptables-rules.txt',
    commands: [
      { bin: 'iptables-save', args: [], description: 'IPtables rules' },
      { bin: 'iptables', args: ['-vnx', '-L'], description: 'IPtables rules and stats in filter table' },
      { bin: 'iptables', args: ['-vnx', '-L', '-t', 'nat'], description: 'IPtables rules and stats in nat table' },
      {
        bin: 'iptables',
        args: ['-vnx', '-L', '-t', 'mangle'],
        description: 'IPtables rules and stats in mangle table',
      },
      { bin: 'nft', args: ['list', 'ruleset'], description: 'nftables ruleset' },
    ],
  },
  {
    file: 'socket-stats.txt',
    commands: [
      { bin: 'ss', args: ['-s'], description: 'Socket statistics summary' },
      { bin: 'ss', args: ['-tanpie'], description: 'Socket statistics details' },
    ],
  },
  {
    file: 'conntrack.txt',
    commands: [
      { bin: 'conntrack', args: ['-S'], description: 'Connection tracking statistics' },
      { bin: 'conntrack', args: ['-L'], description: 'Connection tracking table' },
    ],
  },
];

export interface MetadataOptions {
  commandTimeoutMs?: number;
  /** Per /proc file. */
  maxFileBytes?: number;
  /** proc-net + proc-sys-net together. */
  maxTotalBytes?: number;
  maxFiles?: number;
  /** Roots to copy (tests point these elsewhere); '' skips one. */
  procNet?: string;
  procSysNet?: string;
}

export interface MetadataResult {
  files: ManifestFile[];
  /** What goes into the archive: the files above and their directories, in tar order. */
  entries: MemoryEntry[];
  missingTools: string[];
  warnings: string[];
  ms: number;
}

interface CmdOutput {
  text: string;
  missing: boolean;
}

function run(cmd: Cmd, timeoutMs: number): Promise<CmdOutput> {
  return new Promise((resolve) => {
    execFile(
      cmd.bin,
      cmd.args,
      { timeout: timeoutMs, maxBuffer: 64 << 20, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
        if (e?.code === 'ENOENT') {
          resolve({ text: `${cmd.bin}: not installed\n`, missing: true });
          return;
        }
        let text = String(stdout);
        if (String(stderr).trim()) text += `\n[stderr]\n${String(stderr)}`;
        if (e)
          text += `\nFailed to run "${[cmd.bin, ...cmd.args].join(' ')}": ${e.killed ? `timed out after ${timeoutMs} ms` : e.message}\n`;
        resolve({ text, missing: false });
      },
    );
  });
}

// crypto and worker_threads load when metadata is collected (near the end of a capture), not at
// start-up: a loaded built-in stays resident for the whole capture.
function sha(buf: Buffer | string): string {
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(buf).digest('hex');
}

/**
 * Reads the /proc trees in a worker thread so the main thread stays free for packing the
 * capture (measured: copying ~1,700 /proc files on the main thread added ~1 s to the stop time
 * of a 100 MB capture; in a thread it overlaps). The copies stay in memory (one buffer, bounded
 * by maxTotalBytes) and go into the archive from there. The thread's code is a plain string
 * (eval), so it survives bundling unchanged. /proc files report size 0: each is read up to the
 * per-file cap + 1 byte; unreadable ones (write-only sysctls such as net/ipv4/route/flush) are
 * skipped; symlinks are not followed. Every directory read is listed (as tar would list it).
 */
const PROC_COPY_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { roots, maxFileBytes, maxTotalBytes, maxFiles } = workerData;
const scratch = Buffer.allocUnsafe(maxFileBytes + 1);
const chunks = [];
const out = { files: [], entries: [], bytes: 0, count: 0, skippedBig: 0, truncated: false };
function read(file) {
  let fd;
  try { fd = fs.openSync(file, 'r'); } catch { return undefined; }
  try {
    let total = 0;
    for (;;) {
      if (total >= scratch.length) return 'big';
      const n = fs.readSync(fd, scratch, total, scratch.length - total, null);
      if (n === 0) break;
      total += n;
    }
    return total > maxFileBytes ? 'big' : Buffer.from(scratch.subarray(0, total));
  } catch { return undefined; } finally { fs.closeSync(fd); }
}
function walk(src, rel) {
  let names;
  try { names = fs.readdirSync(src, { withFileTypes: true }); } catch { return; }
  out.entries.push({ path: rel + '/' });
  for (const d of names) {
    if (out.truncated) return;
    const s = path.join(src, d.name), r = rel + '/' + d.name;
    if (d.isDirectory()) { walk(s, r); continue; }
    if (!d.isFile()) continue;
    const data = read(s);
    if (data === undefined) continue;
    if (data === 'big') { out.skippedBig++; continue; }
    if (out.bytes + data.length > maxTotalBytes || out.count >= maxFiles) { out.truncated = true; return; }
    out.entries.push({ path: r, offset: out.bytes, length: data.length });
    out.bytes += data.length; out.count++;
    chunks.push(data);
    out.files.push({ path: r, bytes: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') });
  }
}
for (const [src, name] of roots) {
  const before = { files: out.files.length, entries: out.entries.length };
  walk(src, name);
  // A tree without a single readable file is left out, directories and all.
  if (out.files.length === before.files) out.entries.length = before.entries;
}
// Its own ArrayBuffer (never Buffer's shared pool), so it can be transferred instead of copied.
out.data = new Uint8Array(out.bytes);
let at = 0;
for (const c of chunks) { out.data.set(c, at); at += c.length; }
parentPort.postMessage(out, [out.data.buffer]);
`;

interface ProcCopyResult {
  files: ManifestFile[];
  entries: MemoryEntry[];
  bytes: number;
  count: number;
  skippedBig: number;
  truncated: boolean;
}

interface ProcCopyMessage extends Omit<ProcCopyResult, 'entries'> {
  entries: { path: string; offset?: number; length?: number }[];
  data: Uint8Array;
}

function copyProcTrees(o: Required<MetadataOptions>): Promise<ProcCopyResult> {
  return new Promise((resolve, reject) => {
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const w = new Worker(PROC_COPY_SOURCE, {
      eval: true,
      workerData: {
        roots: [
          ...(o.procNet ? [[o.procNet, 'proc-net']] : []),
          ...(o.procSysNet ? [[o.procSysNet, 'proc-sys-net']] : []),
        ],
        maxFileBytes: o.maxFileBytes,
        maxTotalBytes: o.maxTotalBytes,
        maxFiles: o.maxFiles,
      },
    });
    w.once('message', (m: ProcCopyMessage) => {
      // Structured clone delivers a Uint8Array; the entries are views into it, no copies.
      const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      const entries = m.entries.map((e) =>
        e.offset === undefined
          ? { path: e.path }
          : { path: e.path, data: data.subarray(e.offset, e.offset + (e.length ?? 0)) },
      );
      resolve({ ...m, entries });
    });
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`proc copy thread exited ${code}`)));
  });
}

/**
 * /proc/sys/net (≈1,300 files of configuration that does not change during a capture) copied
 * ahead of time — the worker starts it when the capture starts, so the copy costs nothing at
 * stop time; collectMetadata is then called with `procSysNet: ''`.
 */
export async function snapshotProcSysNet(
  opts: MetadataOptions = {},
): Promise<Pick<MetadataResult, 'files' | 'entries' | 'warnings'>> {
  const o = resolveOptions({ ...opts, procNet: '' });
  const warnings: string[] = [];
  try {
    const r = await copyProcTrees(o);
    if (r.skippedBig)
      warnings.push(`metadata: skipped ${r.skippedBig} /proc file(s) larger than ${o.maxFileBytes} bytes`);
    if (r.truncated) warnings.push(`metadata: /proc copies stopped at ${r.bytes} bytes / ${r.count} files`);
    return { files: r.files, entries: r.entries, warnings };
  } catch (e) {
    return { files: [], entries: [], warnings: [`metadata: /proc/sys/net copy failed: ${(e as Error).message}`] };
  }
}

function resolveOptions(opts: MetadataOptions): Required<MetadataOptions> {
  return {
    commandTimeoutMs: opts.commandTimeoutMs ?? 5000,
    maxFileBytes: opts.maxFileBytes ?? 1 << 20,
    maxTotalBytes: opts.maxTotalBytes ?? 8 << 20,
    maxFiles: opts.maxFiles ?? 20_000,
    procNet: opts.procNet ?? '/proc/self/net',
    procSysNet: opts.procSysNet ?? '/proc/sys/net',
  };
}

/**
 * Tar order for entries: by path, byte-wise (not locale), so a directory ('proc-net/') comes
 * right before its contents.
 */
export function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** Collects everything in memory; resolves even when tools are missing or fail. */
export async function collectMetadata(opts: MetadataOptions = {}): Promise<MetadataResult> {
  const o = resolveOptions(opts);
  const t0 = Date.now();
  const files: ManifestFile[] = [];
  const entries: MemoryEntry[] = [];
  const missing = new Set<string>();
  const warnings: string[] = [];

  const commandFiles = FILES.map(async ({ file, commands }) => {
    const outputs = await Promise.all(commands.map((c) => run(c, o.commandTimeoutMs)));
    commands.forEach((c, i) => {
      if (outputs[i]?.missing) missing.add(c.bin);
    });
    if (outputs.every((x) => x.missing)) return; // e.g. no conntrack at all: no empty file
    const line = (c: Cmd): string => [c.bin, ...c.args].join(' ');
    const text =
      'Summary:\n\n' +
      commands.map((c) => `${line(c)} (${c.description})\n`).join('') +
      '\nExecute:\n\n' +
      commands.map((c, i) => `${line(c)}\n\n${outputs[i]?.text ?? ''}\n`).join('');
    const data = Buffer.from(text);
    files.push({ path: file, bytes: data.length, sha256: sha(data) });
    entries.push({ path: file, data });
  });

  const procCopies = (o.procNet || o.procSysNet ? copyProcTrees(o) : Promise.resolve(undefined)).then(
    (r) => {
      if (!r) return;
      files.push(...r.files);
      entries.push(...r.entries);
      if (r.skippedBig)
        warnings.push(`metadata: skipped ${r.skippedBig} /proc file(s) larger than ${o.maxFileBytes} bytes`);
      if (r.truncated) warnings.push(`metadata: /proc copies stopped at ${r.bytes} bytes / ${r.count} files`);
    },
    (e: unknown) => {
      warnings.push(`metadata: /proc copy failed: ${(e as Error).message}`);
    },
  );

  await Promise.all([...commandFiles, procCopies]);
  files.sort((a, b) => a.path.localeCompare(b.path));
  entries.sort(byPath);
  return { files, entries, missingTools: [...missing].sort(), warnings, ms: Date.now() - t0 };
}
