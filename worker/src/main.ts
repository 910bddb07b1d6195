// Capture worker entry: parse → validate → capture → stop → archive → outputs → result.
// Exit codes (EXIT) and the result JSON in the termination log tell the extension what
// happened; stdout gets one human line, stderr the log. Nothing here prints a SAS URL: the log
// goes through redact() and URLs are shown through describeSasUrl().
// First import, on purpose: it installs the SIGTERM/SIGINT handlers before anything heavy loads.
import { onStopSignal } from './stopsignal.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ENV,
  EXIT,
  TERMINATION_LOG,
  TERMINATION_MESSAGE_LIMIT,
  archiveName,
  captureBaseName,
  fitResult,
  redact,
  type CaptureManifest,
  type ManifestFile,
  type OutputResult,
  type WorkerResult,
} from '../../src/contract/index.js';
import { CaptureOpenError, LiveCapture, validateFilter } from './capture/live.js';
import { ConfigError, readConfig, type WorkerConfig } from './config.js';
import { ipJson, type IpAddr, type IpRouteGet } from './net.js';
import { PlanError, planCapture, type CapturePlan } from './plan.js';
import { Recorder, type RecorderResult } from './recorder.js';
import { byPath, collectMetadata, snapshotProcSysNet, type MetadataResult } from './metadata.js';
import { gzipOptionsFor, startArchive } from './archive.js';
import { copyInto, publish, tempPathFor } from './outputs/hostpath.js';
import { uploadToBlob } from './outputs/blob.js';
import { USER_APPL, WORKER_VERSION } from './version.js';

type StopReason = NonNullable<WorkerResult['stopReason']>;

const t0 = Date.now();
function log(msg: string): void {
  process.stderr.write(`rcap ${((Date.now() - t0) / 1000).toFixed(3)}s ${redact(msg)}\n`);
}

function terminationLogPath(): string {
  return process.env[ENV.terminationLog] || TERMINATION_LOG;
}

