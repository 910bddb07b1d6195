// The two SAS grants against a real Azurite: the workers' create+write SAS can upload but not
// list or read; the downloader's read+list SAS can list and read but not write.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkSasUrl, createDownloadSas, createUploadSas, type StorageAccount } from '../../../src/storage/sas.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type Azurite } from '../../support/azurite.js';

let az: Azurite;
let account: StorageAccount;
const CONTAINER = 'captures';
const BLOB = 'cap-1-node-a-20261126050709UTC.tar.gz';
const DATA = Buffer.from('pretend this is a capture archive');

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    return (e as { statusCode?: number }).statusCode ?? -1;
  }
}

before(async () => {
  az = await startAzurite();
  account = { accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, endpoint: az.endpoint };
  const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const svc = new BlobServiceClient(az.endpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  await svc.getContainerClient(CONTAINER).create();
});

after(async () => {
  await az?.stop();
});

test('cw SAS uploads but cannot list or read (403)', async () => {
  const { ContainerClient } = await import('@azure/storage-blob');
  const grant = await createUploadSas(account, CONTAINER, { durationSeconds: 60 });
  assert.deepEqual(checkSasUrl(grant.url, 'upload', new Date()), []);
  const cc = new ContainerClient(grant.url);
  await cc.getBlockBlobClient(BLOB).upload(DATA, DATA.length);
  assert.equal(await status(cc.listBlobsFlat().next()), 403, 'list must be refused');
  assert.equal(await status(cc.getBlobClient(BLOB).downloadToBuffer()), 403, 'read must be refused');
});

test('rl SAS lists and reads but cannot write (403)', async () => {
  const { ContainerClient } = await import('@azure/storage-blob');
  const grant = await createDownloadSas(account, CONTAINER);
  assert.deepEqual(checkSasUrl(grant.url, 'download', new Date()), []);
  const cc = new ContainerClient(grant.url);
  const names: string[] = [];
  for await (const b of cc.listBlobsFlat({ prefix: 'cap-1-' })) names.push(b.name);
  assert.deepEqual(names, [BLOB]);
  assert.deepEqual(await cc.getBlobClient(BLOB).downloadToBuffer(), DATA);
  assert.equal(
    await status(cc.getBlockBlobClient('other.tar.gz').upload(DATA, DATA.length)),
    403,
    'write must be refused',
  );
});
