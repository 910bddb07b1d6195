// Blob output through the container SAS URL only. Our own retry loop (the SDK's is switched
// off so every try has one timeout and one policy): exponential backoff with full jitter on
// network errors, timeouts, 408/429 and 5xx; no retry on 403 (a SAS does not heal) — the error
// names the missing permission instead. Large files go up as blocks (stageBlock +
// commitBlockList), which a create+write SAS allows. Error texts pass through redact().
import { open, stat } from 'node:fs/promises';
import type * as BlobSdk from '@azure/storage-blob';
import { redact } from '../../../src/contract/index.js';

/**
 * Loaded only when a blob output is used, as its own webpack chunk (dist/worker-chunks/): the SDK
 * is ~3/4 of the worker bundle, and compiling it at start-up cost every capture ~25 ms of CPU
 * before capturing. The ESM build of @azure/storage-common calls createRequire(import.meta.url),
 * which breaks in a CommonJS bundle: webpack.config.cjs aliases it to its CommonJS build.
 */
function loadBlobSdk(): Promise<typeof BlobSdk> {
  return import(/* webpackChunkName: "blob-sdk" */ '@azure/storage-blob');
}

export interface BlobUploadOptions {
  /** Files up to this size go up in one request. */
  singleShotMax?: number;
  blockSize?: number;
  concurrency?: number;
  maxTries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-try timeout floor; large requests get more (at 1 MiB/s). */
  tryTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface BlobUploadResult {
  blobName: string;
  bytes: number;
  tries: number;
  blocks: number;
}

export class BlobUploadError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'BlobUploadError';
  }
}

interface RestLike {
  statusCode?: number;
  code?: string;
  name?: string;
  message?: string;
  details?: { errorCode?: string };
}

/** Turns an SDK/network error into a one-line reason and whether a retry may help. */
export function classifyBlobError(err: unknown, op: 'upload' | 'stage' | 'commit'): BlobUploadError {
  const e = (err ?? {}) as RestLike;
  const status = e.statusCode;
  const code = e.details?.errorCode ?? e.code ?? '';
  const msg = redact(String(e.message ?? err).split('\n')[0] ?? '');
  if (status === 403) {
    let why: string;
    if (code === 'AuthorizationPermissionMismatch')
      why = op === 'upload' ? 'the SAS lacks create (c) or write (w) permission' : 'the SAS lacks write (w) permission';
    else if (code === 'AuthorizationProtocolMismatch') why = 'the SAS allows https only';
    else if (code === 'AuthorizationSourceIPMismatch') why = "the SAS does not allow this node's IP address";
    else if (code === 'AuthorizationResourceTypeMismatch') why = 'the SAS does not cover blobs (srt/sr)';
    else if (/expire/i.test(msg)) why = 'the SAS has expired';
    else if (code === 'AuthenticationFailed') why = 'the SAS signature was rejected (wrong key, altered or revoked)';
    else if (code === 'AuthorizationFailure')
      why = 'the SAS was refused (AuthorizationFailure): wrong signature, revoked policy or storage network rules';
    else why = `access denied${code ? ` (${code})` : ''}`;
    return new BlobUploadError(`blob upload refused (403): ${why}`, false, 403);
  }
  if (status === 404)
    return new BlobUploadError(
      `blob upload failed (404 ${code || 'not found'}): does the container exist?`,
      false,
      404,
    );
  if (status !== undefined && (status >= 500 || status === 408 || status === 429))
    return new BlobUploadError(`blob service error ${status}${code ? ` ${code}` : ''}`, true, status);
  if (status !== undefined)
    return new BlobUploadError(`blob upload failed (${status}${code ? ` ${code}` : ''}): ${msg}`, false, status);
  // No status: network error or our per-try timeout.
  const timeout = e.name === 'AbortError' || /abort|timeout/i.test(msg);
  return new BlobUploadError(timeout ? 'blob upload try timed out' : `network error: ${e.code ?? msg}`, true);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function withRetry<T>(
  what: string,
  op: 'upload' | 'stage' | 'commit',
  o: Required<Omit<BlobUploadOptions, 'log'>> & Pick<BlobUploadOptions, 'log'>,
  counter: { tries: number },
  bytes: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeoutMs = Math.max(o.tryTimeoutMs, Math.ceil(bytes / (1024 * 1024)) * 1000);
  for (let attempt = 1; ; attempt++) {
    counter.tries++;
    try {
      return await fn(AbortSignal.timeout(timeoutMs));
    } catch (err) {
      const c = classifyBlobError(err, op);
      if (!c.retryable || attempt >= o.maxTries) throw c;
      const delay = Math.random() * Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
      o.log?.(`${what}: ${c.message}; retry ${attempt}/${o.maxTries - 1} in ${Math.round(delay)} ms`);
      await sleep(delay);
    }
  }
}

/** Uploads `file` as `<container>/<blobName>` through the SAS URL. */
export async function uploadToBlob(
  sasUrl: string,
  blobName: string,
  file: string,
  opts: BlobUploadOptions = {},
): Promise<BlobUploadResult> {
  const o = {
    singleShotMax: opts.singleShotMax ?? 32 << 20,
    blockSize: opts.blockSize ?? 8 << 20,
    concurrency: opts.concurrency ?? 2,
    maxTries: opts.maxTries ?? 5,
    baseDelayMs: opts.baseDelayMs ?? 500,
    maxDelayMs: opts.maxDelayMs ?? 8000,
    tryTimeoutMs: opts.tryTimeoutMs ?? 30_000,
    log: opts.log,
  };
  const { ContainerClient, newPipeline, AnonymousCredential } = await loadBlobSdk();
  const pipeline = newPipeline(new AnonymousCredential(), {
    retryOptions: { maxTries: 1 },
    keepAliveOptions: { enable: true },
  });
  const blob = new ContainerClient(sasUrl, pipeline).getBlockBlobClient(blobName);
  const headers = { blobHTTPHeaders: { blobContentType: 'application/gzip' } };
  const size = (await stat(file)).size;
  const counter = { tries: 0 };
  const fh = await open(file, 'r');
  try {
    const read = async (offset: number, length: number): Promise<Buffer> => {
      const buf = Buffer.alloc(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) throw new Error(`${file} shrank while uploading`);
        got += bytesRead;
      }
      return buf;
    };
    if (size <= o.singleShotMax) {
      const body = await read(0, size);
      await withRetry('upload', 'upload', o, counter, size, (abortSignal) =>
        blob.upload(body, size, { ...headers, abortSignal }),
      );
      return { blobName, bytes: size, tries: counter.tries, blocks: 0 };
    }
    const count = Math.ceil(size / o.blockSize);
    const ids = Array.from({ length: count }, (_, i) =>
      Buffer.from(`rcap-block-${String(i).padStart(6, '0')}`).toString('base64'),
    );
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const i = next++;
        const off = i * o.blockSize;
        const len = Math.min(o.blockSize, size - off);
        const body = await read(off, len);
        await withRetry(`block ${i + 1}/${count}`, 'stage', o, counter, len, (abortSignal) =>
          blob.stageBlock(ids[i] as string, body, len, { abortSignal }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, count) }, worker));
    await withRetry('commit', 'commit', o, counter, 0, (abortSignal) =>
      blob.commitBlockList(ids, { ...headers, abortSignal }),
    );
    return { blobName, bytes: size, tries: counter.tries, blocks: count };
  } finally {
    await fh.close();
  }
}
