// Checks before anything is created, so a capture never fails half-way for a reason known up
// front: every permission it needs (SelfSubjectAccessReview, in parallel), the namespace's Pod
// Security level (hostNetwork is refused by baseline and restricted), Windows nodes, and
// whether Retina's Capture CRD is served (the optional Capture-resource path).
import type { V1Namespace } from '@kubernetes/client-node';
import type { CaptureRequest } from '../capture/request.js';
import type { CapturePlan } from '../capture/plan.js';
import type { AccessCheck, AccessResult, KubeDoor } from '../kube/door.js';
import { isKubeError } from '../kube/errors.js';

export const CRD_NOT_SERVED =
  "This cluster does not serve Retina's Capture resource (captures.retina.sh/v1alpha1), so the capture cannot be started " +
  "through Retina's operator. Install Retina with its capture operator, or start the capture with Jobs (via: 'jobs', the default).";

export const PSA_ENFORCE = 'pod-security.kubernetes.io/enforce';

export interface PreflightResult {
  ok: boolean;
  /** Each one stops the capture; the text says what to change. */
  problems: string[];
  warnings: string[];
  denied: AccessResult[];
  /** `captures.retina.sh` is served: the Capture-resource path can be offered. */
  captureCrd: boolean;
}

/** Why each permission is needed, for the message. */
interface Need extends AccessCheck {
  why: string;
}

export function neededPermissions(request: CaptureRequest): Need[] {
  const ns = request.namespace;
  const cr = request.via === 'captureResource';
  const g = 'retina.sh';
  const needs: Need[] = cr
    ? [
        { verb: 'create', resource: 'captures', group: g, namespace: ns, why: 'to create the Capture resource' },
        { verb: 'delete', resource: 'captures', group: g, namespace: ns, why: 'to stop and clean up the Capture' },
        { verb: 'watch', resource: 'captures', group: g, namespace: ns, why: "to follow the Capture's status" },
        { verb: 'watch', resource: 'jobs', group: 'batch', namespace: ns, why: "to follow the operator's Jobs" },
      ]
    : [
        { verb: 'create', resource: 'jobs', group: 'batch', namespace: ns, why: 'to start the capture Jobs' },
        { verb: 'delete', resource: 'jobs', group: 'batch', namespace: ns, why: 'to stop and clean up captures' },
        { verb: 'watch', resource: 'jobs', group: 'batch', namespace: ns, why: 'to follow the capture' },
      ];
  needs.push(
    { verb: 'list', resource: 'pods', namespace: ns, why: 'to follow the capture pods' },
    { verb: 'watch', resource: 'pods', namespace: ns, why: 'to follow the capture pods' },
  );
  if (request.outputs.blob || request.outputs.s3) {
    needs.push(
      { verb: 'create', resource: 'secrets', namespace: ns, why: 'to hand the upload credentials to the workers' },
      {
        verb: 'patch',
        resource: 'secrets',
        namespace: ns,
        why: `to tie the upload Secret to the ${cr ? 'Capture' : 'Jobs'} (garbage collection)`,
      },
    );
  }
  if (request.outputs.hostPath) {
    needs.push(
      { verb: 'create', resource: 'pods', namespace: ns, why: 'to download host-path archives through a helper pod' },
      {
        verb: 'create',
        resource: 'pods',
        subresource: 'exec',
        namespace: ns,
        why: 'to stream host-path archives out of the helper pod',
      },
    );
  }
  return needs;
}

export function deniedMessage(d: Need | AccessResult): string {
  const res = `${d.resource}${d.subresource ? `/${d.subresource}` : ''}${d.group ? `.${d.group}` : ''}`;
  const why = 'why' in d ? ` (needed ${d.why})` : '';
  return (
    `You cannot ${d.verb} ${res} in namespace ${d.namespace}${why}; ask a cluster admin for a Role granting ` +
    `verbs [${d.verb}] on ${res} in ${d.namespace}, or pick a namespace where you have it.`
  );
}

/** The Pod Security problem of a namespace for hostNetwork pods, if any. */
export function podSecurityProblem(ns: V1Namespace): string | undefined {
  const level = ns.metadata?.labels?.[PSA_ENFORCE];
  if (level === 'baseline' || level === 'restricted') {
    const name = ns.metadata?.name;
    return (
      `Namespace ${name} enforces Pod Security "${level}" (label ${PSA_ENFORCE}=${level}), which forbids the hostNetwork ` +
      `capture pods. Set ${PSA_ENFORCE}=privileged on ${name} (kubectl label ns ${name} ${PSA_ENFORCE}=privileged --overwrite) ` +
      `or capture from a namespace without that label.`
    );
  }
  return undefined;
}

export async function preflight(
  door: KubeDoor,
  request: CaptureRequest,
  plan: CapturePlan | undefined,
  signal?: AbortSignal,
): Promise<PreflightResult> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const needs = neededPermissions(request);

  // The namespaces informer (synced for planning) saves a request; a GET otherwise.
  const nsInf = door.informer('namespaces');
  const cached = nsInf.isSynced ? nsInf.get(undefined, request.namespace) : undefined;
  const nsPromise = (
    cached ? Promise.resolve(cached) : door.get<V1Namespace>('namespaces', undefined, request.namespace, signal)
  ).then(
    (ns) => ({ ns }),
    (e: unknown) => ({ error: e }),
  );
  const reviews = Promise.all(needs.map((n) => door.canI(n, signal).then((r) => ({ ...r, why: n.why }))));
  const crd = door.serves('retina.sh/v1alpha1', 'captures', signal).catch(() => false);

  const results = await reviews;
  const denied = results.filter((r) => !r.allowed);
  for (const d of denied) problems.push(deniedMessage(d));

  const nsr = await nsPromise;
  if ('ns' in nsr) {
    const psa = podSecurityProblem(nsr.ns);
    if (psa) problems.push(psa);
    const warn = nsr.ns.metadata?.labels?.['pod-security.kubernetes.io/warn'];
    if (!psa && (warn === 'baseline' || warn === 'restricted')) {
      warnings.push(
        `Namespace ${request.namespace} warns on Pod Security "${warn}": the capture pods will trigger warnings.`,
      );
    }
  } else if (isKubeError(nsr.error, 'notFound')) {
    problems.push(`Namespace ${request.namespace} does not exist. Create it or pick another namespace.`);
  } else if (isKubeError(nsr.error, 'forbidden')) {
    warnings.push(
      `Cannot read namespace ${request.namespace} to check its Pod Security level; the Jobs may be refused.`,
    );
  } else {
    throw nsr.error;
  }

  for (const n of plan?.nodes ?? []) {
    if (n.os === 'windows') {
      problems.push(`Node ${n.node} runs Windows; Windows nodes are not supported yet. Leave it out of the targets.`);
    }
  }
  for (const p of plan?.problems ?? []) {
    if (p.severity === 'warning') warnings.push(p.message);
  }
  const captureCrd = await crd;
  if (request.via === 'captureResource' && !captureCrd) {
    problems.push(CRD_NOT_SERVED);
  }
  return { ok: problems.length === 0, problems: [...new Set(problems)], warnings, denied, captureCrd };
}
