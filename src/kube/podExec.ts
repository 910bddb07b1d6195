// The HelperPodDoor of host-path downloads, on @kubernetes/client-node 1.4 (loaded lazily):
// list/create/delete pods, wait for Running with a watch, and exec with stdout streamed into
// a Writable (with backpressure: the websocket is paused while the writable is full).
import { PassThrough, type Writable } from 'node:stream';
import type * as K8sModule from './k8sApi.js';
import type { CoreV1Api, KubeConfig, V1Pod, V1Status } from '@kubernetes/client-node';
import type { HelperPodDoor, PodManifest, PodSummary, Toleration } from '../download/hostpath.js';

type K8s = typeof K8sModule;

function summary(p: V1Pod): PodSummary {
  const s: PodSummary = {
    name: p.metadata?.name ?? '',
    namespace: p.metadata?.namespace ?? '',
    labels: p.metadata?.labels ?? {},
    annotations: p.metadata?.annotations ?? {},
  };
  if (p.spec?.nodeName) s.nodeName = p.spec.nodeName;
  if (p.status?.phase) s.phase = p.status.phase;
  if (p.spec?.tolerations) s.tolerations = p.spec.tolerations as Toleration[];
  return s;
}

/** Why a pod cannot start, when it visibly cannot (image, config); undefined while it may. */
function startProblem(p: V1Pod): string | undefined {
  const phase = p.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') {
    return `pod ${p.metadata?.name} ended (${phase}${p.status?.message ? `: ${p.status.message}` : ''})`;
  }
  for (const cs of p.status?.containerStatuses ?? []) {
    const w = cs.state?.waiting;
    if (
      w &&
      /ErrImagePull|ImagePullBackOff|InvalidImageName|CreateContainerConfigError|CreateContainerError/.test(
        w.reason ?? '',
      )
    ) {
      return `pod ${p.metadata?.name} cannot start: ${w.reason}${w.message ? ` (${w.message})` : ''}`;
    }
  }
  return undefined;
}

/** Exit code from the status exec reports on its error channel. */
export function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message !== undefined && /^\d+$/.test(cause.message)) return Number(cause.message);
  throw new Error(`exec failed: ${status.message ?? status.reason ?? 'unknown error'}`);
}

export class PodExecDoor implements HelperPodDoor {
  private constructor(
    private readonly k8s: K8s,
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
  ) {}

  /** From a loaded KubeConfig (e.g. the kube door's). */
  static async create(kc: KubeConfig): Promise<PodExecDoor> {
    const k8s = await import(/* webpackChunkName: "k8s-api" */ './k8sApi.js');
    return new PodExecDoor(k8s, kc, kc.makeApiClient(k8s.CoreV1Api));
  }

  static async fromFile(file: string, context?: string): Promise<PodExecDoor> {
    const k8s = await import(/* webpackChunkName: "k8s-api" */ './k8sApi.js');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(file);
    if (context) kc.setCurrentContext(context);
    return new PodExecDoor(k8s, kc, kc.makeApiClient(k8s.CoreV1Api));
  }

  async listPods(namespace: string, labelSelector: string): Promise<PodSummary[]> {
    const list = await this.core.listNamespacedPod({ namespace, labelSelector });
    return list.items.map(summary);
  }

  async createPod(namespace: string, pod: PodManifest): Promise<string> {
    const created = await this.core.createNamespacedPod({ namespace, body: pod as unknown as V1Pod });
    const name = created.metadata?.name;
    if (!name) throw new Error('the API server returned a pod without a name');
    return name;
  }

