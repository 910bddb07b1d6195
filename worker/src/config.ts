// The worker's inputs: Retina's env contract plus our RCAP_* additions, each validated before
// anything is captured. A bad input ends the worker at once with its own exit code and a
// one-line reason (ConfigError), which main.ts turns into a failed WorkerResult.
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  BLOB_SECRET_FILE,
  ENV,
  EXIT,
  PVC_MOUNT,
  captureTimestamp,
  describeSasUrl,
  parseCaptureTimestamp,
  parseGoDuration,
  unprintableProblem,
  type TargetPod,
} from '../../src/contract/index.js';
import { parseRawFilterArgs, parseTcpdumpFilter, type ParsedTcpdumpFilter } from './filters.js';
import { checkInterfaces, type IpLink } from './net.js';

export class ConfigError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface BlobTarget {
  /** The SAS URL. Never log it: use `display`. */
  url: string;
  display: string;
}

export interface WorkerConfig {
  captureName: string;
  nodeName: string;
  podName?: string;
  /** `YYYYMMDDHHMMSSUTC`, the same on every node of one capture. */
  timestamp: string;
  includeMetadata: boolean;
  durationMs?: number;
  /** Per file; MiB × 1024 × 1024 (Retina's unit). */
  maxSizeBytes?: number;
  /** Files kept when rotating; 0 = no rotation (stop at max size). */
  fileCount: number;
  /** 0 = whole packet. */
  snapLength: number;
  bufferBytes: number;
  /** Interfaces the user named (undefined = default set). */
  interfaces?: string[];
  /** PCAP_FILTER (user BPF). */
  userFilter: string;
  tcpdump: ParsedTcpdumpFilter;
  targetPods: TargetPod[];
  hostPath?: string;
  pvcDir?: string;
  blob?: BlobTarget;
  warnings: string[];
}

export type Env = Record<string, string | undefined>;

const MAX_SNAPLEN = 262144;

function get(env: Env, name: string): string {
  return (env[name] ?? '').trim();
}

/** CAPTURE_DURATION: a Go duration (`1m30s`); '' = none. Milliseconds or a reason. */
export function parseDurationEnv(text: string): { ms?: number } | string {
  if (text === '') return {};
  const ms = parseGoDuration(text);
  if (ms === undefined) return `${ENV.duration} "${text}" is not a duration (e.g. 30s, 1m30s, 2h)`;
  if (ms === 0) return {};
  if (ms < 1000) return `${ENV.duration} "${text}" is shorter than 1s`;
  return { ms };
}

/** A non-negative integer env value within [min, max], or a reason. */
export function parseIntEnv(name: string, text: string, min: number, max: number): number | undefined | string {
  if (text === '') return undefined;
  if (!/^\d+$/.test(text)) return `${name} "${text}" is not a whole number`;
  const n = Number(text);
  if (n < min || n > max) return `${name} ${n} is out of range ${min}–${max}`;
  return n;
}

export function parseBool(name: string, text: string, dflt: boolean): boolean | string {
  if (text === '') return dflt;
  if (/^(true|1|yes|t)$/i.test(text)) return true;
  if (/^(false|0|no|f)$/i.test(text)) return false;
  return `${name} "${text}" is not true or false`;
}

/** CAPTURE_START_TIMESTAMP as Retina writes it (`20261126050709UTC`) or RFC 3339. */
export function parseStartTimestamp(text: string, now: Date): string | { error: string } {
  if (text === '') return captureTimestamp(now);
  if (parseCaptureTimestamp(text)) return text;
  const d = new Date(text);
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(d.getTime())) return captureTimestamp(d);
  return { error: `${ENV.startTimestamp} "${text}" is neither YYYYMMDDHHMMSSUTC nor RFC 3339` };
}

