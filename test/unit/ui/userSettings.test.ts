// A cloned repository's .vscode/settings.json must not pick the privileged worker image, the
// kubeconfig, the download folder or the Wireshark binary.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { USER_ONLY_SETTINGS, userValue } from '../../../src/views/userSettings.js';

interface Prop {
  scope?: string;
}
const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Prop> } };
};

test('settings a workspace must not choose have application or machine scope', () => {
  const props = pkg.contributes.configuration.properties;
  for (const [key, scope] of Object.entries(USER_ONLY_SETTINGS)) {
    assert.equal(props[`retinaCapture.${key}`]?.scope, scope, key);
  }
  for (const [key, p] of Object.entries(props)) {
    if (/image|kubeconfig|folder|path$/i.test(key) && !key.endsWith('hostPathSubPath')) {
      assert.ok(p.scope === 'application' || p.scope === 'machine', `${key} is ${p.scope ?? 'window'}-scoped`);
    }
  }
});

test('only the user (global) value is read: workspace and folder values are ignored', () => {
  const evil = 'evil.example/root-kit:latest';
  assert.equal(userValue({ defaultValue: 'w:1', workspaceValue: evil, workspaceFolderValue: evil }, 'x'), 'w:1');
  assert.equal(userValue({ defaultValue: 'w:1', globalValue: 'mine:2', workspaceValue: evil }, 'x'), 'mine:2');
  assert.equal(userValue<string>(undefined, 'fallback'), 'fallback');
});
