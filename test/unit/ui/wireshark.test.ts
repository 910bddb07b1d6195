import assert from 'node:assert/strict';
import { test } from 'node:test';
import { candidatePaths, findWireshark, isAbsoluteFor, parseVersion, versionOk } from '../../../src/ui/wireshark.js';

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

test('relative PATH entries are never searched (a cloned repository could plant wireshark there)', async () => {
  const linux = candidatePaths('linux', { PATH: '.:bin::/usr/bin:./tools:~/x' });
  assert.deepEqual(
    linux.filter((p) => !p.startsWith('/usr/') && !p.startsWith('/snap/') && !p.startsWith('/var/')),
    [],
  );
  const win = candidatePaths('win32', {
    Path: '.;tools;C:relative;\\rooted;"C:\\Program Files\\WS";\\\\srv\\share\\ws',
  });
  assert.ok(win.includes('C:\\Program Files\\WS\\Wireshark.exe'), win.join(' | '));
  assert.ok(win.includes('\\\\srv\\share\\ws\\Wireshark.exe'), win.join(' | '));
  assert.ok(!win.some((p) => /^(\.|tools|C:relative|\\rooted)/.test(p)), win.join(' | '));
  assert.ok(isAbsoluteFor('win32', 'D:/x') && !isAbsoluteFor('win32', 'D:x') && !isAbsoluteFor('linux', 'x/y'));
  const r = await findWireshark('bin/wireshark', 'linux', {});
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.reason, /relative; give an absolute path/);
});
