// Every external program the worker, the test cluster, the tests and the scripts start must be
// on a fresh machine of this project's kind or come from a package that scripts/bootstrap.sh
// installs (scripts/packages.txt), so a new tool cannot land without its package. The programs
// are found in the sources (spawn/execFile names, the worker's metadata commands, Go's
// exec.Command, `ip netns exec` and `sh -c` commands, the shell scripts), not listed by hand;
// each is then looked up with dpkg on this machine, after bootstrap ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Programs that come from no Debian package, and who provides each. */
const NOT_DEBIAN: Record<string, string> = {
  node: 'the machine image (Node.js 20 toolchain)',
  npm: 'the machine image (Node.js 20 toolchain)',
  npx: 'the machine image (Node.js 20 toolchain)',
  tsx: 'npm devDependency',
  go: 'the machine image (Go toolchain)',
  kubectl: 'built with the control plane (test/cluster/lib/build.ts)',
};

/** Debian packages a fresh machine of this kind (polyglot) has before bootstrap runs. */
const IMAGE_PACKAGES = new Set(
  readFileSync(path.join(root, 'scripts/machine-packages.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#')),
);

function bootstrapPackages(): Map<string, { set: string; programs: string[] }> {
  const m = new Map<string, { set: string; programs: string[] }>();
  for (const line of readFileSync(path.join(root, 'scripts/packages.txt'), 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [pkg, set, ...programs] = line.trim().split(/\s+/);
    m.set(pkg!, { set: set!, programs: programs.filter((p) => p !== '-') });
  }
  return m;
}

function files(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (['node_modules', 'tmp', 'artifacts', 'results', 'corpus', 'fixtures', 'golden'].includes(name)) continue;
    if (statSync(p).isDirectory()) out.push(...files(p, ext));
    else if (ext.test(name)) out.push(p);
  }
  return out;
}

const SHELL_WORDS = new Set(
  (
    'if then else elif fi for in do done while until case esac function return exit set unset export local ' +
    'readonly shift trap wait kill echo printf read cd pwd true false test [ [[ eval exec source . : type ' +
    'command compgen declare mapfile shopt break continue let builtin getopts umask ulimit hash times'
  ).split(' '),
);

