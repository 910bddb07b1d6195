// Creating a capture as a retina.sh Capture resource instead of Jobs: the upload Secret first
// (Retina's operator looks it up by the name in outputConfiguration and fails the Capture with
// FindSecretFailed when it is missing), then the Capture, then the Secret is tied to the Capture
// by an ownerReference so deleting the Capture also removes the credentials. On failure what
// was created is deleted again, as for Jobs.
import type { V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { CAPTURE_API_VERSION, CAPTURE_KIND, buildCaptureResource, type CaptureResource } from '../capture/crd.js';
import { buildBlobSecret, buildS3Secret } from '../capture/manifests.js';
import type { CapturePlan } from '../capture/plan.js';
import type { CaptureRequest } from '../capture/request.js';
import type { KubeDoor } from '../kube/door.js';
import { isKubeError } from '../kube/errors.js';
import type { CaptureEvent } from './events.js';
import { CaptureStartError } from './errors.js';

export interface CreatedResource {
  resource: CaptureResource;
  secret?: V1Secret;
  /** Warnings of the translation (e.g. pod mode is whole-node-by-IP in Retina's operator). */
  warnings: string[];
}

/** The reasons this plan cannot be expressed as a Capture, before anything is created. */
export function captureResourceProblems(plan: CapturePlan, request: CaptureRequest): string[] {
  const dry = buildCaptureResource(plan, request, { blobSecretName: 'x', s3SecretName: 'x' });
  return dry.problems.filter((p) => p.severity === 'error').map((p) => p.message);
}

export async function createCaptureResource(
  door: KubeDoor,
  plan: CapturePlan,
  request: CaptureRequest,
  emit: (ev: CaptureEvent) => void,
  signal?: AbortSignal,
): Promise<CreatedResource> {
  const ns = plan.namespace;
  let secret: V1Secret | undefined;
  let resource: CaptureResource | undefined;
  try {
    if (request.outputs.blob) {
      secret = await door.create<V1Secret>('secrets', ns, buildBlobSecret(plan, request.outputs.blob.sasUrl), signal);
    } else if (request.outputs.s3) {
      secret = await door.create<V1Secret>('secrets', ns, buildS3Secret(plan, request.outputs.s3), signal);
    }
    const built = buildCaptureResource(plan, request, {
      blobSecretName: request.outputs.blob ? secret?.metadata?.name : undefined,
      s3SecretName: request.outputs.s3 ? secret?.metadata?.name : undefined,
    });
    if (!('resource' in built)) throw new Error(built.problems.map((p) => p.message).join('; '));
    resource = await door.create<CaptureResource>('captures', ns, built.resource, signal);
    const uid = resource.metadata?.uid;
    if (secret?.metadata?.name && uid) {
      const owner: V1OwnerReference = { apiVersion: CAPTURE_API_VERSION, kind: CAPTURE_KIND, name: plan.name, uid };
      await door.patch(
        'secrets',
        ns,
        secret.metadata.name,
        { metadata: { ownerReferences: [owner] } },
        'merge',
        signal,
      );
    }
    const warnings = built.problems.filter((p) => p.severity === 'warning').map((p) => p.message);
    return { resource, secret, warnings };
  } catch (e) {
    const why = isKubeError(e) || e instanceof Error ? e.message : String(e);
    const reason = `Creating the Capture resource failed: ${why}`;
    const deleted: string[] = [];
    const leftovers: string[] = [];
    // Cleanup must run even when the caller's signal fired: no signal here.
    const undo = async (kind: 'captures' | 'secrets', name: string | undefined, label: string): Promise<void> => {
      if (!name) return;
      try {
        await door.delete(kind, ns, name, { propagationPolicy: 'Background' });
        deleted.push(label);
      } catch {
        leftovers.push(label);
      }
    };
    await undo('captures', resource?.metadata?.name, `capture/${resource?.metadata?.name}`);
    await undo('secrets', secret?.metadata?.name, `secret/${secret?.metadata?.name}`);
    emit({ type: 'rollback', capture: plan.name, reason, deleted, leftovers });
    const msg = `${reason}${leftovers.length ? ` Could not remove: ${leftovers.join(', ')}.` : ' Everything created was removed.'}`;
    throw new CaptureStartError(msg, 'create', [reason], leftovers);
  }
}
