// Download of a capture from Azure Blob storage, as Retina lays it out: one archive per node,
// `<capture>-<node>-<ts>UTC.tar.gz` at the container root. Lists with the capture name as
// prefix (container SAS with read + list), downloads a few archives at a time, streaming each
// to disk, then unpacks it safely (unpack.ts verifies manifest.json's sha256 sums).
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertSafePathComponent, describeSasUrl, parseArchiveName, redact } from '../contract/index.js';
import { checkSasUrl } from '../storage/sas-check.js';
import { childPath } from './safePath.js';
import { DEFAULT_UNPACK_LIMITS, DiskBudget, unpackArchive, type UnpackLimits, type UnpackResult } from './unpack.js';

export interface BlobDownloadProgress {
  node: string;
  blob: string;
  phase: 'download' | 'unpack' | 'done' | 'retry' | 'failed';
  /** Bytes of the archive received so far. */
  bytes: number;
  /** Archive size from the listing. */
  totalBytes?: number;
  /** For 'retry' and 'failed'. */
  message?: string;
}

export interface BlobDownloadOptions {
  /** Container SAS URL with read (r) and list (l) permissions. */
  containerSasUrl: string;
  capture: string;
  /** Archives and unpacked folders go under this folder. */
  targetParent: string;
  /** Only these nodes (default: every archive of the capture). */
  nodes?: readonly string[];
  /** Only archives with this `<YYYYMMDDHHMMSS>UTC` timestamp (tells captures sharing a prefix apart). */
  timestamp?: string;
  /** Parallel downloads (default 3). */
  concurrency?: number;
  /** Attempts per archive for 5xx / network errors (default 4). */
  attempts?: number;
  /** First retry delay in ms (doubles each time, with jitter; default 500). */
  retryBaseMs?: number;
  limits?: Partial<UnpackLimits>;
  /** Keep the downloaded .tar.gz next to the unpacked folder (default false). */
  keepArchives?: boolean;
  /** Accept http to a non-loopback emulator (tests). */
  allowHttp?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: BlobDownloadProgress) => void;
}

export interface NodeArchive {
  node: string;
  timestamp: string;
  blob: string;
  bytes: number;
  /** Path of the kept archive, when keepArchives. */
  archivePath?: string;
  unpacked: UnpackResult;
}

export interface BlobDownloadResult {
  archives: NodeArchive[];
  /** Nodes whose archive could not be fetched or unpacked; the others are still usable. */
  failures: { node: string; blob: string; error: string }[];
}

/** A download problem meant for the user (already redacted). */
export class BlobDownloadError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'BlobDownloadError';
  }
}

interface RestLike {
  statusCode?: number;
  code?: string;
  name?: string;
  message?: string;
  details?: { errorCode?: string };
}

function errorCodeOf(e: RestLike): string | undefined {
  return e.details?.errorCode ?? e.code;
}

/** Whether an error is worth retrying: 5xx, 408, 429, or a network failure. */
export function isTransient(err: unknown): boolean {
  const e = err as RestLike;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'AbortError') return false;
  if (typeof e.statusCode === 'number') return e.statusCode >= 500 || e.statusCode === 408 || e.statusCode === 429;
  const code = e.code ?? '';
  return /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|ENETUNREACH|EHOSTUNREACH|REQUEST_SEND_ERROR|ERR_STREAM_PREMATURE_CLOSE|UND_ERR_\w+)$/.test(
    code,
  );
}

