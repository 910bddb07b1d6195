// Azurite (blob only, in memory) for tests: started on a free loopback port, ready when it
// answers HTTP, stopped by PID. Plus helpers to make containers and SAS URLs with the
// well-known development account.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const AZURITE_ACCOUNT = 'devstoreaccount1';
/** Azurite's published development key (not a secret). */
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  port: number;
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  endpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true; // any HTTP answer (400 for a bare GET) means it is serving
  } catch {
    return false;
  }
}

/** Starts Azurite; rejects if it does not answer within `timeoutMs`. */
export async function startAzurite(timeoutMs = 20_000): Promise<Azurite> {
  const port = await freePort();
  const bin = path.join(root, 'node_modules/.bin/azurite-blob');
  const child = spawn(
    bin,
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
      '--silent',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: false },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        return;
      }
      const t = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  };
  const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`azurite exited (${child.exitCode}): ${stderr}`);
    if (await answers(`http://127.0.0.1:${port}/`)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`azurite did not answer on port ${port} within ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100)); // poll interval while waiting for a condition
  }
  return { port, endpoint, process: child, stop };
}

/** Creates a container and returns a container SAS URL with the given permissions. */
export async function containerSas(
  az: Azurite,
  container: string,
  permissions: string,
  opts: { expiresInSec?: number; create?: boolean; identifier?: string } = {},
): Promise<string> {
  const {
    BlobServiceClient,
    StorageSharedKeyCredential,
    ContainerSASPermissions,
    generateBlobSASQueryParameters,
    SASProtocol,
  } = await import('@azure/storage-blob');
  const cred = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  const svc = new BlobServiceClient(az.endpoint, cred);
  const cc = svc.getContainerClient(container);
  if (opts.create !== false) await cc.createIfNotExists();
  const now = Date.now();
  const sas = generateBlobSASQueryParameters(
    {
      containerName: container,
      ...(opts.identifier
        ? { identifier: opts.identifier }
        : {
            permissions: ContainerSASPermissions.parse(permissions),
            startsOn: new Date(now - 60_000),
            expiresOn: new Date(now + (opts.expiresInSec ?? 3600) * 1000),
          }),
      protocol: SASProtocol.HttpsAndHttp,
    },
    cred,
  ).toString();
  return `${az.endpoint}/${container}?${sas}`;
}

/** Sets a stored access policy on a container (SAS then refer to it by `identifier`). */
export async function setStoredPolicy(az: Azurite, container: string, id: string, permissions: string): Promise<void> {
  const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const cred = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  const cc = new BlobServiceClient(az.endpoint, cred).getContainerClient(container);
  await cc.createIfNotExists();
  const now = Date.now();
  await cc.setAccessPolicy(undefined, [
    { id, accessPolicy: { permissions, startsOn: new Date(now - 60_000), expiresOn: new Date(now + 3600_000) } },
  ]);
}

/** Downloads a blob with the account key (test side, not the worker's SAS). */
export async function downloadBlob(az: Azurite, container: string, name: string): Promise<Buffer> {
  const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const cred = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  return new BlobServiceClient(az.endpoint, cred).getContainerClient(container).getBlobClient(name).downloadToBuffer();
}

export async function listBlobs(az: Azurite, container: string): Promise<string[]> {
  const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const cred = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  const out: string[] = [];
  for await (const b of new BlobServiceClient(az.endpoint, cred).getContainerClient(container).listBlobsFlat())
    out.push(b.name);
  return out;
}

/**
 * Makes Azurite reachable at the same 127.0.0.1:<port> inside a network namespace (the worker
 * runs there, as on a node). Network namespaces share the filesystem, so a Unix socket bridges
 * them: a proxy in the namespace forwards to the socket, a listener here forwards to Azurite.
 * The URL (and so the SAS) stays the same inside the namespace.
 */
export async function exposeInNetns(az: Azurite, ns: string, sockDir: string): Promise<{ close(): Promise<void> }> {
  const { createServer: createNetServer, connect } = await import('node:net');
  const sock = path.join(sockDir, `az-${az.port}.sock`);
  const host = createNetServer((c) => {
    const up = connect(az.port, '127.0.0.1');
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => host.listen(sock, r));
  const script = `
const net = require('node:net');
const [port, sock] = process.argv.slice(1);
net.createServer((c) => {
  const up = net.connect(sock);
  c.pipe(up).pipe(c);
  c.on('error', () => up.destroy());
  up.on('error', () => c.destroy());
}).listen(+port, '127.0.0.1', () => console.log('ready'));
`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script, String(az.port), sock], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('netns proxy did not start')), 10_000);
    child.stdout?.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`netns proxy exited ${code}`));
    });
  });
  return {
    async close() {
      if (child.exitCode === null && child.pid) {
        const gone = new Promise((r) => child.once('exit', r));
        process.kill(child.pid, 'SIGTERM');
        await gone;
      }
      await new Promise<void>((r) => host.close(() => r()));
    },
  };
}
