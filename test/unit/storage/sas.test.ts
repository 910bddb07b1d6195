import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkSasUrl,
  containerNameProblem,
  createDownloadSas,
  createUploadSas,
  isLoopbackHost,
} from '../../../src/storage/sas.js';

const NOW = new Date(Date.UTC(2026, 10, 26, 5, 0, 0));
const KEY = Buffer.from('not-a-real-key-but-base64-ok').toString('base64');
const AZURE = { accountName: 'acct', accountKey: KEY };
const AZURITE = {
  accountName: 'devstoreaccount1',
  accountKey: KEY,
  endpoint: 'http://127.0.0.1:10000/devstoreaccount1/',
};

const q = (url: string): URLSearchParams => new URL(url).searchParams;

test('upload SAS: container, cw only, https only, starts 5 min early, lasts capture + 1 h', async () => {
  const g = await createUploadSas(AZURE, 'captures', { durationSeconds: 600, now: NOW });
  assert.ok(g.url.startsWith('https://acct.blob.core.windows.net/captures?'));
  const p = q(g.url);
  assert.equal(p.get('sp'), 'cw');
  assert.equal(p.get('sr'), 'c');
  assert.equal(p.get('spr'), 'https');
  assert.equal(p.get('st'), '2026-11-26T04:55:00Z');
  assert.equal(p.get('se'), '2026-11-26T06:10:00Z');
  assert.ok(p.get('sig'));
  assert.deepEqual(checkSasUrl(g.url, 'upload', NOW, { until: new Date(NOW.getTime() + 600_000) }), []);
  assert.deepEqual(checkSasUrl(g.url, 'download', NOW), [
    'the SAS lacks read (r) and list (l) permissions needed to download',
  ]);
});

test('download SAS: rl, one hour', async () => {
  const g = await createDownloadSas(AZURE, 'captures', { now: NOW });
  assert.equal(q(g.url).get('sp'), 'rl');
  assert.equal(q(g.url).get('se'), '2026-11-26T06:00:00Z');
  assert.deepEqual(checkSasUrl(g.url, 'download', NOW), []);
  assert.deepEqual(checkSasUrl(g.url, 'upload', NOW), [
    'the SAS lacks create (c) and write (w) permissions needed by the workers',
  ]);
});

test('Azurite endpoint: path-style URL and http allowed on loopback only', async () => {
  const g = await createUploadSas(AZURITE, 'captures', { durationSeconds: 60, now: NOW });
  assert.ok(g.url.startsWith('http://127.0.0.1:10000/devstoreaccount1/captures?'));
  assert.equal(q(g.url).get('spr'), 'https,http');
  assert.deepEqual(checkSasUrl(g.url, 'upload', NOW), []);
  await assert.rejects(
    createUploadSas({ ...AZURITE, endpoint: 'http://10.1.2.3:10000/devstoreaccount1' }, 'captures', {
      durationSeconds: 60,
      now: NOW,
    }),
    /uses http; only a local emulator may/,
  );
  const bridged = await createUploadSas(
    { ...AZURITE, endpoint: 'http://10.1.2.3:10000/devstoreaccount1' },
    'captures',
    {
      durationSeconds: 60,
      now: NOW,
      allowHttp: true,
    },
  );
  assert.deepEqual(checkSasUrl(bridged.url, 'upload', NOW, { allowHttp: true }), []);
  assert.equal(checkSasUrl(bridged.url, 'upload', NOW).length, 1);
});

test('container names follow Azure rules', async () => {
  assert.equal(containerNameProblem('captures'), undefined);
  assert.match(containerNameProblem('Caps') ?? '', /3-63 lowercase/);
  assert.match(containerNameProblem('a--b') ?? '', /single hyphens/);
  await assert.rejects(createUploadSas(AZURE, 'x', { durationSeconds: 60, now: NOW }), /container name "x"/);
});

test('loopback detection', () => {
  for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['10.0.0.1', 'example.com', '128.0.0.1']) assert.ok(!isLoopbackHost(h), h);
});