export function parseTargetPods(text: string): TargetPod[] | string {
  if (text === '') return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return `${ENV.targetPods} is not JSON`;
  }
  if (!Array.isArray(v)) return `${ENV.targetPods} must be a JSON array`;
  const pods: TargetPod[] = [];
  for (const p of v as unknown[]) {
    const o = p as Partial<TargetPod> | null;
    if (!o || typeof o.namespace !== 'string' || typeof o.name !== 'string' || typeof o.ip !== 'string')
      return `${ENV.targetPods}: each entry needs namespace, name and ip`;
    if (isIP(o.ip) === 0) return `${ENV.targetPods}: pod ${o.namespace}/${o.name} has no valid IP ("${o.ip}")`;
    if (o.hostInterface !== undefined && typeof o.hostInterface !== 'string')
      return `${ENV.targetPods}: hostInterface of ${o.namespace}/${o.name} must be a string`;
    pods.push({
      namespace: o.namespace,
      name: o.name,
      ip: o.ip,
      ...(o.hostInterface ? { hostInterface: o.hostInterface } : {}),
    });
  }
  return pods;
}

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

const PERM_NAMES: Record<string, string> = { c: 'create (c)', w: 'write (w)' };

/**
 * Checks a container SAS URL before anything is captured. Returns warnings, or throws-free
 * `{ error }`. Reasons name the URL without its query (the signature is a credential).
 */
export function validateSasUrl(
  text: string,
  now: Date,
  captureEndsBy?: Date,
): { warnings: string[]; display: string } | { error: string } {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    return { error: 'the blob upload URL is not a URL' };
  }
  const display = describeSasUrl(text.trim());
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname)))
    return { error: `the blob upload URL must use https (${display})` };
  const q = u.searchParams;
  if (!q.get('sig')) return { error: `the blob upload URL has no SAS signature (sig) (${display})` };
  const segments = u.pathname.split('/').filter(Boolean);
  // Path-style URLs (Azurite, IP hosts) carry the account name as the first segment.
  const pathStyle = isIP(u.hostname.replace(/^\[|\]$/g, '')) !== 0 || u.hostname === 'localhost';
  const want = pathStyle ? 2 : 1;
  if (segments.length !== want || q.get('sr') === 'b')
    return { error: `the blob upload URL must name a container, not a blob or folder (${display})` };
  const warnings: string[] = [];
  if (q.get('si') && !q.get('sp')) {
    warnings.push('the SAS uses a stored access policy: its permissions are checked at upload time');
  } else {
    const sp = q.get('sp') ?? '';
    const missing = ['c', 'w'].filter((p) => !sp.includes(p));
    if (missing.length)
      return { error: `the SAS lacks ${missing.map((p) => PERM_NAMES[p]).join(' and ')} permission (${display})` };
  }
  const se = q.get('se');
  if (se) {
    const exp = new Date(se);
    if (Number.isNaN(exp.getTime())) return { error: `the SAS expiry (se) "${se}" is not a date` };
    if (exp.getTime() <= now.getTime()) return { error: `the SAS expired at ${exp.toISOString()}` };
    if (captureEndsBy && exp.getTime() < captureEndsBy.getTime())
      warnings.push(`the SAS expires at ${exp.toISOString()}, before the capture ends`);
  }
  const st = q.get('st');
  if (st) {
    const start = new Date(st);
    if (!Number.isNaN(start.getTime()) && start.getTime() > now.getTime() + 5 * 60_000)
      return { error: `the SAS is not valid before ${start.toISOString()}` };
  }
  return { warnings, display };
}

/** HOSTPATH string rules; the directory itself is checked by `checkHostPathDir`. */
export function validateHostPathString(p: string): string | undefined {
  if (!path.isAbsolute(p)) return `${ENV.hostPath} "${p}" must be an absolute path`;
  if (p.split('/').includes('..')) return `${ENV.hostPath} "${p}" must not contain ..`;
  const unprintable = unprintableProblem(p);
  if (unprintable) return `${ENV.hostPath} ${JSON.stringify(p)} ${unprintable}`;
  return undefined;
}

