// Validation of a CaptureRequest before anything touches the cluster. Every problem names the
// field and the allowed range, and all problems are returned at once so a form can mark them all.
import { CAPTURE_NAME_MAX, CAPTURE_NAME_RE, unprintableProblem } from '../contract/index.js';
import { checkSasUrl } from '../storage/sas-check.js';
import { filterProblem } from './bpf.js';
import { isPlainIp, parseIpPort } from './ipfilter.js';
import {
  WORKLOAD_KINDS,
  type CaptureOptions,
  type CaptureOutputs,
  type CaptureRequest,
  type CaptureTarget,
} from './request.js';
import { parseSelector } from './selector.js';

export interface ValidationProblem {
  /** Dotted path of the field, e.g. `options.durationSeconds`, `targets[1].name`. */
  field: string;
  /** Starts with the field name and says what is allowed. */
  message: string;
}

export const LIMITS = {
  durationSeconds: { min: 1, max: 86_400 },
  maxSizeMB: { min: 1, max: 10_240 },
  fileCount: { min: 1, max: 1_000 },
  snapLength: { min: 64, max: 262_144 },
  maxConcurrentJobs: { min: 1, max: 100 },
  /** Retina's CRD allows at most 100 source / destination IPs. */
  ipList: 100,
} as const;

const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isDnsLabel(s: string): boolean {
  return s.length <= 63 && DNS_LABEL_RE.test(s);
}

/** Node, pod and PVC names are DNS subdomains (≤ 253). */
export function isDnsSubdomain(s: string): boolean {
  return s.length <= 253 && DNS_SUBDOMAIN_RE.test(s);
}

/** Linux `dev_valid_name` (IFNAMSIZ 16) plus no ',' (CAPTURE_INTERFACES is a comma list). */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  // The kernel sees bytes: 16 including the terminating NUL, so 15 bytes of UTF-8 at most.
  const unprintable = unprintableProblem(name);
  if (unprintable) return `${JSON.stringify(name)} ${unprintable}`;
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > 15) return `"${name}" is ${bytes} bytes long; Linux allows 15 (IFNAMSIZ 16 includes the NUL)`;
  if (name === '.' || name === '..') return `"${name}" is not an interface name`;
  if (/[/:,\s]/.test(name)) return `"${name}" contains '/', ':', ',' or whitespace, which interface names cannot`;
  if (name === 'any') return `"any" is not supported; leave the list empty to capture on every interface`;
  return undefined;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::\\d+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^\w[\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** Why an image reference is malformed (distribution/reference grammar), or undefined. */
export function imageReferenceProblem(ref: string): string | undefined {
  if (ref.trim() === '') return 'is empty';
  if (/\s/.test(ref)) return `"${ref}" contains whitespace`;
  let rest = ref;
  const at = rest.indexOf('@');
  if (at >= 0) {
    if (!DIGEST_RE.test(rest.slice(at + 1))) return `"${ref}" has a malformed digest (expected @sha256:<hex>)`;
    rest = rest.slice(0, at);
  }
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    if (!TAG_RE.test(rest.slice(colon + 1))) return `"${ref}" has a malformed tag`;
    rest = rest.slice(0, colon);
  }
  if (rest.length > 255) return `"${ref}" has a name longer than 255 characters`;
  const parts = rest.split('/');
  const first = parts[0] as string;
  if (
    parts.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || /[A-Z]/.test(first))
  ) {
    if (!DOMAIN_RE.test(first)) return `"${ref}" has a malformed registry host "${first}"`;
    parts.shift();
  }
  for (const p of parts) {
    if (!PATH_COMPONENT_RE.test(p)) {
      return `"${ref}" is not an image reference (lowercase name components like registry.example.com/team/worker:1.0)`;
    }
  }
  return undefined;
}

function range(field: string, value: number, min: number, max: number): ValidationProblem | undefined {
  if (!Number.isInteger(value) || value < min || value > max) {
    return { field, message: `${field} must be a whole number between ${min} and ${max} (got ${String(value)})` };
  }
  return undefined;
}

