// Azurite reachable from the test cluster's nodes, over HTTPS. Capture workers run in the node
// network namespaces: they cannot reach host loopback, and they rightly refuse an http SAS URL
// unless its host is loopback. So this Azurite listens on the host's bridge address
// 198.18.0.1 (rcbr0, reachable from every node's eth0) with a serving cert for that IP signed
// by the test cluster's CA. The workers trust the CA through NODE_EXTRA_CA_CERTS (the up
// script's image map); host-side processes need the same variable (test/run.ts sets it).
//
//   const az = await startClusterAzurite(readCluster()!);
//   await az.createContainer('captures');
//   const url = await az.containerSas('captures', 'rl');   // https://198.18.0.1:<port>/devstoreaccount1/captures?sv=…
//   await az.stop();
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StorageAccount } from '../../src/storage/sas.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, containerSas, type Azurite } from './azurite.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The host's address on the cluster bridge (CONTRACT.md address plan). */
export const BRIDGE_HOST = '198.18.0.1';

export interface ClusterAzurite extends Azurite {
  host: string;
  /** `https://198.18.0.1:<port>/devstoreaccount1` */
  endpoint: string;
  /** The cluster CA (PEM file) that signed the serving cert: NODE_EXTRA_CA_CERTS for clients. */
  caCert: string;
  /** The development account with this endpoint, for src/storage/sas.ts (createUploadSas …). */
  account: StorageAccount;
  /** Creates a container (idempotent) with the account key, trusting only the cluster CA. */
  createContainer(name: string): Promise<void>;
  /** A container SAS URL (signed locally; the container must exist). */
  containerSas(container: string, permissions: string, opts?: { expiresInSec?: number }): Promise<string>;
}

/** Just what is read from the cluster (ClusterInfo of test/cluster/cluster.ts). */
export interface ClusterLike {
  state: string;
}

export function clusterCaCert(cluster: ClusterLike): string {
  return path.join(cluster.state, 'pki', 'ca.crt');
}

