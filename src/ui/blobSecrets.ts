// Blob storage credentials live in SecretStorage only (never settings): either a container SAS
// URL or account name + key (the engine mints short SAS URLs from it).
import * as vscode from 'vscode';
import { describeSasUrl } from '../contract/index.js';
import { UserError } from './commands.js';

const KEY = 'retinaCapture.blob';

import type { BlobCredentials } from '../views/blobPlan.js';

export type { BlobCredentials };

export async function readBlobCredentials(secrets: vscode.SecretStorage): Promise<BlobCredentials | undefined> {
  const raw = await secrets.get(KEY);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as BlobCredentials;
  } catch {
    return undefined;
  }
}

export function describeBlob(c: BlobCredentials): string {
  return c.kind === 'sas' ? describeSasUrl(c.containerSasUrl) : `${c.account}/${c.container}`;
}

export async function promptBlobCredentials(secrets: vscode.SecretStorage): Promise<BlobCredentials | undefined> {
  const kind = await vscode.window.showQuickPick(
    [
      {
        label: 'Container SAS URL',
        detail:
          'https://<account>.blob.core.windows.net/<container>?sv=…&sig=… (needs create + write; read + list to download)',
        value: 'sas' as const,
      },
      {
        label: 'Account name and key',
        detail: 'Short-lived SAS URLs are minted per capture; the key never leaves this machine',
        value: 'accountKey' as const,
      },
    ],
    { title: 'Set Blob Storage', placeHolder: 'How should captures be uploaded?', ignoreFocusOut: true },
  );
  if (!kind) return undefined;
  let creds: BlobCredentials;
  if (kind.value === 'sas') {
    const url = await vscode.window.showInputBox({
      title: 'Container SAS URL',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => {
        try {
          const u = new URL(v);
          if (!/^https?:$/.test(u.protocol)) return 'The URL must be http(s)';
          if (!u.searchParams.get('sig')) return 'This URL has no SAS signature (sig=…)';
          return undefined;
        } catch {
          return 'Not a URL';
        }
      },
    });
    if (!url) return undefined;
    creds = { kind: 'sas', containerSasUrl: url };
  } else {
    const account = await vscode.window.showInputBox({
      title: 'Storage account name',
      ignoreFocusOut: true,
      validateInput: (v) => (/^[a-z0-9]{3,24}$/.test(v) ? undefined : '3–24 lowercase letters and digits'),
    });
    if (!account) return undefined;
    const key = await vscode.window.showInputBox({
      title: `Account key of ${account}`,
      password: true,
      ignoreFocusOut: true,
    });
    if (!key) return undefined;
    const container = await vscode.window.showInputBox({
      title: 'Container',
      value: 'retina-captures',
      ignoreFocusOut: true,
      validateInput: (v) =>
        /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/.test(v) ? undefined : '3–63 lowercase letters, digits and dashes',
    });
    if (!container) return undefined;
    const endpoint = await vscode.window.showInputBox({
      title: 'Blob endpoint',
      value: `https://${account}.blob.core.windows.net`,
      prompt: 'Change only for sovereign clouds or Azurite (e.g. http://198.18.0.1:10000/devstoreaccount1)',
      ignoreFocusOut: true,
      validateInput: (v) => (/^https?:\/\/[^/]+/.test(v) ? undefined : 'An http(s) URL'),
    });
    if (endpoint === undefined) return undefined;
    creds = {
      kind: 'accountKey',
      account,
      key,
      container,
      ...(endpoint && endpoint !== `https://${account}.blob.core.windows.net` ? { endpoint } : {}),
    };
  }
  await secrets.store(KEY, JSON.stringify(creds));
  return creds;
}

export async function clearBlobCredentials(secrets: vscode.SecretStorage): Promise<void> {
  await secrets.delete(KEY);
}

export async function requireBlobCredentials(secrets: vscode.SecretStorage): Promise<BlobCredentials> {
  const c = (await readBlobCredentials(secrets)) ?? (await promptBlobCredentials(secrets));
  if (!c) throw new UserError('Blob output needs storage credentials (Retina: Set Blob Storage…).');
  return c;
}
