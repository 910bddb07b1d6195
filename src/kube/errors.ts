// Every failure of a Kubernetes call becomes one typed KubeError whose message says what to do.
// The ui shows `message` as is; callers branch on `kind`, never on HTTP codes or text.
import { redact } from '../contract/redact.js';

export type KubeErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'notFound'
  | 'conflict'
  | 'invalid'
  | 'tooManyRequests'
  | 'unavailable'
  | 'network'
  | 'timeout'
  | 'gone'
  | 'aborted'
  | 'config';

/** What the request was about, so a 403 can name verb, resource and namespace. */
export interface RequestContext {
  verb: string;
  /** Plural resource, with group when not core: `jobs.batch`. */
  resource?: string;
  namespace?: string;
  name?: string;
  /** Context name, for messages about credentials. */
  context?: string;
}

export class KubeError extends Error {
  readonly kind: KubeErrorKind;
  readonly status?: number;
  readonly retryAfterMs?: number;
  /** The Status object's reason (`AlreadyExists`, `Expired`, …) when the server sent one. */
  readonly reason?: string;

  constructor(
    kind: KubeErrorKind,
    message: string,
    opts: { status?: number; retryAfterMs?: number; reason?: string; cause?: unknown } = {},
  ) {
    super(redact(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KubeError';
    this.kind = kind;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
    this.reason = opts.reason;
  }

  /** Worth retrying the same request later (429, 5xx, dropped connection, timeout). */
  get retryable(): boolean {
    return (
      this.kind === 'tooManyRequests' ||
      this.kind === 'unavailable' ||
      this.kind === 'network' ||
      this.kind === 'timeout'
    );
  }
}

export function isKubeError(e: unknown, kind?: KubeErrorKind): e is KubeError {
  return e instanceof KubeError && (kind === undefined || e.kind === kind);
}

/** The parts of a metav1.Status body we read. */
export interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { message?: string; field?: string }[] };
}

function describeTarget(ctx: RequestContext): string {
  const res = ctx.resource ?? 'resource';
  const where = ctx.namespace ? ` in namespace ${ctx.namespace}` : ' (cluster-wide)';
  return `${ctx.verb} ${res}${where}`;
}

/** Retry-After in seconds or an HTTP date → milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Maps an HTTP answer (status + parsed body + Retry-After) to a KubeError with advice. */
export function errorFromResponse(
  status: number,
  body: StatusBody | string | undefined,
  ctx: RequestContext,
  retryAfter?: string | null,
): KubeError {
  const st: StatusBody = typeof body === 'object' && body !== null ? body : {};
  const serverMsg = st.message ?? (typeof body === 'string' ? body.slice(0, 300) : '');
  const retryAfterMs = parseRetryAfter(retryAfter);
  const opts = { status, retryAfterMs, reason: st.reason };
  const target = describeTarget(ctx);
  switch (status) {
    case 401:
      return new KubeError(
        'unauthorized',
        `The cluster did not accept your credentials${ctx.context ? ` for context "${ctx.context}"` : ''}. ` +
          'Sign in again (for AKS: `az login`, then `kubelogin convert-kubeconfig -l azurecli`) or refresh the kubeconfig.',
        opts,
      );
    case 403:
      return new KubeError(
        'forbidden',
        `You cannot ${target}. Ask a cluster admin for a Role granting "${ctx.verb}" on ${ctx.resource ?? 'it'}` +
          `${ctx.namespace ? ` in ${ctx.namespace}` : ''}.${serverMsg ? ` (server: ${serverMsg})` : ''}`,
        opts,
      );
    case 404:
      return new KubeError(
        'notFound',
        `Not found: ${ctx.resource ?? 'resource'} ${ctx.name ?? ''}${ctx.namespace ? ` in namespace ${ctx.namespace}` : ''}. ${serverMsg}`.trim(),
        opts,
      );
    case 409:
      return new KubeError(
        'conflict',
        `Conflict on ${target}: ${serverMsg || 'the object changed or already exists'}. Retry.`,
        opts,
      );
    case 410:
      return new KubeError(
        'gone',
        `The watch position expired (${serverMsg || '410 Gone'}); a fresh list is needed.`,
        opts,
      );
    case 400:
    case 422: {
      const causes = (st.details?.causes ?? [])
        .map((c) => (c.field ? `${c.field}: ${c.message}` : c.message))
        .filter(Boolean);
      const detail = causes.length ? causes.join('; ') : serverMsg;
      return new KubeError('invalid', `The cluster rejected ${target}: ${detail}`, opts);
    }
    case 429:
      return new KubeError(
        'tooManyRequests',
        `The API server is throttling requests (${target}); retrying later.`,
        opts,
      );
    case 408:
    case 504:
      return new KubeError('timeout', `The API server timed out on ${target}. ${serverMsg}`.trim(), opts);
    default:
      if (status >= 500) {
        return new KubeError(
          'unavailable',
          `The API server failed on ${target} (HTTP ${status}). ${serverMsg}`.trim(),
          opts,
        );
      }
      return new KubeError('invalid', `Unexpected HTTP ${status} on ${target}. ${serverMsg}`.trim(), opts);
  }
}

