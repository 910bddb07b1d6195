import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT } from '../../../src/contract/index.js';
import {
  ConfigError,
  parseBool,
  parseDurationEnv,
  parseIntEnv,
  parseStartTimestamp,
  parseTargetPods,
  readConfig,
  validateHostPathString,
  validateSasUrl,
  type ConfigDeps,
  type Env,
} from '../../../worker/src/config.js';

const NOW = new Date('2026-11-26T05:00:00Z');
const SIG = 'c2VjcmV0c2lnbmF0dXJl%3D';
const sas = (q: string, host = 'acct.blob.core.windows.net', proto = 'https', p = '/captures'): string =>
  `${proto}://${host}${p}?sv=2022-11-02&sr=c&${q}&sig=${SIG}`;

test('durations: Go syntax, zero = none, garbage and sub-second rejected', () => {
  assert.deepEqual(parseDurationEnv(''), {});
  assert.deepEqual(parseDurationEnv('1m30s'), { ms: 90_000 });
  assert.deepEqual(parseDurationEnv('0s'), {});
  assert.match(parseDurationEnv('10 minutes') as string, /not a duration/);
  assert.match(parseDurationEnv('500ms') as string, /shorter than 1s/);
});

test('integers, booleans, timestamps, target pods', () => {
  assert.equal(parseIntEnv('X', '', 0, 5), undefined);
  assert.equal(parseIntEnv('X', '3', 0, 5), 3);
  assert.match(parseIntEnv('X', '-1', 0, 5) as string, /not a whole number/);
  assert.match(parseIntEnv('X', '9', 0, 5) as string, /out of range/);
  assert.equal(parseBool('B', '', true), true);
  assert.equal(parseBool('B', 'False', true), false);
  assert.match(parseBool('B', 'maybe', true) as string, /not true or false/);
  assert.equal(parseStartTimestamp('', NOW), '20261126050000UTC');
  assert.equal(parseStartTimestamp('20261126050709UTC', NOW), '20261126050709UTC');
  assert.equal(parseStartTimestamp('2026-11-26T05:07:09Z', NOW), '20261126050709UTC');
  assert.ok(typeof parseStartTimestamp('yesterday', NOW) === 'object');
  assert.deepEqual(parseTargetPods('[{"namespace":"default","name":"web-0","ip":"10.0.0.5"}]'), [
    { namespace: 'default', name: 'web-0', ip: '10.0.0.5' },
  ]);
  assert.match(parseTargetPods('[{"namespace":"d","name":"x","ip":""}]') as string, /no valid IP/);
  assert.match(parseTargetPods('{') as string, /not JSON/);
});

test('SAS URL checks: https, container level, c+w, expiry — never echoing the signature', () => {
  const ok = validateSasUrl(sas('sp=racwl&se=2026-11-27T00:00:00Z'), NOW);
  assert.ok('display' in ok && ok.display === 'https://acct.blob.core.windows.net/captures');
  const cases: [string, RegExp][] = [
    [sas('sp=cw', 'acct.blob.core.windows.net', 'http'), /must use https/],
    [sas('sp=r'), /lacks create \(c\) and write \(w\) permission/],
    [sas('sp=rc'), /lacks write \(w\) permission/],
    [sas('sp=cw', 'acct.blob.core.windows.net', 'https', '/captures/folder/x.tar.gz'), /must name a container/],
    [sas('sp=cw&se=2026-11-25T00:00:00Z'), /expired at 2026-11-25/],
    [sas('sp=cw&st=2026-12-01T00:00:00Z'), /not valid before/],
    ['https://acct.blob.core.windows.net/c?sp=cw', /no SAS signature/],
    ['not a url', /not a URL/],
  ];
  for (const [url, re] of cases) {
    const r = validateSasUrl(url, NOW);
    assert.ok('error' in r, url);
    assert.match(r.error, re);
    assert.ok(!r.error.includes(SIG) && !r.error.includes('c2VjcmV0'), 'signature leaked');
  }
  // Loopback (Azurite) may use http and path-style URLs.
  assert.ok('display' in validateSasUrl(sas('sp=cw', '127.0.0.1:10000', 'http', '/devstoreaccount1/captures'), NOW));
  // Stored access policy: permissions are not in the URL.
  const si = validateSasUrl(sas('si=policy1'), NOW);
  assert.ok('warnings' in si && si.warnings.some((w) => /stored access policy/.test(w)));
  const late = validateSasUrl(sas('sp=cw&se=2026-11-26T05:01:00Z'), NOW, new Date('2026-11-26T05:10:00Z'));
  assert.ok('warnings' in late && late.warnings.some((w) => /before the capture ends/.test(w)));
});

test('host path strings', () => {
  assert.equal(validateHostPathString('/var/log/retina/captures/x'), undefined);
  assert.match(validateHostPathString('retina') ?? '', /absolute/);
  assert.match(validateHostPathString('/a/../etc') ?? '', /\.\./);
  assert.match(validateHostPathString('/var/log/retina/captures/a\nb') ?? '', /control characters/);
});

