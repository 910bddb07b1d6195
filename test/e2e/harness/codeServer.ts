// A real VS Code (code-server, Node 24) with the built .vsix installed, driven by Debian's
// chromium through playwright-core. Everything lives in a scratch folder under .cache/e2e;
// code-server and the browser are killed by process group on teardown.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const ARTIFACTS = path.join(ROOT, 'test/e2e/artifacts');
const CACHE = path.join(ROOT, '.cache/e2e');

export interface Setup {
  node24: string;
  codeServerEntry: string;
  chromium: string;
}

/** Runs setup.sh (idempotent; a few seconds when everything is there). */
export function ensureSetup(): Setup {
  const r = spawnSync('bash', [path.join(ROOT, 'test/e2e/harness/setup.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0)
    throw new Error(
      `test/e2e/harness/setup.sh failed (exit ${r.status ?? r.signal}): the FAILED lines above name the step, its log and the fix`,
    );
  const kv = Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]),
  );
  return { node24: kv.NODE24!, codeServerEntry: kv.CODE_SERVER_ENTRY!, chromium: kv.CHROMIUM! };
}

/** Builds the .vsix unless RETINA_E2E_VSIX names one. */
export function ensureVsix(): string {
  const given = process.env.RETINA_E2E_VSIX;
  if (given) return given;
  const r = spawnSync('npm', ['run', 'package'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run package failed');
  return path.join(ROOT, '.cache/retina-capture.vsix');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function killGroup(child: ChildProcess | undefined): void {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

export interface Session {
  url: string;
  page: Page;
  browser: BrowserContext;
  eventsFile: string;
  dir: string;
  userDataDir: string;
  /** Parsed lines of the extension's test event log. */
  events(): { event: string; [k: string]: unknown }[];
  waitForEvent(
    name: string,
    timeoutMs: number,
    match?: (e: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>>;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export interface StartOptions {
  kubeconfig: string;
  vsix: string;
  setup: Setup;
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Other extensions' .vsix files, installed in this order before ours (dependencies first). */
  extraVsix?: string[];
}

export interface LaunchOptions extends StartOptions {
  /** Scratch folder for HOME, XDG dirs, TMPDIR, user data, extensions, workspace (default: a new one under .cache/e2e/runs). */
  dir?: string;
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number;
  /** Where code-server's stdout/stderr go: kept in memory (default) or appended to this file. */
  logFile?: string;
}

/** A running code-server (no browser): its own process group, killed by `kill()`. */
export interface CodeServer {
  /** Workbench URL with the workspace folder. */
  url: string;
  port: number;
  pid: number;
  process: ChildProcess;
  dir: string;
  home: string;
  userDataDir: string;
  workspace: string;
  eventsFile: string;
  /** The environment code-server runs with (scratch HOME etc.). */
  env: NodeJS.ProcessEnv;
  /** Last output of code-server (when not sent to a log file). */
  log(): string;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when the leader exited. */
  kill(graceMs?: number): Promise<void>;
}

/**
 * Installs the .vsix into a scratch profile and starts code-server on 127.0.0.1, resolved once
 * `/healthz` answers (not readiness of the workbench: a browser must load it for that).
 */
export async function launchCodeServer(o: LaunchOptions): Promise<CodeServer> {
  const dir = o.dir ?? path.join(CACHE, 'runs', `${Date.now()}-${process.pid}`);
  const home = path.join(dir, 'home');
  const userDataDir = path.join(dir, 'user-data');
  const extDir = path.join(dir, 'extensions');
  const workspace = path.join(dir, 'workspace');
  const tmp = path.join(dir, 'tmp');
  for (const d of [home, userDataDir, extDir, workspace, tmp, path.join(userDataDir, 'User')])
    mkdirSync(d, { recursive: true });
  const eventsFile = path.join(dir, 'events.jsonl');
  writeFileSync(eventsFile, '');
  writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'security.workspace.trust.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'workbench.enableExperiments': false,
        ...o.settings,
      },
      null,
      2,
    ),
  );
  // The test cluster's CA signs HTTPS endpoints on its bridge (blob output through Azurite):
  // the extension host trusts it when nothing else was chosen.
  const clusterCa = path.join(path.dirname(o.kubeconfig), 'pki', 'ca.crt');
  // Scratch HOME/XDG/TMPDIR before *any* code-server call, or it writes into the real ones.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(process.env.NODE_EXTRA_CA_CERTS || !existsSync(clusterCa) ? {} : { NODE_EXTRA_CA_CERTS: clusterCa }),
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    TMPDIR: tmp,
    KUBECONFIG: o.kubeconfig,
    RETINA_CAPTURE_TEST_EVENTS: eventsFile,
    PATH: `${path.dirname(o.setup.node24)}:${process.env.PATH ?? ''}`,
    ...o.env,
  };
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extDir];
  for (const vsix of [...(o.extraVsix ?? []), o.vsix]) {
    const inst = spawnSync(
      o.setup.node24,
      [o.setup.codeServerEntry, ...common, '--install-extension', vsix, '--force'],
      { env, encoding: 'utf8' },
    );
    if (inst.status !== 0) throw new Error(`installing ${vsix} failed: ${inst.stdout}\n${inst.stderr}`);
  }

  const port = o.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
  const out = o.logFile ? openSync(o.logFile, 'a') : 'pipe';
  const server = spawn(
    o.setup.node24,
    [
      o.setup.codeServerEntry,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      ...common,
      workspace,
    ],
    { env, detached: true, stdio: ['ignore', out, out] },
  );
  if (typeof out === 'number') closeSync(out);
  let serverLog = '';
  server.stdout?.on('data', (b: Buffer) => (serverLog = (serverLog + b.toString()).slice(-20_000)));
  server.stderr?.on('data', (b: Buffer) => (serverLog = (serverLog + b.toString()).slice(-20_000)));
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  const kill = async (graceMs = 5000): Promise<void> => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    killGroup(server);
    const t = setTimeout(() => {
      if (server.pid)
        try {
          process.kill(-server.pid, 'SIGKILL');
        } catch {
          // gone
        }
    }, graceMs);
    await exited;
    clearTimeout(t);
  };
  const logText = (): string => (o.logFile && existsSync(o.logFile) ? readFileSync(o.logFile, 'utf8') : serverLog);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || server.exitCode !== null) {
      await kill(1000);
      throw new Error(`code-server did not come up:\n${logText().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    pid: server.pid as number,
    process: server,
    dir,
    home,
    userDataDir,
    workspace,
    eventsFile,
    env,
    log: logText,
    kill,
  };
}

export async function startSession(o: StartOptions): Promise<Session> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const cs = await launchCodeServer(o);
  const { url, dir, userDataDir, eventsFile, env, home } = cs;

  let browser: BrowserContext | undefined;
  let page: Page;
  try {
    browser = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
      executablePath: o.setup.chromium,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      env: { ...env, HOME: home },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('console', (m) => {
      if (process.env.RETINA_E2E_VERBOSE) console.log(`[page] ${m.text()}`);
    });
    await page.goto(url);
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
  } catch (e) {
    await browser?.close().catch(() => undefined);
    await cs.kill(500);
    throw e;
  }
  const ctx = browser;

  const readEvents = (): { event: string; [k: string]: unknown }[] =>
    existsSync(eventsFile)
      ? readFileSync(eventsFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { event: string })
      : [];

  return {
    url,
    page,
    browser: ctx,
    eventsFile,
    dir,
    userDataDir,
    events: readEvents,
    async waitForEvent(name, timeoutMs, match) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = readEvents().find((e) => e.event === name && (!match || match(e)));
        if (hit) return hit;
        if (Date.now() > end)
          throw new Error(
            `no "${name}" event within ${timeoutMs} ms; events: ${JSON.stringify(readEvents()).slice(0, 2000)}`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async screenshot(name) {
      const file = path.join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    async close() {
      await ctx.close().catch(() => undefined);
      await cs.kill(500);
    },
  };
}