const SIG = 'TOPSECRETsig%2Bvalue%3D';
const sas = (base: string, params: Record<string, string>): string =>
  `${base}?${new URLSearchParams(params).toString()}&sig=${SIG}`;
const good = {
  sv: '2025-01-05',
  spr: 'https',
  st: '2026-11-26T04:55:00Z',
  se: '2026-11-26T07:00:00Z',
  sr: 'c',
  sp: 'cw',
};
const base = 'https://acct.blob.core.windows.net/captures';

test('checkSasUrl: each problem has its own clear message, never the signature', () => {
  const cases: [string, string[], Parameters<typeof checkSasUrl>[1]?, Date?][] = [
    [
      'not a url',
      ['the SAS URL is not a valid URL (expected https://<account>.blob.core.windows.net/<container>?<sas>)'],
    ],
    [
      sas('http://acct.blob.core.windows.net/captures', { ...good, spr: 'https,http' }),
      [
        'the SAS URL must use https (got http://acct.blob.core.windows.net/captures); plain http is accepted only for a local emulator',
      ],
    ],
    [
      sas('http://127.0.0.1:10000/devstoreaccount1/captures', good),
      ['the SAS allows https only (spr=https) but the URL uses http; the storage service will refuse it'],
    ],
    [
      sas(`${base}/node-a.tar.gz`, { ...good, sr: 'b' }),
      [
        "the SAS URL points at a blob (https://acct.blob.core.windows.net/captures/node-a.tar.gz), not a container; use the container's URL",
        'the SAS is for a single blob (sr=b), not a container (sr=c); create a container SAS',
      ],
    ],
    [
      sas('https://acct.blob.core.windows.net/', good),
      ['the SAS URL names no container (https://acct.blob.core.windows.net/); use the URL of a container'],
    ],
    [
      `${base}?${new URLSearchParams(good).toString()}`,
      ['the SAS URL has no signature (sig); copy the whole URL including its query string'],
    ],
    [sas(base, { ...good, sp: 'r' }), ['the SAS lacks create (c) and write (w) permissions needed by the workers']],
    [sas(base, { ...good, sp: 'rc' }), ['the SAS lacks write (w) permission needed by the workers']],
    [sas(base, { ...good, se: '2026-11-26T04:59:00Z' }), ['the SAS expired at 2026-11-26T04:59:00Z']],
    [
      sas(base, { ...good, st: '2026-11-26T05:30:00Z' }),
      ["the SAS is not valid until 2026-11-26T05:30:00Z; check its start time or this machine's clock"],
    ],
    [sas(base, { ...good, sp: 'rwl' }), ['the SAS lacks create (c) permission needed by the workers']],
  ];
  for (const [url, expected] of cases) {
    const got = checkSasUrl(url, 'upload', NOW);
    assert.deepEqual(got, expected, url);
    for (const m of got) assert.ok(!m.includes('TOPSECRET'), m);
  }
  assert.deepEqual(checkSasUrl(sas(base, good), 'upload', NOW, { until: new Date(Date.UTC(2026, 10, 26, 8)) }), [
    'the SAS expires at 2026-11-26T07:00:00Z, before the capture ends at 2026-11-26T08:00:00Z; create one that lasts longer',
  ]);
  assert.deepEqual(checkSasUrl(sas(base, good), 'upload', NOW), []);
});

test('checkSasUrl: account SAS is accepted when it covers blob objects (and containers to list)', () => {
  const account = { sv: '2025-01-05', ss: 'b', srt: 'co', sp: 'rl', se: '2026-11-26T07:00:00Z', spr: 'https' };
  assert.deepEqual(checkSasUrl(sas(base, account), 'download', NOW), []);
  assert.deepEqual(checkSasUrl(sas(base, { ...account, ss: 'q', srt: 'o' }), 'download', NOW), [
    'the account SAS does not cover the blob service (ss lacks b)',
    'the account SAS lacks resource types container (c) (srt)',
  ]);
});