const deps = (over: Partial<ConfigDeps> = {}): ConfigDeps => ({
  now: NOW,
  links: async () => [
    { ifname: 'lo', flags: ['LOOPBACK', 'UP'], link_type: 'loopback' },
    { ifname: 'eth0', flags: ['BROADCAST', 'UP'], link_type: 'ether' },
    { ifname: 'eth1', flags: ['BROADCAST'], link_type: 'ether' },
  ],
  validateFilter: (f) =>
    f.includes('(') && !f.includes(')') ? "can't parse filter expression: syntax error" : undefined,
  ...over,
});

async function code(env: Env, d = deps()): Promise<[number, string]> {
  try {
    await readConfig(env, d);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return [e.exitCode, e.message];
  }
  return [0, ''];
}

test('readConfig: each bad input has its exit code and a one-line reason', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rcx-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const base: Env = {
    CAPTURE_NAME: 'c1',
    NODE_HOST_NAME: 'n1',
    HOSTPATH: path.join(dir, 'out'),
    RCAP_BLOB_SECRET_FILE: '',
  };
  assert.deepEqual(await code({ ...base, CAPTURE_NAME: '' }), [EXIT.badConfig, 'CAPTURE_NAME is not set']);
  assert.equal((await code({ ...base, CAPTURE_DURATION: 'forever' }))[0], EXIT.badDuration);
  assert.equal((await code({ ...base, CAPTURE_MAX_SIZE: 'big' }))[0], EXIT.badSize);
  assert.equal((await code({ ...base, CAPTURE_FILE_COUNT: '3' }))[0], EXIT.badSize);
  assert.equal((await code({ ...base, CAPTURE_PACKET_SIZE: '999999' }))[0], EXIT.badSize);
  assert.deepEqual(await code({ ...base, CAPTURE_INTERFACES: 'eth0,wlan9' }), [
    EXIT.badInterface,
    'interface wlan9 does not exist on this node (have: lo, eth0, eth1)',
  ]);
  assert.deepEqual(await code({ ...base, CAPTURE_INTERFACES: 'eth1' }), [EXIT.badInterface, 'interface eth1 is down']);
  assert.deepEqual(await code({ ...base, PCAP_FILTER: 'tcp and (' }), [
    EXIT.badFilter,
    "PCAP_FILTER: can't parse filter expression: syntax error",
  ]);
  assert.equal((await code({ ...base, HOSTPATH: 'relative/dir' }))[0], EXIT.badHostPath);
  writeFileSync(path.join(dir, 'file'), '');
  assert.equal((await code({ ...base, HOSTPATH: path.join(dir, 'file', 'sub') }))[0], EXIT.badHostPath);
  assert.equal((await code({ ...base, RCAP_BLOB_SECRET_FILE: path.join(dir, 'missing') }))[0], EXIT.badBlobUrl);
  const secret = path.join(dir, 'sas');
  writeFileSync(secret, sas('sp=r'));
  const [c, msg] = await code({ ...base, RCAP_BLOB_SECRET_FILE: secret });
  assert.equal(c, EXIT.badBlobUrl);
  assert.ok(!msg.includes(SIG));
  assert.deepEqual(await code({ CAPTURE_NAME: 'c1', RCAP_BLOB_SECRET_FILE: '' }), [
    EXIT.badConfig,
    'no output: set HOSTPATH, a PVC or a blob upload secret',
  ]);
});

test('readConfig: a good environment, Retina raw -i and TCPDUMP_FILTER pod IPs', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rcx-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const secret = path.join(dir, 'sas');
  writeFileSync(secret, sas('sp=cw&se=2026-11-27T00:00:00Z') + '\n');
  const cfg = await readConfig(
    {
      CAPTURE_NAME: 'c1',
      NODE_HOST_NAME: 'n1',
      CAPTURE_DURATION: '2m',
      CAPTURE_MAX_SIZE: '50',
      CAPTURE_FILE_COUNT: '4',
      CAPTURE_PACKET_SIZE: '128',
      INCLUDE_METADATA: 'false',
      TCPDUMP_RAW_FILTER: '-i eth0 -vv',
      TCPDUMP_FILTER: '((host 10.0.0.9)) or (host 10.244.1.5 or host 10.244.1.6)',
      HOSTPATH: path.join(dir, 'out'),
      RCAP_BLOB_SECRET_FILE: secret,
    },
    deps(),
  );
  assert.equal(cfg.durationMs, 120_000);
  assert.equal(cfg.maxSizeBytes, 50 * 1024 * 1024);
  assert.equal(cfg.fileCount, 4);
  assert.equal(cfg.snapLength, 128);
  assert.equal(cfg.includeMetadata, false);
  assert.deepEqual(cfg.interfaces, ['eth0']);
  assert.deepEqual(cfg.tcpdump, { clause: '((host 10.0.0.9))', podIps: ['10.244.1.5', '10.244.1.6'] });
  assert.equal(cfg.blob?.display, 'https://acct.blob.core.windows.net/captures');
  assert.ok(cfg.warnings.some((w) => /ignored -vv/.test(w)));
});
