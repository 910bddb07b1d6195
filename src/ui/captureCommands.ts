// Capture commands: start (flow or quick), stop, delete, download, open in Wireshark, reveal,
// open any pcap. Handlers get their AbortSignal and error display from the CommandRegistry.
import path from 'node:path';
import * as vscode from 'vscode';
import { filterProblem } from '../capture/bpf.js';
import { assertSafePathComponent, toSafeComponent } from '../contract/index.js';
import type { CaptureElement } from '../views/captureModel.js';
import type { ClusterElement } from '../views/clusterModel.js';
import { CMD, SETTINGS, VIEW } from '../views/ids.js';
import type { CaptureInfo } from '../views/ports.js';
import { podsToSelection, selectionToTargets, type Selection } from '../views/targets.js';
import { uploadSasUrl } from '../views/blobPlan.js';
import { isKubeExplorerArg } from '../views/kubeExplorer.js';
import { requireBlobCredentials } from './blobSecrets.js';
import { unavailableEngine, type CaptureEngine, type UiProgress } from './captureEngine.js';
import type { CaptureTree } from './captureTree.js';
import type { ClusterService } from './clusterService.js';
import type { ClusterTree } from './clusterTree.js';
import { kubeExplorerTargets } from './kubeExplorer.js';
import { linkToken, UserError, type CommandRegistry } from './commands.js';
import type { Log } from './log.js';
import { buildRequest, runStartFlow, settingsDefaults, type LastChoices } from './startFlow.js';
import type { CaptureStatusBar } from './statusBar.js';
import type { TestEventSink } from './testEvents.js';
import { SummaryPanels } from './summaryView.js';
import { userSetting } from './userSettings.js';
import { findWireshark, launchWireshark, WIRESHARK_DOWNLOAD_URL } from './wireshark.js';
import { redactedProgress, showInfo, showWarning } from './notify.js';

export interface CaptureUi {
  context: vscode.ExtensionContext;
  commands: CommandRegistry;
  log: Log;
  events: TestEventSink;
  service: ClusterService;
  clusters: ClusterTree;
  captures: CaptureTree;
  status: CaptureStatusBar;
  engine?: CaptureEngine;
}

