// `npm run bench`: every `bench:<name>` script in package.json, one after another (they measure
// CPU and memory, so they must not overlap).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
const names = Object.keys(pkg.scripts).filter((s) => s.startsWith('bench:'));
let failed = 0;
for (const name of names) {
  console.log(`\n=== npm run ${name}`);
  const r = spawnSync('npm', ['run', name], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