  async deletePod(namespace: string, name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return;
      throw err;
    }
  }

  async waitPodRunning(namespace: string, name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const deadline = Date.now() + timeoutMs;
    const watch = new this.k8s.Watch(this.kc);
    let last: V1Pod | undefined;
    for (;;) {
      // Read first (the pod may be Running already), then watch from that resourceVersion.
      const pod = await this.core.readNamespacedPod({ name, namespace });
      last = pod;
      if (pod.status?.phase === 'Running') return;
      const problem = startProblem(pod);
      if (problem) throw new Error(problem);
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const outcome = await new Promise<'running' | 'again' | 'timeout' | Error>((resolve) => {
        let settled = false;
        let ctrl: AbortController | undefined;
        const finish = (v: 'running' | 'again' | 'timeout' | Error): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          clearInterval(poll);
          signal?.removeEventListener('abort', onAbort);
          ctrl?.abort();
          resolve(v);
        };
        const timer = setTimeout(() => finish('timeout'), remaining);
        // Mount and sandbox failures show only as events (the pod stays ContainerCreating).
        const poll = setInterval(() => {
          this.warningEvent(namespace, name).then(
            (w) => w && finish(new Error(`helper pod ${name} cannot start: ${w}`)),
            () => undefined,
          );
        }, 2000);
        const onAbort = (): void =>
          finish(
            signal?.reason instanceof Error ? signal.reason : new Error('cancelled while waiting for the helper pod'),
          );
        signal?.addEventListener('abort', onAbort, { once: true });
        watch
          .watch(
            `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
            {
              fieldSelector: `metadata.name=${name}`,
              resourceVersion: pod.metadata?.resourceVersion,
              allowWatchBookmarks: true,
            },
            (type: string, obj: V1Pod) => {
              if (type === 'DELETED') return finish(new Error(`helper pod ${name} was deleted`));
              if (type !== 'ADDED' && type !== 'MODIFIED') return;
              last = obj;
              if (obj.status?.phase === 'Running') return finish('running');
              const p = startProblem(obj);
              if (p) finish(new Error(p));
            },
            () => finish('again'), // watch closed (timeout, 410): read again and re-watch
          )
          .then((c) => {
            ctrl = c;
            if (settled) c.abort();
          })
          .catch(() => setTimeout(() => finish('again'), 500));
      });
      if (outcome === 'running') return;
      if (outcome instanceof Error) throw outcome;
      if (outcome === 'timeout') break;
    }
    const why = last?.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? last?.status?.phase ?? 'unknown';
    throw new Error(`helper pod ${namespace}/${name} not Running after ${Math.round(timeoutMs / 1000)} s (${why})`);
  }

  /** The first blocking warning event of a pod (FailedMount, sandbox or pull failure), if any. */
  private async warningEvent(namespace: string, name: string): Promise<string | undefined> {
    const list = await this.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${name}`,
    });
    const ev = list.items.find(
      (e) =>
        e.type === 'Warning' && /^(FailedMount|FailedAttachVolume|FailedCreatePodSandBox|Failed)$/.test(e.reason ?? ''),
    );
    return ev ? `${ev.reason}: ${ev.message ?? ''}`.trim() : undefined;
  }

  async execStream(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    stdout: Writable,
    signal?: AbortSignal,
  ): Promise<{ exitCode: number; stderr: string }> {
    signal?.throwIfAborted();
    const exec = new this.k8s.Exec(this.kc);
    const stderr = new PassThrough();
    let errText = '';
    stderr.on('data', (c: Buffer) => {
      if (errText.length < 64 * 1024) errText += c.toString('utf8');
    });
    // client-node writes every frame into `stdout` without looking at write()'s result; a
    // pass-through in front lets us pause the socket while the real destination is full.
    const front = new PassThrough({ highWaterMark: 1024 * 1024 });
    front.pipe(stdout);
    return new Promise((resolve, reject) => {
      let done = false;
      let socket:
        | {
            pause?: () => void;
            resume?: () => void;
            close: () => void;
            on: (e: string, f: (x: unknown) => void) => void;
          }
        | undefined;
      const fail = (err: Error): void => {
        if (done) return;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        socket?.close();
        front.unpipe(stdout);
        front.destroy();
        reject(err);
      };
      const onAbort = (): void => fail(signal?.reason instanceof Error ? signal.reason : new Error('exec cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      stdout.once('error', (e: Error) => fail(e));
      let paused = false;
      let statusSeen = false;
      const origWrite = front.write.bind(front);
      front.write = ((chunk: Buffer, ...rest: unknown[]) => {
        const ok = (origWrite as (c: Buffer, ...r: unknown[]) => boolean)(chunk, ...rest);
        if (!ok && !paused && socket?.pause) {
          paused = true;
          socket.pause();
          front.once('drain', () => {
            paused = false;
            socket?.resume?.();
          });
        }
        return ok;
      }) as typeof front.write;
      exec
        .exec(namespace, pod, container, command, front, stderr, null, false, (status: V1Status) => {
          statusSeen = true;
          if (done) return;
          let code: number;
          try {
            code = exitCodeOf(status);
          } catch (err) {
            fail(err as Error);
            return;
          }
          // The status can arrive before the last stdout frame went through: finish first.
          const settle = (): void => {
            if (done) return;
            done = true;
            signal?.removeEventListener('abort', onAbort);
            resolve({ exitCode: code, stderr: errText });
          };
          if (stdout.writableFinished) settle();
          else {
            stdout.once('finish', settle);
            stdout.once('close', settle);
          }
          front.end();
        })
        .then((ws) => {
          socket = ws as unknown as typeof socket;
          if (done) ws.close();
          ws.on('error', (e: Error) => fail(e));
          ws.on('close', () => {
            // Closed without a status: the connection broke.
            setTimeout(() => {
              if (!statusSeen) {
                fail(
                  new Error(`exec ${command[0]} in ${namespace}/${pod}: connection closed before the command ended`),
                );
              }
            }, 1000);
          });
        })
        .catch((e: unknown) => fail(e instanceof Error ? e : new Error(String(e))));
    });
  }
}