function writeResult(result: WorkerResult): void {
  const text = redact(fitResult(result, TERMINATION_MESSAGE_LIMIT));
  try {
    writeFileSync(terminationLogPath(), text);
  } catch (e) {
    log(`cannot write the termination log ${terminationLogPath()}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

function summaryLine(r: WorkerResult): string {
  if (r.status === 'failed' && !r.archive)
    return `capture ${r.capture} on ${r.node}: FAILED (exit ${r.exitCode}): ${r.reason ?? ''}`;
  const outs = (r.outputs ?? []).map((o) => `${o.kind}:${o.ok ? 'ok' : 'FAILED'}`).join(' ');
  const mb = ((r.archive?.bytes ?? 0) / 1e6).toFixed(1);
  return redact(
    `capture ${r.capture} on ${r.node}: ${r.status}, ${r.packets ?? 0} packets, ${r.dropped ?? 0} dropped, ` +
      `stopped by ${r.stopReason ?? '?'}, ${r.archive?.name ?? 'no archive'} (${mb} MB) → ${outs}` +
      (r.reason ? ` — ${r.reason}` : ''),
  );
}

function finish(result: WorkerResult): never {
  writeResult(result);
  process.stdout.write(summaryLine(result) + '\n');
  process.exit(result.exitCode);
}

function exitForOpenError(e: CaptureOpenError): number {
  if (e.kind === 'filter') return EXIT.badFilter;
  if (e.kind === 'device') return EXIT.badInterface;
  return EXIT.captureFailed;
}

async function routeGet(ip: string): Promise<IpRouteGet | undefined> {
  try {
    const r = await ipJson<IpRouteGet[]>(['route', 'get', ip]);
    return r[0];
  } catch {
    return undefined;
  }
}

async function defaultDevs(): Promise<string[]> {
  const out: string[] = [];
  for (const fam of ['-4', '-6']) {
    try {
      const routes = await ipJson<{ dev?: string }[]>([fam, 'route', 'show', 'default']);
      for (const r of routes) if (r.dev) out.push(r.dev);
    } catch {
      // no such family
    }
  }
  return out;
}

/** How long before a planned end the metadata commands start (they take 0.2–0.6 s here). */
const METADATA_LEAD_MS = 1500;

/** The metadata commands, joined with the early /proc/sys/net snapshot; never rejects. */
function collectMetadataWith(
  sysctls: ReturnType<typeof snapshotProcSysNet> | undefined,
  warnings: string[],
): Promise<MetadataResult | undefined> {
  return collectMetadata({ procSysNet: '' })
    .then(async (m) => {
      const early = await sysctls;
      if (!early) return m;
      return {
        ...m,
        files: [...m.files, ...early.files].sort((a, b) => a.path.localeCompare(b.path)),
        entries: [...m.entries, ...early.entries].sort(byPath),
        warnings: [...m.warnings, ...early.warnings],
      };
    })
    .catch((e: unknown) => {
      warnings.push(`metadata collection failed: ${(e as Error).message}`);
      return undefined;
    });
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const env = process.env;
  const base: WorkerResult = {
    v: 1,
    status: 'failed',
    exitCode: EXIT.internal,
    capture: env[ENV.captureName] ?? '',
    node: env[ENV.nodeHostName] || os.hostname(),
    workerVersion: WORKER_VERSION,
    startedAt: startedAt.toISOString(),
  };

  // A stop can arrive at any time (Job deleted → SIGTERM; kubelet then waits the grace period).
  let stopReason: StopReason | undefined;
  let wake: (() => void) | undefined;
  const stopped = new Promise<void>((r) => (wake = r));
  const requestStop = (why: StopReason): void => {
    if (stopReason) return;
    stopReason = why;
    log(`stop requested: ${why}`);
    wake?.();
  };
  onStopSignal(() => requestStop('signal'));

  // Every `ip` run before the capture costs ~3 ms of CPU (fork of this process) and delays the
  // start: one `ip -d addr show` (it lists every link with its flags too) serves both the
  // interface check and the plan, and the default routes are only asked for in pod mode.
  let addrs: Promise<IpAddr[]> | undefined;
  const listAddrs = (): Promise<IpAddr[]> => (addrs ??= ipJson<IpAddr[]>(['-d', 'addr', 'show']));
  let cfg: WorkerConfig;
  try {
    cfg = await readConfig(env, { now: startedAt, links: listAddrs, validateFilter });
  } catch (e) {
    if (e instanceof ConfigError)
      finish({ ...base, exitCode: e.exitCode, reason: e.message, endedAt: new Date().toISOString() });
    throw e;
  }
  base.capture = cfg.captureName;
  base.node = cfg.nodeName;
  const warnings = [...cfg.warnings];

  let plan: CapturePlan;
  try {
    const [links, devs] = await Promise.all([listAddrs(), cfg.targetPods.length ? defaultDevs() : Promise.resolve([])]);
    plan = await planCapture(cfg, { links, defaultDevs: devs, routeGet });
  } catch (e) {
    const code = e instanceof PlanError ? EXIT.badInterface : EXIT.internal;
    finish({ ...base, exitCode: code, reason: (e as Error).message, endedAt: new Date().toISOString() });
  }
  warnings.push(...plan.warnings);
  base.mode = plan.mode;

  const workDir = await mkdtemp(path.join(os.tmpdir(), 'rcap-'));
  const baseName = captureBaseName(cfg.captureName, cfg.nodeName, cfg.timestamp);
  // Node mode without named interfaces captures every up interface, including pods' veths: pods
  // come and go on a node, so one of them can vanish between the listing and the open, or
  // during the capture. Such an interface is dropped with a warning; a named one still fails.
  const autoInterfaces = plan.mode === 'node' && !cfg.interfaces;
  const newRecorder = (ifs: CapturePlan['interfaces']): Recorder =>
    new Recorder(ifs, {
      dir: workDir,
      baseName,
      section: {
        comment: `Retina capture ${cfg.captureName} on node ${cfg.nodeName}${cfg.podName ? ` (pod ${cfg.podName})` : ''}, ${plan.mode} mode, started ${startedAt.toISOString()}`,
        userAppl: USER_APPL,
        os: `${os.type()} ${os.release()}`,
        hardware: `${os.arch()}, ${os.cpus().length} CPU`,
      },
      snapLength: cfg.snapLength,
      bufferBytes: cfg.bufferBytes,
      ...(cfg.maxSizeBytes ? { maxSizeBytes: cfg.maxSizeBytes } : {}),
      fileCount: cfg.fileCount,
      open: (o) => LiveCapture.open(o),
      onLimit: () => requestStop('maxSize'),
      onError: (err, iface) => {
        warnings.push(`capture on ${iface} failed: ${err.message}`);
        if (autoInterfaces && ifs.length > 1) log(`${iface}: ${err.message}; capturing on the other interfaces`);
        else requestStop('signal');
      },
      log,
    });
  let recorder = newRecorder(plan.interfaces);
  for (;;) {
    try {
      recorder.start();
      break;
    } catch (e) {
      const oe = e instanceof CaptureOpenError ? e : undefined;
      const gone = oe?.kind === 'device' ? oe.device : undefined;
      const rest = plan.interfaces.filter((i) => i.name !== gone);
      if (autoInterfaces && gone && rest.length && rest.length < plan.interfaces.length) {
        warnings.push(`${gone} vanished before the capture started (${oe?.libpcapMessage ?? ''}); not captured`);
        plan = { ...plan, interfaces: rest };
        recorder = newRecorder(rest);
        continue;
      }
      await rm(workDir, { recursive: true, force: true });
      if (e instanceof CaptureOpenError)
        finish({
          ...base,
          exitCode: exitForOpenError(e),
          reason: `${e.device}: ${e.libpcapMessage}`,
          endedAt: new Date().toISOString(),
        });
      throw e;
    }
  }
  const desc = plan.interfaces.map((i) => `${i.name}${i.filter ? ` [${i.filter}]` : ''}`).join(', ');
  log(
    `capturing on ${desc} (${plan.mode} mode${cfg.durationMs ? `, ${cfg.durationMs / 1000}s` : ''}${cfg.maxSizeBytes ? `, max ${cfg.maxSizeBytes} bytes${cfg.fileCount ? ` × ${cfg.fileCount} files` : ''}` : ''})`,
  );

  // /proc/sys/net is configuration: read now (into memory), in a worker thread, so the stop does
  // not wait for it.
  const sysctls = cfg.includeMetadata ? snapshotProcSysNet() : undefined;

  // The metadata commands (ip, ss, iptables, conntrack: ~10 processes, 0.2–0.6 s here) start
  // METADATA_LEAD_MS before a planned end, so their snapshot is of the capture's last moments and
  // the stop does not wait for them; an earlier stop (signal, max size) starts them at once.
  let metadataRun: Promise<MetadataResult | undefined> | undefined;
  const startMetadata = (): Promise<MetadataResult | undefined> =>
    (metadataRun ??= collectMetadataWith(sysctls, warnings));
  let timer: NodeJS.Timeout | undefined;
  let metadataTimer: NodeJS.Timeout | undefined;
  if (cfg.durationMs) timer = setTimeout(() => requestStop('duration'), cfg.durationMs);
  if (cfg.durationMs && cfg.includeMetadata)
    metadataTimer = setTimeout(startMetadata, Math.max(0, cfg.durationMs - METADATA_LEAD_MS));
  await stopped;
  if (timer) clearTimeout(timer);
  if (metadataTimer) clearTimeout(metadataTimer);
  const stopAt = Date.now();

  const metadata: Promise<MetadataResult | undefined> = cfg.includeMetadata
    ? startMetadata()
    : Promise.resolve(undefined);

  const rec: RecorderResult = recorder.stop();
  const endedAt = new Date();
  log(`capture closed after ${Date.now() - stopAt} ms: ${rec.packets} packets, ${rec.files.length} file(s)`);
  if (rec.rotatedOut)
    warnings.push(`rotation: ${rec.rotatedOut} older file(s) deleted, the newest ${rec.files.length} kept`);

  // The archive goes straight to the first directory output under a temp name (no extra copy).
  const name = archiveName(cfg.captureName, cfg.nodeName, cfg.timestamp);
  const dirs = [
    ...(cfg.hostPath ? [{ kind: 'hostPath' as const, dir: cfg.hostPath }] : []),
    ...(cfg.pvcDir ? [{ kind: 'pvc' as const, dir: cfg.pvcDir }] : []),
  ];
  const first = dirs[0];
  const archivePath = first ? tempPathFor(first.dir, name) : path.join(workDir, name);
  const archive = await startArchive(workDir, archivePath, gzipOptionsFor(rec.files.reduce((a, f) => a + f.bytes, 0)));
  archive.add(rec.files.map((f) => f.name));
  const meta = await metadata;
  const metaFiles: ManifestFile[] = [];
  if (meta) {
    log(
      `metadata: ${meta.files.length} files in ${meta.ms} ms${meta.missingTools.length ? `, missing ${meta.missingTools.join(', ')}` : ''}`,
    );
    warnings.push(...meta.warnings);
    metaFiles.push(...meta.files);
    archive.addData(meta.entries);
  }
  let arch;
  try {
    // The capture files' SHA-256 come from the archive, which hashes them as it packs them (the
    // capture loop does not hash what it writes); they are packed by now or soon, before the
    // manifest, which is the last entry anyway.
    const sums = await Promise.all(rec.files.map((f) => archive.digest(f.name)));
    const manifest: CaptureManifest = {
      v: 1,
      capture: cfg.captureName,
      node: cfg.nodeName,
      workerVersion: WORKER_VERSION,
      format: 'pcapng',
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      stopReason: stopReason ?? 'signal',
      mode: plan.mode,
      filter: plan.baseFilter,
      snapLength: cfg.snapLength,
      interfaces: rec.interfaces,
      packets: rec.packets,
      dropped: rec.dropped,
      files: [...rec.files.map((f, i) => ({ path: f.name, bytes: f.bytes, sha256: sums[i] as string })), ...metaFiles],
      missingTools: meta?.missingTools ?? [],
      warnings,
    };
    archive.addData([{ path: 'manifest.json', data: Buffer.from(redact(JSON.stringify(manifest, null, 2)) + '\n') }]);
    arch = await archive.finish();
  } catch (e) {
    await rm(archivePath, { force: true });
    await rm(workDir, { recursive: true, force: true });
    finish({
      ...base,
      exitCode: EXIT.internal,
      reason: `archive failed: ${(e as Error).message}`,
      endedAt: endedAt.toISOString(),
    });
  }
  log(`archive ${name} written (${arch.bytes} bytes) ${Date.now() - stopAt} ms after stop`);

  const outputs: OutputResult[] = [];
  for (const d of dirs) {
    try {
      const final =
        d === first
          ? await publish(archivePath, d.dir, name)
          : await copyInto(first ? path.join(first.dir, name) : archivePath, d.dir, name);
      outputs.push({ kind: d.kind, ok: true, location: final });
      log(`${d.kind}: ${final} (${Date.now() - stopAt} ms after stop)`);
    } catch (e) {
      outputs.push({ kind: d.kind, ok: false, location: path.join(d.dir, name), error: redact((e as Error).message) });
    }
  }
  if (cfg.blob) {
    const src = first && outputs[0]?.ok ? path.join(first.dir, name) : archivePath;
    try {
      const up = await uploadToBlob(cfg.blob.url, name, src, { log });
      outputs.push({ kind: 'blob', ok: true, location: name });
      log(
        `blob: ${cfg.blob.display}/${name} uploaded (${up.bytes} bytes, ${up.tries} request(s), ${up.blocks} block(s))`,
      );
    } catch (e) {
      outputs.push({ kind: 'blob', ok: false, location: name, error: redact((e as Error).message) });
      log(`blob: upload to ${cfg.blob.display} failed: ${(e as Error).message}`);
    }
  }
  if (!first) await rm(archivePath, { force: true }).catch(() => undefined);
  await rm(workDir, { recursive: true, force: true });

  const okCount = outputs.filter((o) => o.ok).length;
  const failedOuts = outputs.filter((o) => !o.ok);
  const status: WorkerResult['status'] = okCount === 0 ? 'failed' : failedOuts.length ? 'partial' : 'ok';
  finish({
    ...base,
    status,
    exitCode: okCount === 0 ? EXIT.outputFailed : EXIT.ok,
    ...(failedOuts.length ? { reason: failedOuts.map((o) => `${o.kind}: ${o.error}`).join('; ') } : {}),
    archive: { name, bytes: arch.bytes, sha256: arch.sha256 },
    packets: rec.packets,
    dropped: rec.dropped,
    interfaces: rec.interfaces,
    outputs,
    endedAt: endedAt.toISOString(),
    stopReason: stopReason ?? 'signal',
    ...(warnings.length ? { warnings } : {}),
  });
}

main().catch((e: unknown) => {
  const msg = e instanceof Error ? e.message : String(e);
  log(`internal error: ${e instanceof Error ? (e.stack ?? msg) : msg}`);
  finish({
    v: 1,
    status: 'failed',
    exitCode: EXIT.internal,
    reason: `internal error: ${msg}`,
    capture: process.env[ENV.captureName] ?? '',
    node: process.env[ENV.nodeHostName] || os.hostname(),
    workerVersion: WORKER_VERSION,
  });
});