/** Turns an SDK error into a message that says what to fix. `op` is what was being done. */
export function explainBlobError(err: unknown, op: 'list' | 'read', where: string): BlobDownloadError {
  const e = err as RestLike;
  const status = e?.statusCode;
  const code = errorCodeOf(e ?? {});
  let msg: string;
  if (status === 403) {
    if (code === 'AuthorizationPermissionMismatch' || code === 'AuthorizationResourceTypeMismatch') {
      msg =
        op === 'list'
          ? `the download SAS lacks list (l) permission on ${where}`
          : `the download SAS lacks read (r) permission on ${where}`;
    } else if (code === 'AuthorizationProtocolMismatch') {
      msg = `the SAS allows https only, but ${where} was reached over http`;
    } else if (code === 'AuthenticationFailed') {
      msg = `the storage service rejected the SAS for ${where} (expired, not yet valid, or its signature does not match)`;
    } else {
      msg = `access to ${where} was denied (403${code ? ` ${code}` : ''}); the SAS needs read (r) and list (l) permissions`;
    }
  } else if (status === 404) {
    msg = code === 'ContainerNotFound' ? `the container ${where} does not exist` : `${where} was not found (404)`;
  } else {
    const detail = e?.message ? redact(e.message.split('\n')[0] ?? '') : String(err);
    msg = `${op === 'list' ? 'listing' : 'downloading'} ${where} failed${status ? ` (${status})` : ''}: ${detail}`;
  }
  return new BlobDownloadError(msg, status);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('cancelled'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

interface Listed {
  name: string;
  node: string;
  timestamp: string;
  bytes: number;
}

/**
 * Lists, downloads and unpacks every node archive of `capture`. Throws on problems that stop
 * everything (bad SAS, no list permission, nothing found, cancel); per-node problems end up
 * in `failures`. On cancel, everything written so far is removed.
 */
export async function downloadCaptureFromBlob(opts: BlobDownloadOptions): Promise<BlobDownloadResult> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const where = describeSasUrl(opts.containerSasUrl);
  const problems = checkSasUrl(opts.containerSasUrl, 'download', new Date(), { allowHttp: opts.allowHttp ?? false });
  if (problems.length) throw new BlobDownloadError(problems.join('; '));
  // The capture name prefixes local folder names.
  assertSafePathComponent(`.${opts.capture}-archives-`, 'the capture name');

  const { AnonymousCredential, ContainerClient, newPipeline } = await import('@azure/storage-blob');
  // Retries are ours (below), so they are visible as progress events and bounded in one place.
  const container = new ContainerClient(
    opts.containerSasUrl,
    newPipeline(new AnonymousCredential(), { retryOptions: { maxTries: 1 } }),
  );
  const attempts = Math.max(1, opts.attempts ?? 4);
  const baseMs = opts.retryBaseMs ?? 500;

  const withRetry = async <T>(what: () => Promise<T>, onRetry: (err: unknown, attempt: number) => void): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await what();
      } catch (err) {
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : err;
        if (attempt >= attempts || !isTransient(err)) throw err;
        onRetry(err, attempt);
        await sleep(baseMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2), signal);
      }
    }
  };

  // 1. List.
  const listed: Listed[] = [];
  await withRetry(
    async () => {
      listed.length = 0;
      for await (const b of container.listBlobsFlat({ prefix: `${opts.capture}-`, abortSignal: signal })) {
        const parsed = parseArchiveName(b.name, opts.capture);
        if (!parsed) continue;
        if (opts.nodes && !opts.nodes.includes(parsed.node)) continue;
        if (opts.timestamp && parsed.timestamp !== opts.timestamp) continue;
        listed.push({ name: b.name, ...parsed, bytes: b.properties.contentLength ?? 0 });
      }
    },
    () => undefined,
  ).catch((err: unknown) => {
    if (signal?.aborted) throw err;
    throw explainBlobError(err, 'list', where);
  });
  if (listed.length === 0) {
    throw new BlobDownloadError(`no archives named ${opts.capture}-<node>-<timestamp>UTC.tar.gz in ${where}`);
  }

  // 2. Download + unpack, a few at a time.
  await mkdir(opts.targetParent, { recursive: true });
  const downloads = await mkdtemp(path.join(opts.targetParent, `.${opts.capture}-archives-`));
  const archives: NodeArchive[] = [];
  // Every archive of this capture draws from one disk budget (parallel unpacks included).
  const lim = { ...DEFAULT_UNPACK_LIMITS, ...opts.limits };
  const budget = new DiskBudget(lim.maxCaptureBytes, lim.minFreeBytes);
  const failures: BlobDownloadResult['failures'] = [];
  const emit = (p: BlobDownloadProgress): void => {
    try {
      opts.onProgress?.(p);
    } catch {
      // a progress listener never breaks a download
    }
  };

  const one = async (item: Listed): Promise<void> => {
    // parseArchiveName let only safe names through; childPath checks again where the path is made.
    const file = childPath(downloads, item.name, 'the blob name');
    const part = childPath(downloads, `${item.name}.part`, 'the blob name');
    const blob = container.getBlobClient(item.name);
    let received = 0;
    try {
      await withRetry(
        async () => {
          received = 0;
          emit({ node: item.node, blob: item.name, phase: 'download', bytes: 0, totalBytes: item.bytes });
          const res = await blob.download(0, undefined, { abortSignal: signal, maxRetryRequests: 3 });
          const body = res.readableStreamBody;
          if (!body) throw new Error('the storage service returned no body');
          let lastEmit = 0;
          const counter = new Transform({
            transform(chunk: Buffer, _enc, cb) {
              received += chunk.length;
              if (received - lastEmit >= 1024 * 1024) {
                lastEmit = received;
                emit({ node: item.node, blob: item.name, phase: 'download', bytes: received, totalBytes: item.bytes });
              }
              cb(null, chunk);
            },
          });
          await pipeline(body, counter, createWriteStream(part, { mode: 0o600 }), signal ? { signal } : {});
          const size = (await stat(part)).size;
          const expected = res.contentLength ?? item.bytes;
          if (size !== expected) {
            const e = new Error(`short download: ${size} of ${expected} bytes`) as Error & { code: string };
            e.code = 'ECONNRESET';
            throw e;
          }
        },
        (err, attempt) =>
          emit({
            node: item.node,
            blob: item.name,
            phase: 'retry',
            bytes: received,
            totalBytes: item.bytes,
            message: `attempt ${attempt} failed: ${redact(String((err as Error).message ?? err))}`,
          }),
      ).catch((err: unknown) => {
        if (signal?.aborted) throw err;
        throw explainBlobError(err, 'read', `${where}/${item.name}`);
      });
      await rename(part, file);
      emit({ node: item.node, blob: item.name, phase: 'unpack', bytes: received, totalBytes: item.bytes });
      const unpacked = await unpackArchive(file, opts.targetParent, opts.limits ?? {}, signal, {
        prefix: `${item.node}-`,
        budget,
      });
      if (!opts.keepArchives) await rm(file, { force: true });
      archives.push({
        node: item.node,
        timestamp: item.timestamp,
        blob: item.name,
        bytes: received,
        unpacked,
        ...(opts.keepArchives ? { archivePath: file } : {}),
      });
      emit({ node: item.node, blob: item.name, phase: 'done', bytes: received, totalBytes: item.bytes });
    } catch (err) {
      await rm(part, { force: true });
      if (!opts.keepArchives) await rm(file, { force: true });
      if (signal?.aborted) throw err;
      const message = err instanceof Error ? err.message : String(err);
      failures.push({ node: item.node, blob: item.name, error: message });
      emit({ node: item.node, blob: item.name, phase: 'failed', bytes: received, message });
    }
  };

  try {
    await pool(listed, opts.concurrency ?? 3, one);
  } catch (err) {
    // Cancelled: remove what this call wrote.
    await Promise.all(archives.map((a) => rm(a.unpacked.dir, { recursive: true, force: true })));
    await rm(downloads, { recursive: true, force: true });
    throw err;
  }
  if (!opts.keepArchives) await rm(downloads, { recursive: true, force: true }).catch(() => undefined);
  archives.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return { archives, failures };
}
