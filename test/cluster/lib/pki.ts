// Certificates (made by the Go `certs` tool, see controlplane/certs) and kubeconfigs.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './proc.js';

export function makeCerts(bin: string, pkiDir: string): void {
  run(path.join(bin, 'certs'), ['--dir', pkiDir], { timeoutMs: 60_000 });
}

const b64 = (file: string): string => readFileSync(file).toString('base64');

/** Writes a kubeconfig with the CA and client cert embedded, so it can be copied anywhere. */
export function writeKubeconfig(
  file: string,
  opts: { server: string; pkiDir: string; cert: string; user: string },
): void {
  const yaml = `apiVersion: v1
kind: Config
clusters:
- name: retina-test
  cluster:
    server: ${opts.server}
    certificate-authority-data: ${b64(path.join(opts.pkiDir, 'ca.crt'))}
users:
- name: ${opts.user}
  user:
    client-certificate-data: ${b64(path.join(opts.pkiDir, `${opts.cert}.crt`))}
    client-key-data: ${b64(path.join(opts.pkiDir, `${opts.cert}.key`))}
contexts:
- name: ${opts.user}@retina-test
  context:
    cluster: retina-test
    user: ${opts.user}
    namespace: default
current-context: ${opts.user}@retina-test
`;
  writeFileSync(file, yaml, { mode: 0o600 });
}
