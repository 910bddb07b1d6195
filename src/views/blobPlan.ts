// Which blob URLs a capture uses, from the stored credentials. A container SAS URL is used as
// given (upload and download). With account name + key the key never leaves this machine and
// never enters the cluster: the workers get a create+write SAS valid for the capture plus a
// margin (src/storage/sas.ts createUploadSas), the download gets its own short read+list SAS
// (createDownloadSas) minted at download time. Plain Node; sas.ts (and the Azure SDK) load lazily.

export type BlobCredentials =
  | { kind: 'sas'; containerSasUrl: string }
  | { kind: 'accountKey'; account: string; key: string; container: string; endpoint?: string };

function account(c: Extract<BlobCredentials, { kind: 'accountKey' }>) {
  return { accountName: c.account, accountKey: c.key, endpoint: c.endpoint };
}

/** An http endpoint was typed on purpose (Azurite on a bridge); https stays the default. */
function allowHttp(c: Extract<BlobCredentials, { kind: 'accountKey' }>): boolean {
  return c.endpoint?.startsWith('http://') ?? false;
}

/** The SAS URL written into the capture's Secret for the workers. */
export async function uploadSasUrl(c: BlobCredentials, durationSeconds: number, now?: Date): Promise<string> {
  if (c.kind === 'sas') return c.containerSasUrl;
  const { createUploadSas } = await import(/* webpackChunkName: "engine" */ '../storage/sas.js');
  return (await createUploadSas(account(c), c.container, { durationSeconds, now, allowHttp: allowHttp(c) })).url;
}

/** The read+list SAS URL the downloader uses; stays on this machine. */
export async function downloadSasUrl(c: BlobCredentials, now?: Date): Promise<string> {
  if (c.kind === 'sas') return c.containerSasUrl;
  const { createDownloadSas } = await import(/* webpackChunkName: "engine" */ '../storage/sas.js');
  return (await createDownloadSas(account(c), c.container, { now, allowHttp: allowHttp(c) })).url;
}
