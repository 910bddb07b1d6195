// Public engine API: run a whole Retina-compatible capture from plain Node with just a
// kubeconfig — the same code the extension uses, without VS Code.
//
//   const engine = await Engine.fromKubeconfig('~/.kube/config', { context: 'aks-dev' });
//   const run = await engine.startCapture({ namespace: 'default', targets: [{ kind: 'node', name: 'n1' }],
//                                          outputs: { hostPath: { subPath: 'retina' } }, options: { durationSeconds: 30 } });
//   for await (const ev of run.events) console.log(ev);
//   await run.done;
//   await engine.download(run.name, { to: './captures' });
//   engine.dispose();
//
// With Retina's operator installed, `{ ...request, via: 'captureResource' }` creates a Capture
// resource instead; the operator then runs Retina's own capture image, not our worker.
import { withDefaultOptions, type CaptureOptions, type CaptureRequest } from './capture/request.js';
import { downloadCaptureFromBlob, type BlobDownloadProgress, type NodeArchive } from './download/blob.js';
import { downloadCaptureFromHostPath, type HelperPodDoor, type HostPathProgress } from './download/hostpath.js';
import { listContexts, type ContextInfo } from './kube/config.js';
import { forContext, type KubeDoor } from './kube/door.js';
import { PodExecDoor } from './kube/podExec.js';
import type { RequestStats } from './kube/transport.js';
import {
  attach,
  deleteCapture,
  listCaptures,
  startCapture,
  type CaptureListing,
  type CaptureRun,
  type StartOptions,
} from './session/index.js';

export type { CaptureEvent, NodeState, CaptureRun, CaptureSummary, CaptureListing } from './session/index.js';
export type { CaptureRequest, CaptureVia } from './capture/request.js';
export type { ResourceState, ResourcePhase } from './session/resourceStatus.js';
export { CaptureStartError } from './session/index.js';
export { KubeError } from './kube/errors.js';

/** A request with every option optional (Retina CLI defaults fill the rest). */
export type EngineCaptureRequest = Omit<CaptureRequest, 'options' | 'workerImage' | 'mode' | 'namespace'> & {
  namespace?: string;
  options?: Partial<CaptureOptions>;
  workerImage?: string;
  mode?: CaptureRequest['mode'];
};

export interface EngineOptions {
  /** Context name (default: the kubeconfig's current context). */
  context?: string;
  log?: (msg: string) => void;
  /** Default worker image when a request has none. */
  workerImage?: string;
  /** Helper pod + exec for host-path downloads (default: src/kube/podExec.ts on this context). */
  helperPodDoor?: (door: KubeDoor) => HelperPodDoor | Promise<HelperPodDoor>;
}

export interface DownloadOptions {
  /** Folder that receives one sub-folder per node. */
  to: string;
  namespace?: string;
  /** Container SAS URL with read + list: download from blob instead of the nodes' host path. */
  blobSasUrl?: string;
  signal?: AbortSignal;
  onProgress?: (p: BlobDownloadProgress | HostPathProgress) => void;
}

export interface DownloadSummary {
  archives: NodeArchive[];
  failures: { node: string; error: string }[];
}

export const DEFAULT_WORKER_IMAGE = 'retina-capture-worker:latest';

export class Engine {
  private constructor(
    readonly door: KubeDoor,
    private readonly files: string[] | undefined,
    private readonly opts: EngineOptions,
  ) {}

  /** An engine bound to one context of the kubeconfig file(s) (default: KUBECONFIG / ~/.kube/config). */
  static async fromKubeconfig(path?: string | string[], opts: EngineOptions = {}): Promise<Engine> {
    const files = path === undefined ? undefined : Array.isArray(path) ? path : [path];
    const door = await forContext(opts.context, { files }, { log: opts.log });
    return new Engine(door, files, opts);
  }

  get context(): ContextInfo {
    return this.door.context;
  }

  /** API requests sent so far (benchmarks: "requests ≤ nodes + 20"). */
  get stats(): RequestStats {
    return this.door.stats;
  }

  contexts(): Promise<ContextInfo[]> {
    return listContexts({ files: this.files });
  }

  /** Fills defaults (namespace of the context, Retina's option defaults, worker image). */
  request(r: EngineCaptureRequest): CaptureRequest {
    return {
      ...r,
      namespace: r.namespace ?? this.door.namespace,
      options: withDefaultOptions(r.options ?? {}),
      workerImage: r.workerImage ?? this.opts.workerImage ?? DEFAULT_WORKER_IMAGE,
      mode: r.mode ?? 'node',
    };
  }

  /**
   * Preflight, create, follow. Rejects with CaptureStartError when nothing was started.
   * `via: 'captureResource'` creates a retina.sh Capture for Retina's operator instead of Jobs
   * (refused when the cluster does not serve the CRD); the run then also reports `resource` events.
   */
  startCapture(r: EngineCaptureRequest | CaptureRequest, opts: StartOptions = {}): ReturnType<typeof startCapture> {
    return startCapture(this.door, this.request(r as EngineCaptureRequest), opts);
  }

  listCaptures(namespace?: string): Promise<CaptureListing[]> {
    return listCaptures(this.door, { namespace });
  }

  attach(name: string, opts: Parameters<typeof attach>[2] = {}): Promise<CaptureRun> {
    return attach(this.door, name, opts);
  }

  deleteCapture(
    name: string,
    opts: { namespace?: string; signal?: AbortSignal } = {},
  ): Promise<{ jobs: string[]; secrets: string[]; resource?: boolean }> {
    return deleteCapture(this.door, name, opts);
  }

  /** Downloads and safely unpacks every node's archive (blob when a SAS is given, else host path). */
  async download(name: string, opts: DownloadOptions): Promise<DownloadSummary> {
    if (opts.blobSasUrl) {
      const r = await downloadCaptureFromBlob({
        containerSasUrl: opts.blobSasUrl,
        capture: name,
        targetParent: opts.to,
        signal: opts.signal,
        onProgress: opts.onProgress,
      });
      return { archives: r.archives, failures: r.failures.map((f) => ({ node: f.node, error: f.error })) };
    }
    const helper = this.opts.helperPodDoor
      ? await this.opts.helperPodDoor(this.door)
      : await PodExecDoor.create(this.door.kubeConfig());
    const found = (await this.listCaptures(opts.namespace)).find((c) => c.name === name);
    const namespace = opts.namespace ?? found?.namespace ?? this.door.namespace;
    return downloadCaptureFromHostPath({
      door: helper,
      namespace,
      capture: name,
      targetParent: opts.to,
      nodes: found?.nodes.map((n) => n.node),
      hostPath: found?.hostPath,
      timestamp: found?.timestamp,
      signal: opts.signal,
      onProgress: opts.onProgress,
    });
  }

  dispose(): void {
    this.door.dispose();
  }
}
