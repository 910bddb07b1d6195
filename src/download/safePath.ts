// Joins a name from the cluster or from storage onto a local folder, refusing anything that
// would not be one new entry directly inside that folder. `p` is a parameter so tests check
// Windows rules (path.win32) on any machine.
import path from 'node:path';
import { assertSafePathComponent } from '../contract/index.js';

export function childPath(parent: string, name: string, what: string, p: path.PlatformPath = path): string {
  assertSafePathComponent(name, what);
  const full = p.join(parent, name);
  const rel = p.relative(p.resolve(parent), p.resolve(full));
  // Belt and braces: the component rules already rule this out.
  if (rel === '' || rel === '..' || rel.startsWith(`..${p.sep}`) || p.isAbsolute(rel) || rel.includes(p.sep)) {
    throw new Error(`${what} ${JSON.stringify(name)} would be written outside ${parent}`);
  }
  return full;
}
