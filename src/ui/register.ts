// Builds the ui for one extension lifetime. Everything created here is pushed to
// context.subscriptions, so a deactivate (or reload) disposes all of it.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { CMD, CTX, SETTINGS } from '../views/ids.js';
import { clearBlobCredentials, describeBlob, promptBlobCredentials, readBlobCredentials } from './blobSecrets.js';
import { CaptureStatusBar } from './statusBar.js';
import { CaptureTree } from './captureTree.js';
import { ClusterService } from './clusterService.js';
import { createEngineAdapter } from './engineAdapter.js';
import { ClusterTree } from './clusterTree.js';
import { CommandRegistry } from './commands.js';
import { createLog, type Log } from './log.js';
import { createTestEvents } from './testEvents.js';
import { registerCaptureCommands } from './captureCommands.js';
import { showInfo } from './notify.js';

export function registerUi(context: vscode.ExtensionContext, activatedAt: number): Log {
  const subs = context.subscriptions;
  const log = createLog(subs);
  const events = createTestEvents();
  const commands = new CommandRegistry(log, events);
  // The first render's steps come from both the service (cluster open) and the tree (VS Code's asks).
  const service = new ClusterService(log, (stage) => clusters.mark(stage));
  const clusters: ClusterTree = new ClusterTree(service, events, activatedAt);
  const captures = new CaptureTree(service);
  const status = new CaptureStatusBar(events);
  subs.push(commands, service, clusters, captures, status);

  const updateKubeconfigContext = (): void => {
    void vscode.commands.executeCommand('setContext', CTX.noKubeconfig, !service.hasKubeconfig());
  };
  updateKubeconfigContext();
  subs.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SETTINGS.section}.${SETTINGS.kubeconfig}`)) {
        updateKubeconfigContext();
        service.refresh(true);
      }
    }),
  );

  commands.register(CMD.showLog, () => log.show());
  commands.register(CMD.refresh, () => {
    updateKubeconfigContext();
    service.refresh();
  });
  commands.register(CMD.setBlobStorage, async () => {
    const c = await promptBlobCredentials(context.secrets);
    if (c) void showInfo(`Retina Capture: blob storage set to ${describeBlob(c)}.`);
  });
  commands.register(CMD.clearBlobStorage, async () => {
    await clearBlobCredentials(context.secrets);
    void showInfo('Retina Capture: blob storage credentials removed.');
  });
  const engine = createEngineAdapter(
    (c) => service.engine(c),
    () => readBlobCredentials(context.secrets),
    log,
  );
  registerCaptureCommands({ context, commands, log, events, service, clusters, captures, status, engine });

  events('activated', {
    ms: Math.round((performance.now() - activatedAt) * 10) / 10,
    kubeconfig: service.hasKubeconfig(),
    kubeconfigEnv: process.env.KUBECONFIG ? existsSync(process.env.KUBECONFIG) : false,
  });
  return log;
}
