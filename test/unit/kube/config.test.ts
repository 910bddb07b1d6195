import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configForContext, listContexts } from '../../../src/kube/config.js';

function file(dir: string, name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

const A = `apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c1
  cluster: { server: 'https://one:443', certificate-authority: ca.crt, proxy-url: 'http://proxy:3128' }
users:
- name: u1
  user:
    exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin, args: [get-token] }
contexts:
- name: a
  context: { cluster: c1, user: u1, namespace: team-a }
- name: shared
  context: { cluster: c1, user: u1 }
`;
const B = `apiVersion: v1
kind: Config
current-context: b
clusters:
- name: c1
  cluster: { server: 'https://IGNORED:443' }
- name: c2
  cluster: { server: 'https://two:443' }
users:
- name: u2
  user: { token: abc }
contexts:
- name: b
  context: { cluster: c2, user: u2 }
- name: shared
  context: { cluster: c2, user: u2 }
`;

test('several KUBECONFIG files merge kubectl-style: first definition and first current-context win', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = [file(dir, 'a.yaml', A), file(dir, 'b.yaml', B)];
  const ctxs = await listContexts({ files });
  assert.deepEqual(
    ctxs.map((c) => c.name),
    ['a', 'shared', 'b'],
  );
  const a = ctxs.find((c) => c.name === 'a');
  assert.equal(a?.current, true);
  assert.equal(a?.namespace, 'team-a');
  assert.equal(a?.server, 'https://one:443');
  assert.equal(a?.auth, 'exec: kubelogin');
  assert.equal(a?.proxyUrl, 'http://proxy:3128');
  assert.equal(ctxs.find((c) => c.name === 'shared')?.cluster, 'c1');
  assert.equal(ctxs.find((c) => c.name === 'b')?.namespace, 'default');
  assert.equal(ctxs.find((c) => c.name === 'b')?.auth, 'token');

  const { kc, info } = await configForContext({ files }, 'b');
  assert.equal(info.name, 'b');
  assert.deepEqual(
    kc.getContexts().map((c) => c.name),
    ['b'],
    'a door sees only its context',
  );
  // Relative file paths resolve against the file that named them.
  const { kc: kca } = await configForContext({ files }, 'a');
  assert.equal(kca.getCurrentCluster()?.caFile, path.join(dir, 'ca.crt'));
});

test('unknown context and missing files give clear errors', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = [file(dir, 'a.yaml', A)];
  await assert.rejects(
    configForContext({ files }, 'nope'),
    /Context "nope" is not in the kubeconfig \(have: a, shared\)/,
  );
  await assert.rejects(listContexts({ files: [path.join(dir, 'missing')] }), /No kubeconfig found/);
});
