// The Kubernetes extension (ms-kubernetes-tools.vscode-kubernetes-tools) and the YAML extension it
// declares as a dependency, for the optional-integration e2e test. Neither is committed nor built
// by this repository: their .vsix files are taken from the tools cache (or the variables below) at
// the pinned versions, and the test skips with this module's message when they are not there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Pinned upstream releases (tag and commit) the e2e test was written against. */
export const KUBE_EXT_PIN = {
  id: 'ms-kubernetes-tools.vscode-kubernetes-tools',
  version: '1.4.1',
  repo: 'github.com/vscode-kubernetes-tools/vscode-kubernetes-tools',
  commit: 'f54aef89a48c64e3df66af4a75cc5dd3d80f4a75',
  env: 'RETINA_E2E_K8S_VSIX',
} as const;
export const YAML_EXT_PIN = {
  id: 'redhat.vscode-yaml',
  version: '1.24.0',
  repo: 'github.com/redhat-developer/vscode-yaml',
  commit: '85e1754a4e71b54f0f49ddddcbdecb50b9abbe6b',
  env: 'RETINA_E2E_YAML_VSIX',
} as const;
type Pin = typeof KUBE_EXT_PIN | typeof YAML_EXT_PIN;

/** Same tools cache as setup.sh (code-server, Node 24). */
export function kubeExtCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const tools =
    env.RETINA_TOOLS_CACHE ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'retina-capture');
  return path.join(tools, 'k8s-ext');
}

export function vsixPath(pin: Pin, env: NodeJS.ProcessEnv = process.env): string {
  return env[pin.env] || path.join(kubeExtCacheDir(env), `${pin.id}-${pin.version}.vsix`);
}

/** publisher.name@version from the manifest inside a .vsix, or an error text. */
function manifestOf(vsix: string): string {
  const r = spawnSync('unzip', ['-p', vsix, 'extension/package.json'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) return `unreadable (${(r.stderr || `unzip exit ${r.status}`).trim()})`;
  try {
    const m = JSON.parse(r.stdout) as { publisher?: string; name?: string; version?: string };
    return `${m.publisher}.${m.name}@${m.version}`;
  } catch (e) {
    return `unreadable (${String(e)})`;
  }
}

export type KubeExtVsix = { ok: true; kube: string; yaml: string } | { ok: false; why: string };

/** Both .vsix files at the pinned versions, or why the test must skip. */
export function findKubeExtVsix(env: NodeJS.ProcessEnv = process.env): KubeExtVsix {
  const found: string[] = [];
  const problems: string[] = [];
  for (const pin of [KUBE_EXT_PIN, YAML_EXT_PIN]) {
    const file = vsixPath(pin, env);
    const want = `${pin.id}@${pin.version}`;
    if (!existsSync(file)) {
      problems.push(`${file} is missing (${want}, built from ${pin.repo} at ${pin.commit}; or set ${pin.env})`);
      continue;
    }
    const got = manifestOf(file);
    if (got !== want) problems.push(`${file} is ${got}, not the pinned ${want}`);
    else found.push(file);
  }
  if (problems.length)
    return {
      ok: false,
      why:
        'SKIPPED, as expected on a new machine and in CI: this e2e needs the .vsix files of two third-party ' +
        'extensions that this repository neither commits nor builds (drop them into the tools cache or set ' +
        `${KUBE_EXT_PIN.env} / ${YAML_EXT_PIN.env} to run it): ${problems.join('; ')}`,
    };
  return { ok: true, kube: found[0]!, yaml: found[1]! };
}