/** Command words of a shell text: the first word of each simple command. */
function shellCommands(text: string, own: Set<string>): string[] {
  const out: string[] = [];
  const body = text
    .replace(/\\\n/g, ' ') // continued lines
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, ''))
    .join('\n')
    .replace(/<<'?(\w+)'?\n[\s\S]*?\n\1\n/g, '\n') // here-documents are data
    .replace(/'[^'\n]*'/g, "''") // quoted text is data
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '""')
    .replace(/\$\(\([^)]*\)\)/g, '0') // arithmetic
    .replace(/\b\w+=\([^)]*\)/g, ''); // array assignments
  for (const seg of body.split(/\n|;|&&|\|\||\||\$\(|`|\(|\{|\bthen\b|\bdo\b|\belse\b/)) {
    const words = seg.trim().split(/\s+/);
    let i = 0;
    // Assignments, redirections and `!` before the command; `command -v X` tests, not runs.
    while (i < words.length && /^(\w+=|!|\d*[<>]|-)/.test(words[i]!)) i++;
    const w = words[i];
    if (!w || !/^[A-Za-z][\w.+-]*$/.test(w) || SHELL_WORDS.has(w) || own.has(w)) continue;
    out.push(w);
  }
  return out;
}

interface Found {
  program: string;
  where: string;
}

function findPrograms(): Found[] {
  const found: Found[] = [];
  const add = (program: string, file: string): void => {
    found.push({ program: path.basename(program), where: path.relative(root, file) });
  };
  const ts = [...files(path.join(root, 'worker'), /\.ts$/), ...files(path.join(root, 'test'), /\.ts$/)].filter(
    (f) => !f.endsWith('programs.test.ts'),
  );
  for (const f of ts) {
    const s = readFileSync(f, 'utf8');
    for (const m of s.matchAll(/\b(?:spawn|spawnSync|execFile|execFileSync)\(\s*'([^'$]+)'/g)) add(m[1]!, f);
    for (const m of s.matchAll(/\bbin:\s*'([^']+)'/g)) add(m[1]!, f);
    for (const m of s.matchAll(/'netns',\s*'exec',\s*[^,\]]+,\s*'([^']+)'/g)) add(m[1]!, f);
    for (const m of s.matchAll(/'sh',\s*\[?\s*'-c',\s*(['`])((?:(?!\1).)*)\1/g))
      for (const c of shellCommands(m[2]!.replace(/\$\{[^}]*\}/g, 'x'), new Set())) add(c, f);
    for (const m of s.matchAll(/command:\s*\[\s*'([^']+)'/g)) add(m[1]!, f);
  }
  for (const f of files(path.join(root, 'test/cluster'), /\.go$/)) {
    const s = readFileSync(f, 'utf8');
    for (const m of s.matchAll(/exec\.Command(?:Context)?\((?:ctx,\s*)?"([^"]+)"/g)) add(m[1]!, f);
  }
  const scripts = [
    ...files(path.join(root, 'scripts'), /\.sh$/),
    ...files(path.join(root, 'worker'), /\.sh$/),
    ...files(path.join(root, 'test'), /\.sh$/),
    path.join(root, '.ci/run'),
  ];
  // Functions of any script count as the scripts' own (scripts/lib/*.sh are sourced).
  const texts = scripts.map((f) => [f, readFileSync(f, 'utf8')] as const);
  const own = new Set(texts.flatMap(([, s]) => [...s.matchAll(/^\s*([\w-]+)\(\)\s*[{(]/gm)].map((m) => m[1]!)));
  for (const [f, s] of texts) for (const c of shellCommands(s, own)) add(c, f);
  return found;
}

/** The Debian package that has this program on this machine (first on PATH that dpkg knows), or why none. */
function debianPackageOf(program: string): { pkg?: string; why?: string } {
  const hits = spawnSync('sh', ['-c', 'which -a "$1"', 'sh', program], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.startsWith('/'));
  if (hits.length === 0) return { why: 'not on PATH' };
  for (const hit of hits) {
    const real = spawnSync('readlink', ['-f', hit], { encoding: 'utf8' }).stdout.trim();
    // Merged /usr: dpkg may know a file under /bin or /sbin that PATH finds under /usr.
    const names = [hit, real].flatMap((p) => [p, p.replace(/^\/usr\//, '/'), path.join('/usr', p)]);
    for (const p of new Set(names)) {
      const r = spawnSync('dpkg-query', ['-S', p], { encoding: 'utf8' });
      const owner = r.stdout.split('\n').find((l) => l && !l.startsWith('diversion by'));
      if (r.status === 0 && owner) return { pkg: owner.split(':')[0]!.trim() };
    }
  }
  return { why: `${hits.join(', ')} belong(s) to no Debian package` };
}

const found = findPrograms();
const packages = bootstrapPackages();
const declared = new Map<string, string>();
for (const [pkg, { programs }] of packages) for (const p of programs) declared.set(p, pkg);

test('the scan finds the programs it is meant to find', () => {
  const names = new Set(found.map((f) => f.program));
  // One from each kind of place: spawn in tests, worker metadata, Go, netns exec, sh -c, a script.
  for (const p of ['tshark', 'conntrack', 'nsenter', 'tcpdump', 'ip', 'flock', 'kubectl', 'unzip', 'xwd', 'convert'])
    assert.ok(names.has(p), `${p} not found by the scan`);
});

test('every program started is on a fresh machine or installed by scripts/bootstrap.sh', () => {
  const problems: string[] = [];
  const byProgram = new Map<string, string[]>();
  for (const f of found) byProgram.set(f.program, [...(byProgram.get(f.program) ?? []), f.where]);
  for (const [program, where] of [...byProgram].sort()) {
    // Declared ones are installed by bootstrap; the next test checks the declaration is true.
    if (program in NOT_DEBIAN || declared.has(program)) continue;
    const { pkg, why } = debianPackageOf(program);
    const at = `${program} (${[...new Set(where)].slice(0, 3).join(', ')})`;
    if (!pkg) problems.push(`${at}: ${why}; add the Debian package that has it to scripts/packages.txt`);
    else if (packages.has(pkg)) problems.push(`${at}: from ${pkg}; list it under ${pkg} in scripts/packages.txt`);
    else if (!IMAGE_PACKAGES.has(pkg))
      problems.push(`${at}: from ${pkg}, which a fresh machine lacks; add ${pkg} to scripts/packages.txt`);
  }
  assert.deepEqual(problems, []);
});

test('scripts/packages.txt says truly which package has each program', () => {
  const wrong: string[] = [];
  for (const [program, pkg] of declared) {
    const got = debianPackageOf(program);
    if (got.pkg && got.pkg !== pkg) wrong.push(`${program} is in ${got.pkg}, not ${pkg}`);
    // Base programs are installed when unit tests run (npm test bootstraps first).
    if (!got.pkg && packages.get(pkg)?.set === 'base') wrong.push(`${program}: ${got.why}`);
  }
  assert.deepEqual(wrong, []);
});