function validateTarget(t: CaptureTarget, field: string, out: ValidationProblem[]): void {
  const name = (f: string, v: string, what: string): void => {
    if (!isDnsSubdomain(v)) {
      out.push({
        field: `${field}.${f}`,
        message: `${field}.${f} must be a ${what} name (lowercase RFC 1123, ≤ 253 characters) (got "${v}")`,
      });
    }
  };
  const ns = (f: string, v: string): void => {
    if (!isDnsLabel(v)) {
      out.push({
        field: `${field}.${f}`,
        message: `${field}.${f} must be a namespace name (lowercase RFC 1123 label, ≤ 63 characters) (got "${v}")`,
      });
    }
  };
  const sel = (f: string, v: Parameters<typeof parseSelector>[0]): void => {
    const p = parseSelector(v);
    if (!p.ok) out.push({ field: `${field}.${f}`, message: `${field}.${f} is not a valid label selector: ${p.error}` });
  };
  switch (t.kind) {
    case 'node':
      name('name', t.name, 'node');
      break;
    case 'nodeSelector':
      sel('labels', t.labels);
      break;
    case 'pod':
      ns('namespace', t.namespace);
      name('name', t.name, 'pod');
      break;
    case 'podSelector':
      sel('podLabels', t.podLabels);
      if (t.namespaceLabels !== undefined) sel('namespaceLabels', t.namespaceLabels);
      if (t.namespace !== undefined) ns('namespace', t.namespace);
      break;
    case 'workload':
      ns('namespace', t.namespace);
      name('name', t.name, 'workload');
      if (!WORKLOAD_KINDS.includes(t.workloadKind)) {
        out.push({
          field: `${field}.workloadKind`,
          message: `${field}.workloadKind must be one of ${WORKLOAD_KINDS.join(', ')} (got "${String(t.workloadKind)}")`,
        });
      }
      break;
    default:
      out.push({
        field: `${field}.kind`,
        message: `${field}.kind must be node, nodeSelector, pod, podSelector or workload`,
      });
  }
}

function validateOptions(o: CaptureOptions, out: ValidationProblem[]): void {
  const push = (p: ValidationProblem | undefined): void => {
    if (p) out.push(p);
  };
  push(range('options.durationSeconds', o.durationSeconds, LIMITS.durationSeconds.min, LIMITS.durationSeconds.max));
  push(range('options.maxSizeMB', o.maxSizeMB, LIMITS.maxSizeMB.min, LIMITS.maxSizeMB.max));
  if (o.fileCount !== undefined)
    push(range('options.fileCount', o.fileCount, LIMITS.fileCount.min, LIMITS.fileCount.max));
  if (o.snapLength !== 0 && range('options.snapLength', o.snapLength, LIMITS.snapLength.min, LIMITS.snapLength.max)) {
    out.push({
      field: 'options.snapLength',
      message: `options.snapLength must be 0 (whole packet) or between ${LIMITS.snapLength.min} and ${LIMITS.snapLength.max} bytes (got ${String(o.snapLength)})`,
    });
  }
  const mcj = range(
    'options.maxConcurrentJobs',
    o.maxConcurrentJobs,
    LIMITS.maxConcurrentJobs.min,
    LIMITS.maxConcurrentJobs.max,
  );
  if (mcj)
    out.push({
      field: 'options.maxConcurrentJobs',
      message: `${mcj.message} — it is the number of Job create requests in flight at once while the capture starts, not a limit on nodes`,
    });
  const fp = filterProblem(o.filter ?? '');
  if (fp) out.push({ field: 'options.filter', message: `options.filter ${fp}` });
  for (const key of ['include', 'exclude'] as const) {
    (o[key] ?? []).forEach((entry, i) => {
      const p = parseIpPort(entry);
      if (typeof p === 'string') out.push({ field: `options.${key}[${i}]`, message: `options.${key}[${i}]: ${p}` });
    });
  }
  for (const key of ['sourceIPs', 'destinationIPs'] as const) {
    const list = o[key] ?? [];
    if (list.length > LIMITS.ipList) {
      out.push({
        field: `options.${key}`,
        message: `options.${key} may hold at most ${LIMITS.ipList} addresses (got ${list.length})`,
      });
    }
    list.forEach((ip, i) => {
      if (!isPlainIp(ip)) {
        out.push({
          field: `options.${key}[${i}]`,
          message: `options.${key}[${i}] must be an IPv4 or IPv6 address (got "${ip}")`,
        });
      }
    });
  }
  (o.interfaces ?? []).forEach((n, i) => {
    const p = interfaceNameProblem(n);
    if (p) out.push({ field: `options.interfaces[${i}]`, message: `options.interfaces[${i}] ${p}` });
  });
}

