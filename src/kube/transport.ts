// The one place HTTP requests to the API server are made: credentials from the kubeconfig
// (via client-node, which runs exec plugins and reads cert files), a keep-alive agent,
// request counting for benchmarks, error mapping, and retries:
//   401 → re-read the kubeconfig (rotated token, expired exec credential) and retry once;
//   403 → reported, never retried;
//   429 / 5xx / dropped connection → bounded retries honouring Retry-After, capped jittered backoff.
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  KubeError,
  errorFromCredentials,
  errorFromNetwork,
  errorFromResponse,
  type RequestContext,
  type StatusBody,
} from './errors.js';
import { backoffDelay, sleep } from './backoff.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  method: Method;
  /** API path, e.g. `/api/v1/namespaces/x/pods`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Default `application/json`; patches pass their patch type. */
  contentType?: string;
  ctx: RequestContext;
  signal?: AbortSignal;
  /** Attempts after the first for retryable failures (default 4; POST retries only what was never applied). */
  retries?: number;
  /** Per-attempt timeout for non-streaming requests (default 30 s). */
  timeoutMs?: number;
}

/** Counts every HTTP request sent (retries and watches included), for "API requests ≤ nodes + 20". */
export interface RequestStats {
  total: number;
  byKey: Record<string, number>;
}

interface Auth {
  at: number;
  server: URL;
  headers: Record<string, string>;
  agent: http.Agent;
}

/** Credentials are recomputed at most this often (exec tokens are cached by client-node anyway). */
const AUTH_TTL_MS = 60_000;

export class Transport {
  readonly stats: RequestStats = { total: 0, byKey: {} };
  private auth?: Promise<Auth>;
  private kc: KubeConfig;
  private disposed = false;

  constructor(
    kc: KubeConfig,
    private readonly contextName: string,
    /** Re-reads the kubeconfig files (after a 401). */
    private readonly reload: () => Promise<KubeConfig>,
  ) {
    this.kc = kc;
  }

  get kubeConfig(): KubeConfig {
    return this.kc;
  }

  dispose(): void {
    this.disposed = true;
    void this.auth?.then((a) => a.agent.destroy()).catch(() => undefined);
  }

  private count(opts: { method: string; ctx: RequestContext }): void {
    this.stats.total++;
    const key = `${opts.ctx.verb} ${opts.ctx.resource ?? '?'}`;
    this.stats.byKey[key] = (this.stats.byKey[key] ?? 0) + 1;
  }

  private async computeAuth(): Promise<Auth> {
    const kc = this.kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubeError('config', `Context "${this.contextName}" has no cluster.`);
    const opts: https.RequestOptions & { headers?: Record<string, string> } = {};
    try {
      // Runs the exec plugin / reads cert and token files; also builds a proxy agent when
      // the cluster has proxy-url.
      await kc.applyToHTTPSOptions(opts);
    } catch (e) {
      const exec = kc.getCurrentUser()?.exec as { command?: string } | undefined;
      throw errorFromCredentials(e, this.contextName, exec?.command);
    }
    const server = new URL(cluster.server);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k] = String(v);
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    let agent: http.Agent;
    if (cluster.proxyUrl && opts.agent) {
      agent = opts.agent as http.Agent; // hpagent / socks agent from client-node
    } else if (server.protocol === 'http:') {
      agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    } else {
      agent = new https.Agent({
        keepAlive: true,
        maxSockets: 64,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        pfx: opts.pfx,
        passphrase: opts.passphrase,
        servername: opts.servername,
        ...(opts.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: opts.rejectUnauthorized }),
      });
    }
    return { at: Date.now(), server, headers, agent };
  }

  private async getAuth(force = false): Promise<Auth> {
    const cur = this.auth;
    if (cur && !force) {
      const a = await cur.catch(() => undefined);
      if (a && Date.now() - a.at < AUTH_TTL_MS) return a;
    }
    const next = this.computeAuth();
    this.auth = next;
    next.catch(() => {
      if (this.auth === next) this.auth = undefined;
    });
    void cur?.then((a) => setTimeout(() => a.agent.destroy(), 60_000).unref()).catch(() => undefined);
    return next;
  }

  private async refreshCredentials(): Promise<void> {
    try {
      this.kc = await this.reload();
    } catch {
      // Keep the old config; the retry will report the 401 again.
    }
    await this.getAuth(true);
  }

  private buildUrl(auth: Auth, opts: Pick<RequestOptions, 'path' | 'query'>): URL {
    const base = auth.server.pathname.replace(/\/$/, '');
    const url = new URL(auth.server.origin + base + opts.path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  /** One attempt; resolves with the response (status any), rejects on socket errors. */
  private async send(opts: RequestOptions, stream: boolean): Promise<{ res: IncomingMessage; auth: Auth }> {
    if (this.disposed) throw new KubeError('aborted', 'The cluster connection was closed.');
    const auth = await this.getAuth();
    const url = this.buildUrl(auth, opts);
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string> = { ...auth.headers, Accept: 'application/json' };
    if (payload) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const mod = url.protocol === 'http:' ? http : https;
    this.count(opts);
    return await new Promise((resolve, reject) => {
      const req = mod.request(url, { method: opts.method, headers, agent: auth.agent, signal: opts.signal }, (res) =>
        resolve({ res, auth }),
      );
      if (!stream) {
        req.setTimeout(opts.timeoutMs ?? 30_000, () =>
          req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
        );
      }
      req.on('error', reject);
      req.end(payload);
    });
  }

  private async readBody(res: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async attempt(opts: RequestOptions, stream: boolean): Promise<IncomingMessage> {
    const maxRetries = opts.retries ?? 4;
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      let error: KubeError;
      try {
        const { res } = await this.send(opts, stream);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return res;
        const text = await this.readBody(res);
        let body: StatusBody | string = text;
        try {
          body = JSON.parse(text) as StatusBody;
        } catch {
          // not JSON: keep the text
        }
        error = errorFromResponse(status, body, { ...opts.ctx, context: this.contextName }, res.headers['retry-after']);
      } catch (e) {
        error = e instanceof KubeError ? e : errorFromNetwork(e, opts.ctx, this.kc.getCurrentCluster()?.server);
        // ECONNREFUSED means nothing was sent: safe to retry even a create.
        if (
          opts.method === 'POST' &&
          error.kind === 'network' &&
          (e as NodeJS.ErrnoException).code === 'ECONNREFUSED'
        ) {
          error = Object.assign(error, { safeForPost: true });
        }
      }
      if (opts.signal?.aborted)
        throw new KubeError('aborted', `Cancelled: ${opts.ctx.verb} ${opts.ctx.resource ?? ''}.`);
      if (error.kind === 'unauthorized' && !refreshed) {
        refreshed = true;
        await this.refreshCredentials();
        continue;
      }
      const postSafe =
        error.kind === 'tooManyRequests' || (error as KubeError & { safeForPost?: boolean }).safeForPost === true;
      const canRetry = error.retryable && (opts.method !== 'POST' || postSafe);
      if (!canRetry || attempt >= maxRetries) throw error;
      await sleep(backoffDelay(attempt, error.retryAfterMs), opts.signal);
    }
  }

  /** A JSON request; returns the parsed body. */
  async request<T>(opts: RequestOptions): Promise<T> {
    const res = await this.attempt(opts, false);
    const text = await this.readBody(res);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A streaming GET (watch): the 200 response, to be read line by line. */
  async stream(opts: Omit<RequestOptions, 'method' | 'body'>): Promise<IncomingMessage> {
    return this.attempt({ ...opts, method: 'GET' }, true);
  }
}