function freePortOn(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function openssl(args: string[], what: string): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${what} failed (exit ${r.status}): ${r.stderr}`);
}

/**
 * A serving cert for `ip` signed by the cluster CA, kept next to the CA in `<state>/pki/`
 * (gone with the cluster's `down`); reused while it is younger than the CA and still valid.
 */
export function ensureServingCert(cluster: ClusterLike, ip = BRIDGE_HOST): { cert: string; key: string } {
  const pki = path.join(cluster.state, 'pki');
  const ca = path.join(pki, 'ca.crt');
  const caKey = path.join(pki, 'ca.key');
  if (!existsSync(ca) || !existsSync(caKey)) throw new Error(`no cluster CA in ${pki} (is the test cluster up?)`);
  const cert = path.join(pki, `azurite-${ip}.crt`);
  const key = path.join(pki, `azurite-${ip}.key`);
  if (existsSync(cert) && existsSync(key)) {
    const check = spawnSync('openssl', ['verify', '-CAfile', ca, cert], { encoding: 'utf8' });
    const fresh = spawnSync('openssl', ['x509', '-in', cert, '-noout', '-checkend', '86400'], { encoding: 'utf8' });
    if (check.status === 0 && fresh.status === 0) return { cert, key };
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rc-azcert-'));
  try {
    const csr = path.join(tmp, 'req.csr');
    const ext = path.join(tmp, 'ext.cnf');
    writeFileSync(
      ext,
      [
        `subjectAltName=IP:${ip}`,
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        '',
      ].join('\n'),
    );
    openssl(['genrsa', '-out', path.join(tmp, 'key.pem'), '2048'], 'genrsa');
    openssl(
      ['req', '-new', '-key', path.join(tmp, 'key.pem'), '-subj', '/CN=azurite-test-cluster', '-out', csr],
      'req',
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        ca,
        '-CAkey',
        caKey,
        '-CAcreateserial',
        '-CAserial',
        path.join(tmp, 'ca.srl'),
        '-days',
        '30',
        '-sha256',
        '-extfile',
        ext,
        '-out',
        path.join(tmp, 'cert.pem'),
      ],
      'x509 -req (sign with the cluster CA)',
    );
    writeFileSync(key, readFileSync(path.join(tmp, 'key.pem')), { mode: 0o600 });
    writeFileSync(cert, readFileSync(path.join(tmp, 'cert.pem')), { mode: 0o644 });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { cert, key };
}

/** One HTTPS request trusting only `ca`; resolves with the status code. */
function request(url: string, ca: Buffer, method = 'GET', timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, timeout: timeoutMs, headers: { 'content-length': 0 } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${new URL(url).origin}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Starts Azurite (blob) with HTTPS on the bridge address; rejects if it does not answer in time. */
export async function startClusterAzurite(
  cluster: ClusterLike,
  opts: { host?: string; port?: number; timeoutMs?: number; pidFile?: string } = {},
): Promise<ClusterAzurite> {
  const host = opts.host ?? BRIDGE_HOST;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const { cert, key } = ensureServingCert(cluster, host);
  const caCert = clusterCaCert(cluster);
  const ca = readFileSync(caCert);
  const port = opts.port ?? (await freePortOn(host));
  const bin = path.join(root, 'node_modules/.bin/azurite-blob');
  const child = spawn(
    bin,
    [
      '--blobHost',
      host,
      '--blobPort',
      String(port),
      '--cert',
      cert,
      '--key',
      key,
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
      '--silent',
    ],
    // Own process group: stop() ends Azurite and anything it spawned, by this PID only.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  child.unref();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  if (opts.pidFile && child.pid) {
    mkdirSync(path.dirname(opts.pidFile), { recursive: true });
    writeFileSync(opts.pidFile, `${child.pid}\n`);
  }
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once('exit', () => r());
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      const pid = child.pid;
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const t = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, 5000);
      await exited;
      clearTimeout(t);
    }
    if (opts.pidFile) rmSync(opts.pidFile, { force: true });
  };

  const origin = `https://${host}:${port}`;
  const endpoint = `${origin}/${AZURITE_ACCOUNT}`;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`azurite exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
    }
    try {
      await request(`${origin}/`, ca, 'GET', 1000);
      break; // any HTTP answer over TLS with the cluster CA means it is serving
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`azurite did not answer on ${origin} within ${timeoutMs} ms (${last}): ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100)); // poll interval while waiting for a condition
  }

  const az: ClusterAzurite = {
    host,
    port,
    endpoint,
    process: child,
    caCert,
    account: { accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, endpoint },
    stop,
    async createContainer(name) {
      // An account SAS allowed to create containers, signed locally; the request itself goes
      // through node:https with the cluster CA, so this process needs no NODE_EXTRA_CA_CERTS.
      const { AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, StorageSharedKeyCredential } =
        await import('@azure/storage-blob');
      const { generateAccountSASQueryParameters, SASProtocol } = await import('@azure/storage-blob');
      const now = Date.now();
      const sas = generateAccountSASQueryParameters(
        {
          permissions: AccountSASPermissions.parse('c'),
          resourceTypes: AccountSASResourceTypes.parse('c').toString(),
          services: AccountSASServices.parse('b').toString(),
          startsOn: new Date(now - 60_000),
          expiresOn: new Date(now + 600_000),
          protocol: SASProtocol.Https,
        },
        new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
      ).toString();
      const status = await request(`${endpoint}/${name}?restype=container&${sas}`, ca, 'PUT');
      if (status !== 201 && status !== 409) throw new Error(`creating container ${name}: HTTP ${status}`);
    },
    containerSas(container, permissions, o = {}) {
      return containerSas(az, container, permissions, { ...o, create: false });
    },
  };
  return az;
}
