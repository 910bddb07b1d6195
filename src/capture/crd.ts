// Plan → a retina.sh/v1alpha1 Capture, for clusters whose Retina operator serves the CRD and
// should create the Jobs itself. The CRD selects either nodes, or pods by selector, or pods by
// name in the Capture's namespace; our richer targets are expressed through the plan's result
// (exact node hostnames, exact pod names) and refused when they cannot be expressed exactly.
import type { V1LabelSelector, V1ObjectMeta } from '@kubernetes/client-node';
import { CREATED_BY_US, LABEL_CREATED_BY, NODE_LABEL_HOSTNAME, formatGoDuration } from '../contract/index.js';
import type { CapturePlan, PlanProblem } from './plan.js';
import type { CaptureRequest } from './request.js';

export const CAPTURE_API_VERSION = 'retina.sh/v1alpha1';
export const CAPTURE_KIND = 'Capture';
/** Condition types Retina's operator sets (crd/api/v1alpha1: CaptureComplete, CaptureError). */
export const CONDITION_COMPLETE = 'complete';
export const CONDITION_ERROR = 'error';

/** metav1.Condition as the operator writes it. */
export interface CaptureCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/**
 * Retina's CaptureStatus. Its operator counts its Jobs into active/succeeded/failed, keeps
 * `complete` False (JobsInProgress) until every Job completed, then True (JobsCompleted) with
 * `completionTime`; sets `error` True (RunJobFailed, FindSecretFailed, CreateJobFailed, …) with a
 * message. `startTime` is in the schema but the operator versions read do not set it.
 */
export interface CaptureResourceStatus {
  conditions?: CaptureCondition[];
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
}

/** The subset of Retina's CaptureSpec we write (field names as in crd/api/v1alpha1/capture_types.go). */
export interface CaptureResource {
  apiVersion: typeof CAPTURE_API_VERSION;
  kind: typeof CAPTURE_KIND;
  metadata: V1ObjectMeta;
  spec: {
    captureConfiguration: {
      captureTarget: {
        nodeSelector?: V1LabelSelector;
        namespaceSelector?: V1LabelSelector;
        podSelector?: V1LabelSelector;
        podNames?: string[];
      };
      filters?: { include?: string[]; exclude?: string[] };
      includeMetadata: boolean;
      captureOption: {
        duration: string;
        packetSize?: number;
        maxCaptureSize: number;
        fileCount?: number;
        interfaces?: string[];
        pcapFilter?: string;
        sourceIPs?: string[];
        destinationIPs?: string[];
      };
    };
    outputConfiguration: {
      hostPath?: string;
      persistentVolumeClaim?: string;
      blobUpload?: string;
      s3Upload?: { endpoint?: string; bucket: string; secretName: string; region?: string; path?: string };
    };
    cleanUpAfterUpload?: boolean;
  };
  status?: CaptureResourceStatus;
}

export interface CaptureResourceOptions {
  blobSecretName?: string;
  s3SecretName?: string;
}

export type CaptureResourceResult =
  { resource: CaptureResource; problems: PlanProblem[] } | { problems: PlanProblem[] };

function target(plan: CapturePlan): CaptureResource['spec']['captureConfiguration']['captureTarget'] | string {
  const whole = plan.nodes.filter((n) => n.wholeNode);
  const podNodes = plan.nodes.filter((n) => !n.wholeNode);
  if (whole.length && podNodes.length) {
    return 'the Capture resource selects either nodes or pods, and this capture has both; create Jobs directly instead';
  }
  if (whole.length) {
    return {
      nodeSelector: {
        matchExpressions: [{ key: NODE_LABEL_HOSTNAME, operator: 'In', values: whole.map((n) => n.hostname) }],
      },
    };
  }
  const pods = podNodes.flatMap((n) => n.pods);
  const foreign = pods.filter((p) => p.namespace !== plan.namespace);
  if (foreign.length) {
    return `the Capture resource selects pods by name only in its own namespace (${plan.namespace}), and ${foreign[0]?.namespace}/${foreign[0]?.name} is elsewhere; create Jobs directly or capture in that namespace`;
  }
  if (!pods.length) return 'the plan selects no node or pod';
  return { podNames: pods.map((p) => p.name) };
}

/** The Capture object, or the reasons it cannot express this capture exactly. */
export function buildCaptureResource(
  plan: CapturePlan,
  request: CaptureRequest,
  opts: CaptureResourceOptions = {},
): CaptureResourceResult {
  const problems: PlanProblem[] = [];
  const t = target(plan);
  if (typeof t === 'string') return { problems: [{ severity: 'error', message: t }] };
  if (request.mode === 'pod') {
    problems.push({
      severity: 'warning',
      message:
        "Retina's operator captures the whole node filtered by pod IP; pod-precise mode needs Jobs created directly",
    });
  }
  const o = request.options;
  const out = request.outputs;
  if (out.blob && !opts.blobSecretName)
    return { problems: [{ severity: 'error', message: 'blob output needs the Secret name' }] };
  if (out.s3 && !opts.s3SecretName)
    return { problems: [{ severity: 'error', message: 's3 output needs the Secret name' }] };
  const filters = {
    ...(o.include.length ? { include: [...o.include] } : {}),
    ...(o.exclude.length ? { exclude: [...o.exclude] } : {}),
  };
  const resource: CaptureResource = {
    apiVersion: CAPTURE_API_VERSION,
    kind: CAPTURE_KIND,
    metadata: { name: plan.name, namespace: plan.namespace, labels: { [LABEL_CREATED_BY]: CREATED_BY_US } },
    spec: {
      captureConfiguration: {
        captureTarget: t,
        ...(Object.keys(filters).length ? { filters } : {}),
        includeMetadata: o.includeMetadata,
        captureOption: {
          duration: formatGoDuration(o.durationSeconds),
          ...(o.snapLength ? { packetSize: o.snapLength } : {}),
          maxCaptureSize: o.maxSizeMB,
          ...(o.fileCount !== undefined ? { fileCount: o.fileCount } : {}),
          ...(o.interfaces.length ? { interfaces: [...o.interfaces] } : {}),
          ...(o.filter.trim() ? { pcapFilter: o.filter.trim() } : {}),
          ...(o.sourceIPs.length ? { sourceIPs: [...o.sourceIPs] } : {}),
          ...(o.destinationIPs.length ? { destinationIPs: [...o.destinationIPs] } : {}),
        },
      },
      outputConfiguration: {
        // The CRD takes the relative sub-path; the operator joins it under its base dir.
        ...(out.hostPath ? { hostPath: out.hostPath.subPath } : {}),
        ...(out.pvc !== undefined ? { persistentVolumeClaim: out.pvc } : {}),
        ...(out.blob ? { blobUpload: opts.blobSecretName } : {}),
        ...(out.s3
          ? {
              s3Upload: {
                ...(out.s3.endpoint ? { endpoint: out.s3.endpoint } : {}),
                bucket: out.s3.bucket,
                secretName: opts.s3SecretName as string,
                ...(out.s3.region ? { region: out.s3.region } : {}),
                ...(out.s3.path ? { path: out.s3.path } : {}),
              },
            }
          : {}),
      },
      ...(o.cleanupAfterUpload ? { cleanUpAfterUpload: true } : {}),
    },
  };
  return { resource, problems };
}
