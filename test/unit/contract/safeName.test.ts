import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  archiveName,
  isSafePathComponent,
  parseArchiveName,
  pathComponentProblem,
  toSafeComponent,
} from '../../../src/contract/index.js';
import { childPath } from '../../../src/download/safePath.js';

const HOSTILE = [
  '',
  '.',
  '..',
  'a/b',
  'a\\b',
  '..\\..\\evil',
  'C:evil',
  'x:stream',
  'nul',
  'CON.txt',
  'com1',
  'trailing.',
  'trailing ',
  'nul\0byte',
  'line\nbreak',
  'del\u007f',
  'c1\u0085',
  'bidi\u202egpj.exe',
  'iso\u2066late',
  'a'.repeat(256),
  'é'.repeat(128),
];

test('path components: hostile spellings are refused on every platform, plain names pass', () => {
  for (const name of HOSTILE) assert.ok(pathComponentProblem(name), `accepted ${JSON.stringify(name)}`);
  for (const name of ['aks-nodepool1-123-vmss000000', 'node.example.com', 'manifest.json', 'a'.repeat(255)]) {
    assert.equal(pathComponentProblem(name), undefined, name);
  }
});

test('archive names whose node part is a path are not archive names', () => {
  const ts = '20261126000000UTC';
  for (const node of ['x/../../../../evil', 'x\\..\\..\\evil', '..', 'x/y', 'n\u202eode', 'nul', 'a:b']) {
    assert.equal(parseArchiveName(`cap-${node}-${ts}.tar.gz`, 'cap'), undefined, node);
  }
  assert.equal(parseArchiveName(`cap-x/../../../../evil-${ts}.tar.gz`, 'cap'), undefined);
  assert.deepEqual(parseArchiveName(archiveName('cap', 'node-1', ts), 'cap'), { node: 'node-1', timestamp: ts });
});

test('childPath keeps every name one entry inside its folder, POSIX and Windows rules', () => {
  for (const p of [path.posix, path.win32]) {
    const parent = p === path.win32 ? 'C:\\Users\\me\\captures' : '/home/me/captures';
    assert.equal(childPath(parent, 'a.tar.gz', 'the blob name', p), p.join(parent, 'a.tar.gz'));
    for (const bad of ['..', '../x', '..\\x', 'C:\\x', 'C:x', '\\\\server\\share', '/etc/passwd', 'nul']) {
      assert.throws(() => childPath(parent, bad, 'the blob name', p), /the blob name ".*" /, `${bad} on ${p.sep}`);
    }
  }
});

test('context names map to one safe folder name; `..` does not move the folder up', () => {
  for (const ctx of ['..', '.', '', 'a/../..', 'nul', 'arn:aws:eks:eu-west-1:1:cluster/x', 'ctx.']) {
    const safe = toSafeComponent(ctx);
    assert.ok(isSafePathComponent(safe), `${JSON.stringify(ctx)} -> ${JSON.stringify(safe)}`);
    assert.equal(path.posix.dirname(path.posix.join('/root/dl', safe)), '/root/dl');
    assert.equal(path.win32.dirname(path.win32.join('C:\\dl', safe)), 'C:\\dl');
  }
  assert.equal(toSafeComponent('kind-retina'), 'kind-retina');
});
