// Blob output in a real VS Code: "Retina: Set Blob Storage…" with account name + key (the test
// cluster's HTTPS Azurite on the bridge, test/support/clusterBlob.ts), then a palette capture on
// two traffic pods with output "Blob storage": the workers upload with a create+write SAS, the
// extension downloads with its own read+list SAS; the key never enters the cluster.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import https from 'node:https';
import { startClusterAzurite, type ClusterAzurite } from '../support/clusterBlob.js';
import { createNamespace, deleteNamespace, kubectl, realNodes, startTraffic, tsharkCount } from './harness/cluster.js';
import { ensureSetup, ensureVsix, ROOT, startSession, type Session } from './harness/codeServer.js';
import { waitForAny } from './harness/events.js';
import { openRetinaView, paletteToFilter, runCommand } from './harness/workbench.js';

const kubeconfig = process.env.RETINA_TEST_KUBECONFIG;
let s: Session | undefined;
let az: ClusterAzurite | undefined;
let ns: string | undefined;
const CONTAINER = 'ui-captures';

before(async () => {
  if (!kubeconfig) return;
  const state = path.dirname(kubeconfig);
  // The extension host must trust the cluster CA like the workers do: NODE_EXTRA_CA_CERTS for
  // code-server = whatever this machine already names there + the cluster CA, in one bundle.
  const bundle = path.join(ROOT, '.cache/e2e/ca-bundle-ui-blob.pem');
  const prior = process.env.NODE_EXTRA_CA_CERTS;
  mkdirSync(path.dirname(bundle), { recursive: true }); // a fresh clone has no .cache yet
  writeFileSync(
    bundle,
    (prior && existsSync(prior) ? readFileSync(prior, 'utf8') + '\n' : '') +
      readFileSync(path.join(state, 'pki', 'ca.crt'), 'utf8'),
  );
  process.env.NODE_EXTRA_CA_CERTS = bundle;
  az = await startClusterAzurite({ state });
  await az.createContainer(CONTAINER);
  s = await startSession({
    kubeconfig,
    vsix: ensureVsix(),
    setup: ensureSetup(),
    // VS Code's proxy support patches https with the system CA store only; off, the extension
    // host's https honours NODE_EXTRA_CA_CERTS (the test cluster's CA signs Azurite's cert).
    settings: { 'http.proxySupport': 'off' },
  });
  await openRetinaView(s.page);
});
after(async () => {
  await s?.close();
  await az?.stop();
  if (kubeconfig && ns) deleteNamespace(kubeconfig, ns);
});

test(
  'account + key blob output: cw SAS to the workers, rl SAS download, tshark finds the traffic',
  { skip: !kubeconfig && 'needs RETINA_TEST_KUBECONFIG', timeout: 180_000 },
  async () => {
    const kc = kubeconfig!;
    const session = s!;
    const { page } = session;
    const nodes = realNodes(kc);
    assert.ok(nodes.length >= 2);
    ns = createNamespace(kc, 'e2e-blob');
    const traffic = await startTraffic(kc, ns, nodes[1]!, nodes[0]!);

    // Set Blob Storage…: account name, key, container, endpoint.
    const input = page.locator('.quick-input-widget input.input');
    await runCommand(page, 'Retina: Set Blob Storage…');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Account name and key' }).first().click();
    for (const [title, value] of [
      ['Storage account name', az!.account.accountName],
      ['Account key of', az!.account.accountKey],
      ['Container', CONTAINER],
      ['Blob endpoint', az!.endpoint],
    ] as const) {
      await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ timeout: 15_000 });
      await input.fill(value);
      await page.waitForTimeout(300);
      await page.keyboard.press('Enter');
    }
    await page
      .locator('.notifications-toasts', { hasText: 'blob storage set to' })
      .first()
      .waitFor({ timeout: 15_000 });

    const t0 = Date.now();
    await paletteToFilter(page, ns);
    await input.fill('tcp port 8080 or udp port 9000');
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Blob storage' }).first().waitFor();
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Blob storage' }).first().click();
    await page.waitForTimeout(400);
    await page.keyboard.press('Enter'); // start now

    const planned = await waitForAny(session, ['progress'], 60_000, t0);
    const ready = await waitForAny(session, ['ready', 'commandError'], 150_000, t0);
    if (ready.event === 'commandError') {
      await session.screenshot('blob-capture-failed');
      throw new Error(`capture failed in the ui: ${String(ready.message)}`);
    }
    const capture = ready.capture as string;
    console.log(`capture ${capture} (first progress ${String(planned.type)})`);
    const merged = ready.mergedFile as string;
    assert.ok(merged && existsSync(merged));
    const http = tsharkCount(merged, `ip.addr==${traffic.serverIP} && tcp.port==8080`);
    const udp = tsharkCount(merged, `ip.addr==${traffic.serverIP} && udp.port==9000`);
    console.log(`tshark: ${http} HTTP, ${udp} UDP packets in ${merged}`);
    assert.ok(http > 0 && udp > 0);

    // The archives are in the container (uploaded by the workers): list over REST with an rl SAS,
    // trusting only the cluster CA (this process started before NODE_EXTRA_CA_CERTS was set).
    const list = new URL(await az!.containerSas(CONTAINER, 'rl'));
    list.searchParams.set('restype', 'container');
    list.searchParams.set('comp', 'list');
    list.searchParams.set('prefix', capture);
    const xml = await new Promise<string>((resolve, reject) => {
      https
        .get(list, { ca: readFileSync(az!.caCert) }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    const names = [...xml.matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1]!);
    console.log(`blobs: ${names.join(', ')}`);
    assert.ok(names.length >= 2, 'one archive per node in the container');

    // What entered the cluster: a create+write SAS, never the key.
    const secrets = kubectl(kc, ['get', 'secrets', '-n', ns, '-o', 'json']);
    assert.ok(!secrets.includes(az!.account.accountKey), 'the account key is not in any Secret');
    const urls = [...secrets.matchAll(/"blob-upload-url":\s*"([^"]+)"/g)].map((m) =>
      Buffer.from(m[1]!, 'base64').toString('utf8'),
    );
    for (const u of urls) assert.equal(new URL(u).searchParams.get('sp'), 'cw');
    console.log(`upload SAS in the cluster: ${urls.length ? 'sp=cw' : 'secret already deleted'}`);
  },
);
