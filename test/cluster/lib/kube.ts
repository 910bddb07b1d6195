// Thin helpers over @kubernetes/client-node and raw HTTPS probes with the cluster's certs.
import https from 'node:https';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';

export function loadKubeConfig(file: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** GET an URL; https with the cluster CA and (optionally) a client cert from pkiDir. */
export function probe(
  url: string,
  opts: { pkiDir?: string; cert?: string; timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const tlsOpts: https.RequestOptions = {};
    if (u.protocol === 'https:') {
      if (opts.pkiDir) tlsOpts.ca = readFileSync(path.join(opts.pkiDir, 'ca.crt'));
      if (opts.pkiDir && opts.cert) {
        tlsOpts.cert = readFileSync(path.join(opts.pkiDir, `${opts.cert}.crt`));
        tlsOpts.key = readFileSync(path.join(opts.pkiDir, `${opts.cert}.key`));
      }
      // controller-manager and scheduler serve a self-signed cert of their own.
      if (!opts.pkiDir) tlsOpts.rejectUnauthorized = false;
    }
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.get(u, { ...tlsOpts, timeout: opts.timeoutMs ?? 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
  });
}

export function isReady(node: k8s.V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** HTTP status of a client-node error (ApiException.code), or undefined. */
export function statusOf(e: unknown): number | undefined {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'number')
    return (e as { code: number }).code;
  return undefined;
}

/** Server-side applies every object of a multi-document YAML file (idempotent). */
export async function applyYamlFile(kc: k8s.KubeConfig, file: string): Promise<void> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const docs = k8s.loadAllYaml(readFileSync(file, 'utf8')) as k8s.KubernetesObject[];
  for (const obj of docs) {
    if (!obj?.kind) continue;
    await client.patch(obj, undefined, undefined, 'retina-test-cluster', true, k8s.PatchStrategy.ServerSideApply);
  }
}