/** Socket-level failures (no HTTP answer). */
export function errorFromNetwork(e: unknown, ctx: RequestContext, server?: string): KubeError {
  if (e instanceof KubeError) return e;
  const err = e as NodeJS.ErrnoException & { name?: string };
  const where = server ? ` at ${server}` : '';
  if (err?.name === 'AbortError') return new KubeError('aborted', `Cancelled: ${describeTarget(ctx)}.`, { cause: e });
  const code = err?.code ?? '';
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || err?.name === 'TimeoutError') {
    return new KubeError('timeout', `The API server${where} did not answer in time. Check VPN / network.`, {
      cause: e,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new KubeError(
      'network',
      `Cannot resolve the API server${where}. Check the kubeconfig's server address, DNS and VPN.`,
      { cause: e },
    );
  }
  if (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH'
  ) {
    return new KubeError(
      'network',
      `Cannot reach the API server${where} (${code}). Is the cluster running and reachable (VPN, proxy-url)?`,
      { cause: e },
    );
  }
  if (/certificate|self[- ]signed|CERT_|UNABLE_TO_VERIFY/i.test(`${code} ${err?.message ?? ''}`)) {
    return new KubeError(
      'config',
      `TLS check of the API server${where} failed (${err?.message ?? code}). Check certificate-authority in the kubeconfig.`,
      { cause: e },
    );
  }
  return new KubeError('network', `Request to the API server${where} failed: ${err?.message ?? String(e)}`, {
    cause: e,
  });
}

/** Errors thrown while computing credentials (exec plugin such as kubelogin, unreadable cert files). */
export function errorFromCredentials(e: unknown, context: string, execCommand?: string): KubeError {
  const err = e as NodeJS.ErrnoException;
  const text = (err?.message ?? String(e)).trim().split('\n').slice(0, 5).join(' ');
  if (execCommand) {
    if (err?.code === 'ENOENT') {
      const hint = /kubelogin/.test(execCommand)
        ? ' Install kubelogin (https://azure.github.io/kubelogin/) and make sure it is on the PATH VS Code sees.'
        : ' Install it or fix the exec command in the kubeconfig.';
      return new KubeError(
        'config',
        `The credential plugin "${execCommand}" of context "${context}" was not found.${hint}`,
        { cause: e },
      );
    }
    const hint = /kubelogin/.test(execCommand)
      ? ' Run `az login` (or `kubelogin` with your login mode) in a terminal, then retry.'
      : '';
    return new KubeError(
      'unauthorized',
      `The credential plugin "${execCommand}" of context "${context}" failed: ${text || 'no output'}.${hint}`,
      { cause: e },
    );
  }
  return new KubeError('config', `Cannot load credentials of context "${context}": ${text}`, { cause: e });
}