/** Extra checks on top of src/capture's filterProblem while typing. */
export function basicFilterProblem(v: string): string | undefined {
  if (v.length > 1024) return 'The filter is longer than 1024 characters';
  let depth = 0;
  for (const ch of v) {
    if (ch === '(') depth++;
    if (ch === ')' && --depth < 0) return 'Unbalanced parentheses';
  }
  if (depth !== 0) return 'Unbalanced parentheses';
  if (/[;&|`$]/.test(v.replace(/&&|\|\|/g, ''))) return 'Shell characters are not part of BPF';
  return undefined;
}

function captureOf(arg: unknown): CaptureInfo | undefined {
  const e = arg as CaptureElement | undefined;
  return e && (e.type === 'capture' || e.type === 'captureNode') ? e.capture : undefined;
}

export function registerCaptureCommands(ui: CaptureUi): void {
  const engine = ui.engine ?? unavailableEngine;
  const { commands, context, log, events } = ui;
  const summaries = new SummaryPanels(context.extensionUri, events);
  context.subscriptions.push(summaries);

  /** Counts the capture in plain Node (src/views/summary.ts) and shows the webview. */
  async function showSummary(file: string, signal: AbortSignal): Promise<void> {
    const data = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Summarising ${path.basename(file)}`,
        cancellable: true,
      },
      async (_p, token) => {
        const { summarizeCapture, readManifests } = await import(
          /* webpackChunkName: "summary" */ '../views/summary.js'
        );
        const manifests = await readManifests(path.dirname(file));
        return summarizeCapture(file, { manifests, signal: linkToken(token, signal).signal });
      },
    );
    summaries.show(file, data);
  }

  async function pickPods(): Promise<Selection | undefined> {
    const contexts = await ui.service.contexts();
    if (contexts.length === 0) return undefined;
    const title = 'Start Capture: choose pods';
    const ctx =
      contexts.length === 1
        ? contexts[0]!
        : (
            await vscode.window.showQuickPick(
              contexts.map((c) => ({ label: c.name, description: c.current ? 'current' : c.cluster, c })),
              { title, placeHolder: 'Cluster context', ignoreFocusOut: true },
            )
          )?.c;
    if (!ctx) return undefined;
    const snap = await ui.service.syncedCluster(ctx.name);
    const running = snap.pods.filter((p) => p.phase === 'Running' && !p.hostNetwork);
    const nss = [...new Set(running.map((p) => p.namespace))].sort();
    const ns = await vscode.window.showQuickPick(
      nss.map((n) => ({ label: n, description: `${running.filter((p) => p.namespace === n).length} running pods` })),
      { title, placeHolder: 'Namespace', ignoreFocusOut: true },
    );
    if (!ns) return undefined;
    const picked = await vscode.window.showQuickPick(
      running
        .filter((p) => p.namespace === ns.label)
        .map((p) => ({ label: p.name, description: `${p.nodeName ?? ''} ${p.podIP ?? ''}`.trim() })),
      {
        title,
        placeHolder: 'Pods to capture (space to select, Enter to go on)',
        canPickMany: true,
        ignoreFocusOut: true,
      },
    );
    if (!picked?.length) return undefined;
    return podsToSelection(
      ctx.name,
      ns.label,
      picked.map((p) => p.label),
    );
  }

  async function start(quick: boolean, signal: AbortSignal, clicked: unknown, all: unknown): Promise<void> {
    let sel: Selection;
    if (isKubeExplorerArg(clicked)) {
      // A node or pod row of the Kubernetes extension's Cluster Explorer (optional integration).
      sel = await kubeExplorerTargets(clicked, all, ui.service, log, events);
    } else {
      const rows = (Array.isArray(all) ? all : undefined) as ClusterElement[] | undefined;
      const fallback = clicked ?? ui.clusters.view.selection[0];
      sel = selectionToTargets(
        fallback as ClusterElement | undefined,
        rows ?? (clicked ? undefined : ui.clusters.view.selection),
      );
    }
    // From the command palette with nothing selected: pick context, namespace and pods.
    if (!clicked && (!sel.context || sel.targets.length === 0)) sel = (await pickPods()) ?? sel;
    if (!sel.context || sel.targets.length === 0) {
      throw new UserError('Select nodes, pods, a namespace or a workload in the Clusters view, then Start Capture.');
    }
    events('startFlow', { context: sel.context, targets: sel.targets, quick });
    const choices: LastChoices | undefined = quick
      ? { ...settingsDefaults(), durationSeconds: 30 }
      : await runStartFlow(
          context.globalState,
          sel,
          (v) => filterProblem(v) ?? basicFilterProblem(v),
          // One discovery request, answered while the first steps are on screen.
          (engine.servesCaptureCrd?.(sel.context) ?? Promise.resolve(false)).catch(() => false),
        );
    if (!choices) return;
    let sas: string | undefined;
    if (choices.output !== 'hostPath') {
      // Account + key: a create+write SAS for the workers only; the key stays here.
      sas = await uploadSasUrl(await requireBlobCredentials(context.secrets), choices.durationSeconds);
    }
    const req = buildRequest(sel, choices, sas);
    events('startRequested', {
      context: req.context,
      namespace: req.namespace,
      targets: req.targets,
      durationSeconds: req.durationSeconds,
      filter: req.filter,
    });
    log.info(`starting capture on ${sel.label} (${req.durationSeconds}s, filter "${req.filter}")`);
    if (!engine.available)
      throw new UserError(
        'The capture engine is not part of this build yet: the tree and settings work, starting captures does not.',
        [{ title: 'Show Captures', run: () => vscode.commands.executeCommand(`${VIEW.captures}.focus`) }],
      );
    const capture = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Retina Capture on ${sel.label}`, cancellable: true },
      async (progress, token) => {
        const ctl = linkToken(token, signal);
        const report = redactedProgress(progress);
        const live = ui.status.begin(sel.label);
        try {
          return await engine.start(req, ctl.signal, (p: UiProgress) => {
            events('progress', p as unknown as Record<string, unknown>);
            if (p.type === 'planned') report(`${p.nodes.length} nodes: ${p.nodes.join(', ')}`);
            if (p.type === 'node') report(`${p.node}: ${p.phase}`);
            // 'blocked' (preflight) is not shown here: the start rejects with the same text, which
            // the command registry shows once.
            if (p.type === 'planned' || p.type === 'node' || p.type === 'finished') live.apply(p);
          });
        } finally {
          live.end();
        }
      },
    );
    await offerResults(capture, signal);
  }

  async function offerResults(capture: CaptureInfo, signal: AbortSignal): Promise<void> {
    const failed = capture.nodes.filter((n) => n.phase === 'failed');
    if (failed.length === capture.nodes.length) {
      throw new UserError(
        `Capture ${capture.name} failed on every node: ${failed.map((n) => `${n.node}: ${n.message ?? 'failed'}`).join('; ')}`,
      );
    }
    const result = await download(capture, signal);
    events('ready', { capture: capture.name, mergedFile: result.mergedFile, files: result.files });
    const pick = await showInfo(
      `Capture ${capture.name} is ready${failed.length ? ` (${failed.length} nodes failed)` : ''}.`,
      'Open in Wireshark',
      'Reveal',
    );
    if (pick === 'Open in Wireshark') await openInWireshark(result.mergedFile ?? result.files[0], signal);
    if (pick === 'Reveal' && result.mergedFile)
      await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(result.mergedFile));
  }

  function downloadRoot(): string {
    return userSetting<string>('downloadFolder', '') || path.join(context.globalStorageUri.fsPath, 'captures');
  }

  async function download(
    capture: CaptureInfo,
    signal: AbortSignal,
  ): Promise<{ mergedFile?: string; files: string[] }> {
    // Context and capture names come from kubeconfig and the cluster: one safe component each
    // (a context named `..` must not move the download folder up).
    const folder = path.join(
      downloadRoot(),
      toSafeComponent(capture.context),
      assertSafePathComponent(capture.name, 'the capture name'),
    );
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Downloading ${capture.name}`, cancellable: true },
      (progress, token) =>
        engine.download(capture, folder, linkToken(token, signal).signal, redactedProgress(progress)),
    );
    for (const w of result.warnings) log.warn(`${capture.name}: ${w}`);
    ui.captures.setLocal(capture, { localPath: result.folder, mergedFile: result.mergedFile });
    return result;
  }

  async function openInWireshark(file: string | undefined, signal: AbortSignal): Promise<void> {
    if (!file) throw new UserError('There is no capture file to open.');
    const found = await findWireshark(userSetting<string>('wiresharkPath', '') || undefined);
    if (!found.ok) {
      events('wiresharkMissing', { reason: found.reason });
      // Without Wireshark the summary opens instead; the warning says how to get the real thing.
      await showSummary(file, signal);
      const pick = await showWarning(
        `Retina Capture: ${found.reason}. A summary of the capture is shown instead.`,
        'Install Wireshark',
        'Set Path…',
      );
      if (pick === 'Install Wireshark') await vscode.env.openExternal(vscode.Uri.parse(WIRESHARK_DOWNLOAD_URL));
      if (pick === 'Set Path…')
        await vscode.commands.executeCommand(
          'workbench.action.openSettings',
          `${SETTINGS.section}.${SETTINGS.wiresharkPath}`,
        );
      return;
    }
    const pid = await launchWireshark(found.info, file);
    log.info(`Wireshark ${found.info.version} started (pid ${pid}) on ${file}`);
    events('wiresharkStarted', { pid, file, version: found.info.version });
  }

  commands.register(CMD.startCapture, ({ signal }, clicked, all) => start(false, signal, clicked, all));
  commands.register(CMD.quickCapture, ({ signal }, clicked, all) => start(true, signal, clicked, all));
  commands.register(CMD.stopCapture, async (_run, arg) => {
    const c = captureOf(arg);
    if (!c) throw new UserError('Pick a running capture in the Captures view.');
    await engine.stop(c);
    log.info(`stopped ${c.name}`);
  });
  commands.register(CMD.deleteCapture, async (_run, arg) => {
    const c = captureOf(arg);
    if (!c) throw new UserError('Pick a capture in the Captures view.');
    const ok = await showWarning(
      `Delete capture ${c.name} (its Jobs, pods and secret) from ${c.context}? Downloaded files stay.`,
      { modal: true },
      'Delete',
    );
    if (ok !== 'Delete') return;
    await engine.delete(c);
  });
  commands.register(CMD.downloadCapture, async ({ signal }, arg) => {
    const c = captureOf(arg);
    if (!c) throw new UserError('Pick a finished capture in the Captures view.');
    const r = await download(c, signal);
    void showInfo(`Capture ${c.name} downloaded to ${r.mergedFile ?? r.files[0] ?? downloadRoot()}.`);
  });
  commands.register(CMD.openCapture, async ({ signal }, arg) => {
    const c = captureOf(arg);
    if (!c) throw new UserError('Pick a capture in the Captures view.');
    const file = c.mergedFile ?? (await download(c, signal)).mergedFile;
    await openInWireshark(file, signal);
  });
  commands.register(CMD.summaryCapture, async ({ signal }, arg) => {
    const file = await summaryTarget(arg, signal);
    if (file) await showSummary(file, signal);
  });
  commands.register(CMD.revealCapture, async (_run, arg) => {
    const c = captureOf(arg);
    const target = c?.mergedFile ?? c?.localPath;
    if (!target) throw new UserError('Download the capture first.');
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(target));
  });
  /** Tree capture (downloaded first when needed), a file Uri, a path, or a file picker. */
  async function summaryTarget(arg: unknown, signal: AbortSignal): Promise<string | undefined> {
    const c = captureOf(arg);
    if (c) {
      const file = c.mergedFile ?? (await download(c, signal)).mergedFile;
      if (!file) throw new UserError(`Capture ${c.name} has no packet files to summarise.`);
      return file;
    }
    if (arg instanceof vscode.Uri) return arg.fsPath;
    if (typeof arg === 'string' && arg) return arg;
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      filters: { Captures: ['pcapng', 'pcap', 'cap'] },
    });
    return picked?.[0]?.fsPath;
  }

  commands.register(CMD.openPcapFile, async ({ signal }, arg) => {
    const uri =
      arg instanceof vscode.Uri
        ? arg
        : (
            await vscode.window.showOpenDialog({
              canSelectMany: false,
              filters: { Captures: ['pcapng', 'pcap', 'cap'] },
            })
          )?.[0];
    if (uri) await openInWireshark(uri.fsPath, signal);
  });
}