/** Why a host path sub-path is rejected (Retina's rules: relative, no `..`), or undefined. */
export function subPathProblem(subPath: string): string | undefined {
  if (subPath.trim() === '') return 'is empty (use e.g. "retina")';
  if (subPath.startsWith('/') || subPath.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(subPath)) {
    return `must be relative to /var/log/retina/captures, not absolute (got "${subPath}")`;
  }
  if (subPath.split(/[/\\]/).includes('..')) return `must not contain ".." segments (got "${subPath}")`;
  if (subPath.includes('\0')) return 'contains a NUL character';
  // A newline would split the path in `ls` output and logs; bidi characters disguise it.
  const unprintable = unprintableProblem(subPath);
  if (unprintable) return `${unprintable} (got ${JSON.stringify(subPath)})`;
  return undefined;
}

function validateOutputs(
  o: CaptureOutputs,
  durationSeconds: number,
  opts: ValidateOptions,
  out: ValidationProblem[],
): void {
  const now = opts.now ?? new Date();
  if (!o.hostPath && !o.blob && !o.s3 && o.pvc === undefined) {
    out.push({ field: 'outputs', message: 'outputs must name at least one destination: hostPath, blob, s3 or pvc' });
  }
  if (o.hostPath) {
    const p = subPathProblem(o.hostPath.subPath);
    if (p) out.push({ field: 'outputs.hostPath.subPath', message: `outputs.hostPath.subPath ${p}` });
  }
  if (o.blob) {
    const ends = new Date(now.getTime() + (Number.isFinite(durationSeconds) ? durationSeconds : 0) * 1000);
    for (const p of checkSasUrl(o.blob.sasUrl, 'upload', now, {
      until: ends,
      allowHttp: opts.allowHttpBlob ?? false,
    })) {
      out.push({ field: 'outputs.blob.sasUrl', message: `outputs.blob.sasUrl: ${p}` });
    }
  }
  if (o.s3) {
    for (const key of ['bucket', 'accessKeyId', 'secretAccessKey'] as const) {
      if (!o.s3[key]) out.push({ field: `outputs.s3.${key}`, message: `outputs.s3.${key} is required` });
    }
    if (o.s3.endpoint) {
      try {
        new URL(o.s3.endpoint);
      } catch {
        out.push({
          field: 'outputs.s3.endpoint',
          message: `outputs.s3.endpoint must be a URL (got "${o.s3.endpoint}")`,
        });
      }
    }
  }
  if (o.pvc !== undefined && !isDnsSubdomain(o.pvc)) {
    out.push({
      field: 'outputs.pvc',
      message: `outputs.pvc must be a PersistentVolumeClaim name (lowercase RFC 1123) (got "${o.pvc}")`,
    });
  }
}

export interface ValidateOptions {
  /** Clock for SAS expiry checks; defaults to now. */
  now?: Date;
  /** Accept an http blob endpoint that is not loopback (test clusters reaching Azurite). */
  allowHttpBlob?: boolean;
}

/** Every problem of the request; empty when it can be planned. */
export function validateRequest(req: CaptureRequest, opts: ValidateOptions = {}): ValidationProblem[] {
  const out: ValidationProblem[] = [];
  if (req.name !== undefined && (req.name.length > CAPTURE_NAME_MAX || !CAPTURE_NAME_RE.test(req.name))) {
    out.push({
      field: 'name',
      message: `name must be a lowercase RFC 1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit) of 1 to ${CAPTURE_NAME_MAX} characters (got "${req.name}")`,
    });
  }
  if (!isDnsLabel(req.namespace ?? '')) {
    out.push({
      field: 'namespace',
      message: `namespace must be a namespace name (lowercase RFC 1123 label, ≤ 63 characters) (got "${req.namespace}")`,
    });
  }
  if (!req.targets?.length) {
    out.push({ field: 'targets', message: 'targets must contain at least one node, pod, selector or workload' });
  } else {
    req.targets.forEach((t, i) => validateTarget(t, `targets[${i}]`, out));
  }
  validateOptions(req.options, out);
  validateOutputs(req.outputs ?? {}, req.options.durationSeconds, opts, out);
  const ip = imageReferenceProblem(req.workerImage ?? '');
  if (ip) out.push({ field: 'workerImage', message: `workerImage ${ip}` });
  if (req.mode !== 'node' && req.mode !== 'pod') {
    out.push({ field: 'mode', message: `mode must be "node" or "pod" (got "${String(req.mode)}")` });
  }
  if (req.via !== undefined && req.via !== 'jobs' && req.via !== 'captureResource') {
    out.push({ field: 'via', message: `via must be "jobs" or "captureResource" (got "${String(req.via)}")` });
  }
  return out;
}
