// Network metadata next to the packets, with Retina's file names (ip-resources.txt,
// iptables-rules.txt, socket-stats.txt, proc-net/, proc-sys-net/) plus conntrack.txt and
// nft-ruleset.txt when those tools exist. Commands run without a shell, each with a timeout;
// a missing tool is recorded, never fatal. Everything written is hashed for the manifest.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, readdirSync, writeFileSync, type Dirent } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestFile } from '../../src/contract/index.js';

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
  /** Roots to copy (tests point these elsewhere). */
  procNet?: string;
  procSysNet?: string;
}

export interface MetadataResult {
  files: ManifestFile[];
  /** Top-level entries to put in the archive (files and directories). */
  entries: string[];
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

function sha(buf: Buffer | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

/**
 * Reads a /proc file up to `limit` bytes (their stat size is 0); undefined if unreadable or too
 * big. Synchronous on purpose: a /proc read is an in-kernel call of microseconds, and a promise
 * round trip per file made copying ~1,600 files 4× slower; copyTree yields between slices.
 */
function readBounded(file: string, limit: number, scratch: Buffer): Buffer | undefined | 'big' {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    let total = 0;
    for (;;) {
      if (total >= scratch.length) return 'big';
      const n = readSync(fd, scratch, total, scratch.length - total, null);
      if (n === 0) break;
      total += n;
      if (total > limit) return 'big';
    }
    return Buffer.from(scratch.subarray(0, total));
  } catch {
    return undefined; // EIO/EINVAL: write-only sysctls such as net/ipv4/route/flush
  } finally {
    closeSync(fd);
  }
}

interface CopyBudget {
  bytes: number;
  files: number;
  skippedBig: number;
  truncated: boolean;
  sliceStart: number;
  scratch: Buffer;
}

const SLICE_MS = 15;

async function copyTree(
  src: string,
  dst: string,
  rel: string,
  out: ManifestFile[],
  budget: CopyBudget,
  o: Required<MetadataOptions>,
): Promise<void> {
  let names: Dirent[];
  try {
    names = readdirSync(src, { withFileTypes: true });
  } catch {
    return;
  }
  mkdirSync(dst, { recursive: true });
  for (const d of names) {
    if (budget.truncated) return;
    if (Date.now() - budget.sliceStart > SLICE_MS) {
      await new Promise((r) => setImmediate(r));
      budget.sliceStart = Date.now();
    }
    const s = path.join(src, d.name);
    const t = path.join(dst, d.name);
    const r = `${rel}/${d.name}`;
    if (d.isDirectory()) {
      await copyTree(s, t, r, out, budget, o);
      continue;
    }
    if (!d.isFile()) continue; // symlinks (e.g. /proc/net/stat) are not followed
    const data = readBounded(s, o.maxFileBytes, budget.scratch);
    if (data === undefined) continue;
    if (data === 'big') {
      budget.skippedBig++;
      continue;
    }
    if (budget.bytes + data.length > o.maxTotalBytes || budget.files >= o.maxFiles) {
      budget.truncated = true;
      return;
    }
    budget.bytes += data.length;
    budget.files++;
    writeFileSync(t, data);
    out.push({ path: r, bytes: data.length, sha256: sha(data) });
  }
}

/** Collects everything into `dir`; resolves even when tools are missing or fail. */
export async function collectMetadata(dir: string, opts: MetadataOptions = {}): Promise<MetadataResult> {
  const o: Required<MetadataOptions> = {
    commandTimeoutMs: opts.commandTimeoutMs ?? 5000,
    maxFileBytes: opts.maxFileBytes ?? 1 << 20,
    maxTotalBytes: opts.maxTotalBytes ?? 8 << 20,
    maxFiles: opts.maxFiles ?? 20_000,
    procNet: opts.procNet ?? '/proc/self/net',
    procSysNet: opts.procSysNet ?? '/proc/sys/net',
  };
  const t0 = Date.now();
  const files: ManifestFile[] = [];
  const entries: string[] = [];
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
    await writeFile(path.join(dir, file), text);
    files.push({ path: file, bytes: Buffer.byteLength(text), sha256: sha(text) });
    entries.push(file);
  });

  const budget: CopyBudget = {
    bytes: 0,
    files: 0,
    skippedBig: 0,
    truncated: false,
    sliceStart: Date.now(),
    scratch: Buffer.allocUnsafe(o.maxFileBytes + 1),
  };
  const procCopies = (async () => {
    for (const [src, name] of [
      [o.procNet, 'proc-net'],
      [o.procSysNet, 'proc-sys-net'],
    ] as const) {
      const before = files.length;
      await copyTree(src, path.join(dir, name), name, files, budget, o);
      if (files.length > before) entries.push(name);
    }
  })();

  await Promise.all([...commandFiles, procCopies]);
  if (budget.skippedBig)
    warnings.push(`metadata: skipped ${budget.skippedBig} /proc file(s) larger than ${o.maxFileBytes} bytes`);
  if (budget.truncated)
    warnings.push(`metadata: /proc copies stopped at ${budget.bytes} bytes / ${budget.files} files`);
  files.sort((a, b) => a.path.localeCompare(b.path));
  entries.sort();
  return { files, entries, missingTools: [...missing].sort(), warnings, ms: Date.now() - t0 };
}
