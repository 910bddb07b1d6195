// Scripts that build native code or install a Node-24 tool behave the same under npm as from a
// plain shell: npm's exported config (npm_config_nodedir=/usr once built cap for Node 24 against
// Node 20's headers) and its Node never reach them (scripts/lib/clean-env.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const lib = path.join(root, 'scripts/lib/clean-env.sh');

test('clean_npm_env drops what npm exports and keeps the rest', () => {
  // --norc: bash started with a socket as stdin (Node's pipes) reads ~/.bashrc otherwise.
  const r = spawnSync('bash', ['--norc', '-c', `. "${lib}"; clean_npm_env; env`], {
    encoding: 'utf8',
    env: {
      PATH: `/x/node_modules/.bin:/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin:/usr/bin:/bin`,
      HOME: '/root',
      npm_config_nodedir: '/usr',
      NPM_CONFIG_DEVDIR: '/tmp/gyp',
      npm_node_execpath: '/usr/bin/node',
      npm_lifecycle_event: 'test',
      NODE: '/usr/bin/node',
      INIT_CWD: '/work',
      NODE_PATH: '/keep',
      NODE_EXTRA_CA_CERTS: '/keep.crt',
    },
  });
  assert.equal(r.status, 0, r.stderr);
  const env = Object.fromEntries(
    r.stdout.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  for (const gone of [
    'npm_config_nodedir',
    'NPM_CONFIG_DEVDIR',
    'npm_node_execpath',
    'npm_lifecycle_event',
    'NODE',
    'INIT_CWD',
  ])
    assert.equal(env[gone], undefined, `${gone} still set`);
  assert.equal(env.PATH, '/usr/bin:/bin');
  assert.equal(env.NODE_PATH, '/keep');
  assert.equal(env.NODE_EXTRA_CA_CERTS, '/keep.crt');
  assert.equal(env.HOME, '/root');
});

test('every script that runs npm install, npm rebuild or node-gyp cleans npm’s environment first', () => {
  const scripts = ['scripts/node24.sh', 'scripts/worker-runtime.sh', 'test/e2e/harness/setup.sh'];
  for (const f of scripts) {
    const s = readFileSync(path.join(root, f), 'utf8');
    const code = s
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n');
    assert.match(
      code,
      /node-gyp|npm(_cli")? install|\brebuild\b/,
      `${f} no longer builds or installs: update this list`,
    );
    const clean = code.indexOf('clean_npm_env\n');
    const first = code.search(/"\$gyp"|npm install|cs_npm install/);
    assert.ok(clean >= 0 && clean < first, `${f} must call clean_npm_env before it installs or builds`);
  }
});
