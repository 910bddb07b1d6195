// Adapts the engine (src/engine.ts: session, download, merge) to the ui's CaptureEngine port.
// The engines come from the ClusterService (one per context, shared with the trees, so the
// sessions and the trees read the same informers); merge and SAS code load lazily.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Engine as EngineType, CaptureEvent, NodeState } from '../engine.js';
import { downloadSasUrl, type BlobCredentials } from '../views/blobPlan.js';
import type { CaptureInfo, NodeCapturePhase } from '../views/ports.js';
import type { CaptureEngine, DownloadResult, UiCaptureRequest, UiProgress } from './captureEngine.js';
import type { Log } from './log.js';

const PHASE: Record<string, NodeCapturePhase> = {
  pending: 'pending',
  scheduled: 'pending',
  waiting: 'pending',
  capturing: 'running',
  finishing: 'uploading',
  done: 'succeeded',
  failed: 'failed',
};

function nodeState(n: NodeState): CaptureInfo['nodes'][number] {
  const r = n.result as { packets?: number; bytes?: number; drops?: number } | undefined;
  return {
    node: n.node,
    phase: PHASE[n.phase] ?? 'unknown',
    message: n.message,
    packets: r?.packets,
    bytes: r?.bytes,
    drops: r?.drops,
  };
}

export function createEngineAdapter(
  get: (context: string) => Promise<EngineType>,
  blobCredentials: () => Promise<BlobCredentials | undefined>,
  log: Log,
): CaptureEngine {
  return {
    available: true,
    async servesCaptureCrd(context: string): Promise<boolean> {
      const engine = await get(context);
      return engine.door.serves('retina.sh/v1alpha1', 'captures').catch(() => false);
    },
    async start(req: UiCaptureRequest, signal: AbortSignal, onProgress: (p: UiProgress) => void): Promise<CaptureInfo> {
      const engine = await get(req.context);
      const onEvent = (ev: CaptureEvent): void => {
        if (ev.type === 'created')
          onProgress({
            type: 'planned',
            capture: ev.capture,
            nodes: ev.nodes ?? ev.jobs.map((j) => j.node),
            warnings: [],
          });
        else if (ev.type === 'node')
          onProgress({
            type: 'node',
            node: ev.node,
            phase: ev.phase,
            endsAt: ev.endsAt,
            reason: ev.reason,
            message: ev.message,
          });
        else if (ev.type === 'finished') onProgress({ type: 'finished', cancelled: ev.cancelled });
        else if (ev.type === 'preflight' && !ev.ok) {
          const text = ev.problems.join('; ');
          onProgress({
            type: 'blocked',
            reason: /PodSecurity|pod security/i.test(text)
              ? 'podSecurity'
              : /forbidden|cannot|permission/i.test(text)
                ? 'forbidden'
                : 'other',
            message: text,
          });
        } else if (ev.type === 'warning') log.warn(`${ev.capture}: ${ev.message}`);
      };
      const startedAt = Date.now();
      const run = await engine.startCapture(
        {
          namespace: req.namespace,
          targets: req.targets,
          outputs: req.outputs,
          workerImage: req.workerImage,
          mode: req.mode,
          ...(req.via ? { via: req.via } : {}),
          options: {
            durationSeconds: req.durationSeconds,
            maxSizeMB: req.maxSizeMB,
            snapLength: req.snapLength,
            filter: req.filter,
            maxConcurrentJobs: req.maxConcurrentJobs,
          },
        },
        { signal, onEvent },
      );
      log.info(`capture ${run.namespace}/${run.name} created`);
      const cancel = (): void => void run.cancel().catch((e: unknown) => log.error(`cancel ${run.name}: ${String(e)}`));
      signal.addEventListener('abort', cancel, { once: true });
      try {
        const summary = await run.done;
        return {
          name: run.name,
          namespace: run.namespace,
          context: req.context,
          origin: 'ours',
          startedAt,
          durationSeconds: req.durationSeconds,
          filter: req.filter || undefined,
          nodes: summary.nodes.map(nodeState),
          blob: req.outputs.blob !== undefined,
        };
      } finally {
        signal.removeEventListener('abort', cancel);
        run.dispose();
      }
    },
    async stop(c) {
      const engine = await get(c.context);
      const run = await engine.attach(c.name, { namespace: c.namespace });
      await run.cancel();
      run.dispose();
    },
    async delete(c) {
      await (await get(c.context)).deleteCapture(c.name, { namespace: c.namespace });
    },
    async download(c, folder, signal, onProgress): Promise<DownloadResult> {
      const engine = await get(c.context);
      await mkdir(folder, { recursive: true });
      const creds = c.blob ? await blobCredentials() : undefined;
      const blobSasUrl = creds ? await downloadSasUrl(creds) : undefined;
      onProgress(blobSasUrl ? 'fetching archives from blob storage…' : 'fetching archives from the nodes…');
      const r = await engine.download(c.name, { to: folder, namespace: c.namespace, signal, blobSasUrl });
      const warnings = r.failures.map((f) => `${f.node}: ${f.error}`);
      const inputs = r.archives.flatMap((a) =>
        a.unpacked.files
          .filter((f) => /\.(pcapng|pcap)(\.\d+)?$/.test(f.path))
          .map((f) => ({ node: a.node, path: path.join(a.unpacked.dir, f.path) })),
      );
      const files = inputs.map((i) => i.path);
      if (inputs.length === 0) return { folder, files, warnings: [...warnings, 'no packet files in the archives'] };
      // The merge writes a second copy: never into the disk's margin.
      const { mergeRoomProblem } = await import(/* webpackChunkName: "engine" */ '../download/budget.js');
      const { DEFAULT_UNPACK_LIMITS } = await import(/* webpackChunkName: "engine" */ '../download/unpackLimits.js');
      const sizes = new Map(
        r.archives.flatMap((a) => a.unpacked.files.map((f) => [path.join(a.unpacked.dir, f.path), f.bytes])),
      );
      const needed = files.reduce((n, f) => n + (sizes.get(f) ?? 0), 0);
      const noRoom = await mergeRoomProblem(folder, needed, DEFAULT_UNPACK_LIMITS.minFreeBytes);
      if (noRoom) return { folder, files, warnings: [...warnings, noRoom] };
      onProgress(`merging ${inputs.length} files…`);
      const { mergeCaptures } = await import(/* webpackChunkName: "engine" */ '../pcap/merge.js');
      const mergedFile = path.join(folder, `${c.name}.pcapng`);
      const m = await mergeCaptures(inputs, mergedFile, signal, { application: 'Retina Capture for VS Code' });
      log.info(`${c.name}: merged ${m.packets} packets from ${inputs.length} files into ${mergedFile}`);
      return { folder, mergedFile, files, warnings: [...warnings, ...m.warnings] };
    },
  };
}
