// `npm run bench`: every `bench:<name>` script in package.json, one after another (they measure
// CPU and memory, so they must not overlap).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
// bench:engine runs bench:unpack as one of its steps (the issue wants those figures in engine.json).
const covered = new Set(['bench:unpack']);
const names = Object.keys(pkg.scripts).filter((s) => s.startsWith('bench:') && !covered.has(s));
let failed = 0;
for (const name of names) {
  console.log(`\n=== npm run ${name}`);
  const r = spawnSync('npm', ['run', name], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