/** Creates the directory if needed and proves we can write into it. */
export async function checkHostPathDir(dir: string): Promise<string | undefined> {
  try {
    await mkdir(dir, { recursive: true });
    const probe = path.join(dir, `.rcap-probe-${process.pid}`);
    await writeFile(probe, '');
    await unlink(probe);
    return undefined;
  } catch (e) {
    return `cannot write to ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

export interface ConfigDeps {
  now: Date;
  /** `ip -j link` output. */
  links: () => Promise<IpLink[]>;
  /** libpcap's error text for a filter that does not compile, else undefined. */
  validateFilter: (filter: string, snapLength: number) => string | undefined;
}

/** Reads and validates everything; throws ConfigError on the first bad input. */
export async function readConfig(env: Env, deps: ConfigDeps): Promise<WorkerConfig> {
  const fail = (code: number, msg: string): never => {
    throw new ConfigError(code, msg);
  };
  const warnings: string[] = [];

  const captureName = get(env, ENV.captureName);
  if (!captureName) fail(EXIT.badConfig, `${ENV.captureName} is not set`);
  if (/[/\\\s]/.test(captureName)) fail(EXIT.badConfig, `${ENV.captureName} "${captureName}" contains / or spaces`);
  const nodeName = get(env, ENV.nodeHostName) || os.hostname();
  const ts = parseStartTimestamp(get(env, ENV.startTimestamp), deps.now);
  if (typeof ts !== 'string') return fail(EXIT.badConfig, ts.error);

  const meta = parseBool(ENV.includeMetadata, get(env, ENV.includeMetadata), true);
  if (typeof meta === 'string') return fail(EXIT.badConfig, meta);

  const dur = parseDurationEnv(get(env, ENV.duration));
  if (typeof dur === 'string') return fail(EXIT.badDuration, dur);

  const maxMb = parseIntEnv(ENV.maxSize, get(env, ENV.maxSize), 0, 1_000_000);
  if (typeof maxMb === 'string') return fail(EXIT.badSize, maxMb);
  const fileCount = parseIntEnv(ENV.fileCount, get(env, ENV.fileCount), 0, 10_000);
  if (typeof fileCount === 'string') return fail(EXIT.badSize, fileCount);
  if (fileCount && !maxMb) fail(EXIT.badSize, `${ENV.fileCount} needs ${ENV.maxSize} (the size of each file)`);
  const raw = parseRawFilterArgs(get(env, ENV.tcpdumpRawFilter));
  if (raw.ignored.length) warnings.push(`${ENV.tcpdumpRawFilter}: ignored ${raw.ignored.join(' ')}`);
  const snap = parseIntEnv(ENV.packetSize, get(env, ENV.packetSize), 0, MAX_SNAPLEN);
  if (typeof snap === 'string') return fail(EXIT.badSize, snap);
  const snapLength = raw.snapLength ?? snap ?? 0;
  if (snapLength > MAX_SNAPLEN) fail(EXIT.badSize, `snap length ${snapLength} is above ${MAX_SNAPLEN}`);
  const bufMb = parseIntEnv(ENV.bufferSize, get(env, ENV.bufferSize), 1, 1024);
  if (typeof bufMb === 'string') return fail(EXIT.badSize, bufMb);
  if (!dur.ms && !maxMb) warnings.push('no duration or size limit: the capture runs until the Job is deleted');

  const format = get(env, ENV.outputFormat) || 'pcapng';
  if (format !== 'pcapng' && format !== 'pcap')
    fail(EXIT.badConfig, `${ENV.outputFormat} "${format}" is not pcapng or pcap`);
  if (format === 'pcap') warnings.push('pcap output is not implemented: writing pcapng');

  const pods = parseTargetPods(get(env, ENV.targetPods));
  if (typeof pods === 'string') return fail(EXIT.badConfig, pods);

  // Interfaces: Retina lets TCPDUMP_RAW_FILTER's -i win over CAPTURE_INTERFACES.
  const named = raw.interfaces.length
    ? raw.interfaces
    : get(env, ENV.interfaces)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  if (named.includes('any'))
    fail(
      EXIT.badInterface,
      'interface "any" cannot be captured promiscuously: leave the list empty for all interfaces',
    );
  if (named.length) {
    let links: IpLink[];
    try {
      links = await deps.links();
    } catch (e) {
      return fail(EXIT.badInterface, `cannot list interfaces: ${(e as Error).message}`);
    }
    const bad = checkInterfaces(named, links);
    if (bad) fail(EXIT.badInterface, bad);
  }

  const userFilter = get(env, ENV.pcapFilter);
  const tcpdump = parseTcpdumpFilter(get(env, ENV.tcpdumpFilter));
  for (const [name, f] of [
    [ENV.pcapFilter, userFilter],
    [ENV.tcpdumpFilter, get(env, ENV.tcpdumpFilter)],
  ] as const) {
    if (!f) continue;
    const err = deps.validateFilter(f, snapLength);
    if (err) fail(EXIT.badFilter, `${name}: ${err}`);
  }

  // Outputs.
  const hostPath = get(env, ENV.hostPath) || undefined;
  if (hostPath) {
    const bad = validateHostPathString(hostPath) ?? (await checkHostPathDir(hostPath));
    if (bad) fail(EXIT.badHostPath, bad);
  }
  const pvcDir = get(env, ENV.pvc) ? PVC_MOUNT : undefined;
  if (pvcDir) {
    const bad = await checkHostPathDir(pvcDir);
    if (bad) fail(EXIT.badHostPath, `persistent volume claim: ${bad}`);
  }
  let blob: BlobTarget | undefined;
  const secretOverride = get(env, ENV.blobSecretFile);
  const secretFile = secretOverride || BLOB_SECRET_FILE;
  let sas: string | undefined;
  try {
    sas = (await readFile(secretFile, 'utf8')).trim();
  } catch (e) {
    if (secretOverride || (e as NodeJS.ErrnoException).code !== 'ENOENT')
      fail(
        EXIT.badBlobUrl,
        `cannot read the blob upload secret ${secretFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      );
  }
  if (sas !== undefined) {
    const endsBy = dur.ms ? new Date(deps.now.getTime() + dur.ms) : undefined;
    const v = validateSasUrl(sas, deps.now, endsBy);
    if ('error' in v) return fail(EXIT.badBlobUrl, v.error);
    warnings.push(...v.warnings);
    blob = { url: sas, display: v.display };
  }
  if (get(env, ENV.s3Bucket) || get(env, ENV.s3Endpoint)) {
    if (!hostPath && !pvcDir && !blob)
      fail(EXIT.badConfig, 'S3 upload is not supported by this worker and no other output is set');
    warnings.push('S3 upload is not supported by this worker: skipped');
  }
  if (!hostPath && !pvcDir && !blob)
    fail(EXIT.badConfig, `no output: set ${ENV.hostPath}, a PVC or a blob upload secret`);

  return {
    captureName,
    nodeName,
    ...(get(env, ENV.podName) ? { podName: get(env, ENV.podName) } : {}),
    timestamp: ts,
    includeMetadata: meta,
    ...(dur.ms ? { durationMs: dur.ms } : {}),
    ...(maxMb ? { maxSizeBytes: maxMb * 1024 * 1024 } : {}),
    fileCount: fileCount ?? 0,
    snapLength,
    bufferBytes: (bufMb ?? 8) * 1024 * 1024,
    ...(named.length ? { interfaces: named } : {}),
    userFilter,
    tcpdump,
    targetPods: pods,
    ...(hostPath ? { hostPath } : {}),
    ...(pvcDir ? { pvcDir } : {}),
    ...(blob ? { blob } : {}),
    warnings,
  };
}
