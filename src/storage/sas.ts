// Container SAS URLs made from an account key the ui keeps in SecretStorage. Two grants, each the
// least that works: workers get create+write only (they cannot read or list other captures, and
// a leaked Secret cannot download anything); the downloader gets a short read+list SAS that never
// enters the cluster. The SDK is imported lazily so activation stays cheap.
import { isLoopbackHost } from './sas-check.js';

export { checkSasUrl, isLoopbackHost, type SasCheckOptions, type SasNeed } from './sas-check.js';

export interface StorageAccount {
  accountName: string;
  /** Base64 shared key; only ever used here to sign. */
  accountKey: string;
  /**
   * Blob endpoint without container. Default `https://<account>.blob.core.windows.net`;
   * Azurite: `http://127.0.0.1:<port>/devstoreaccount1`.
   */
  endpoint?: string;
}

export interface SasGrant {
  /** Container URL with the SAS query: a bearer credential, never log it (use describeSasUrl). */
  url: string;
  startsOn: Date;
  expiresOn: Date;
  permissions: string;
}

export interface SasTiming {
  now?: Date;
  /** Start this far in the past so a node whose clock runs behind still accepts the SAS. */
  skewSeconds?: number;
  /** Allow http on a non-loopback endpoint (a test cluster reaching Azurite on a bridge address). */
  allowHttp?: boolean;
}

/** Extra validity after the capture ends: the Job deadline allows 30 min of upload; keep 1 h. */
export const UPLOAD_MARGIN_SECONDS = 3600;
export const DOWNLOAD_LIFETIME_SECONDS = 3600;
export const CLOCK_SKEW_SECONDS = 300;

export function blobEndpoint(account: StorageAccount): string {
  return (account.endpoint ?? `https://${account.accountName}.blob.core.windows.net`).replace(/\/+$/, '');
}

/** Azure's container naming rules, or undefined when valid. */
export function containerNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63 || !/^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/.test(name)) {
    return `container name "${name}" must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit`;
  }
  return undefined;
}

async function sign(
  account: StorageAccount,
  container: string,
  permissions: string,
  startsOn: Date,
  expiresOn: Date,
  allowHttp: boolean,
): Promise<SasGrant> {
  const problem = containerNameProblem(container);
  if (problem) throw new Error(problem);
  const endpoint = blobEndpoint(account);
  const u = new URL(endpoint);
  const http = u.protocol === 'http:';
  if (http && !isLoopbackHost(u.hostname) && !allowHttp) {
    throw new Error(`the blob endpoint ${endpoint} uses http; only a local emulator may (use https)`);
  }
  const sdk = await import('@azure/storage-blob');
  const credential = new sdk.StorageSharedKeyCredential(account.accountName, account.accountKey);
  const query = sdk
    .generateBlobSASQueryParameters(
      {
        containerName: container,
        permissions: sdk.ContainerSASPermissions.parse(permissions),
        startsOn,
        expiresOn,
        // https only, except for an http emulator endpoint, which would otherwise be refused.
        protocol: http ? sdk.SASProtocol.HttpsAndHttp : sdk.SASProtocol.Https,
      },
      credential,
    )
    .toString();
  return { url: `${endpoint}/${container}?${query}`, startsOn, expiresOn, permissions };
}

/** Create+write container SAS for the capture workers, valid for the capture plus a margin. */
export function createUploadSas(
  account: StorageAccount,
  container: string,
  opts: SasTiming & { durationSeconds: number; marginSeconds?: number },
): Promise<SasGrant> {
  const now = opts.now ?? new Date();
  const startsOn = new Date(now.getTime() - (opts.skewSeconds ?? CLOCK_SKEW_SECONDS) * 1000);
  const expiresOn = new Date(
    now.getTime() + (opts.durationSeconds + (opts.marginSeconds ?? UPLOAD_MARGIN_SECONDS)) * 1000,
  );
  return sign(account, container, 'cw', startsOn, expiresOn, opts.allowHttp ?? false);
}

/** Short read+list container SAS for the downloader; stays on this machine. */
export function createDownloadSas(
  account: StorageAccount,
  container: string,
  opts: SasTiming & { lifetimeSeconds?: number } = {},
): Promise<SasGrant> {
  const now = opts.now ?? new Date();
  const startsOn = new Date(now.getTime() - (opts.skewSeconds ?? CLOCK_SKEW_SECONDS) * 1000);
  const expiresOn = new Date(now.getTime() + (opts.lifetimeSeconds ?? DOWNLOAD_LIFETIME_SECONDS) * 1000);
  return sign(account, container, 'rl', startsOn, expiresOn, opts.allowHttp ?? false);
}
