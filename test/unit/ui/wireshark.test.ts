import assert from 'node:assert/strict';
import { test } from 'node:test';
import { candidatePaths, parseVersion, versionOk } from '../../../src/ui/wireshark.js';

test('Wireshark version parsing and minimum 3.4', () => {
  assert.equal(parseVersion('Wireshark 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u3)'), '4.0.17');
  assert.equal(parseVersion('TShark (Wireshark) 3.6.2 (Git v3.6.2)'), '3.6.2');
  assert.equal(parseVersion('nothing'), undefined);
  assert.ok(versionOk('3.4.0'));
  assert.ok(versionOk('4.0.17'));
  assert.ok(!versionOk('3.2.9'));
});

test('candidate paths per OS: PATH first, then usual places', () => {
  const linux = candidatePaths('linux', { PATH: '/opt/ws/bin:/usr/bin' });
  assert.equal(linux[0], '/opt/ws/bin/wireshark');
  assert.ok(linux.includes('/usr/bin/wireshark'));
  assert.ok(candidatePaths('darwin', { PATH: '' }).includes('/Applications/Wireshark.app/Contents/MacOS/Wireshark'));
  assert.ok(
    candidatePaths('win32', { Path: 'C:\\x', ProgramFiles: 'C:\\Program Files' }).some((p) =>
      p.endsWith('Wireshark.exe'),
    ),
  );
});
