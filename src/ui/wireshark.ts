// The one door to Wireshark: find it (setting, PATH, usual install places per OS), check the
// version (≥ 3.4 reads our pcapng comments and per-interface metadata), launch it detached
// without a shell. Does not import vscode: the path setting is passed in.
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export const WIRESHARK_DOWNLOAD_URL = 'https://www.wireshark.org/download.html';
export const MIN_VERSION: [number, number] = [3, 4];

export interface WiresharkInfo {
  path: string;
  version: string;
}

/**
 * Whether a PATH entry or setting is an absolute path on `platform`. Relative entries (`.`,
 * `bin`, an empty entry, `C:tools`) resolve against the current folder, which may be a cloned
 * repository's: a planted `wireshark` there must never run.
 */
export function isAbsoluteFor(platform: NodeJS.Platform, p: string): boolean {
  if (platform !== 'win32') return path.posix.isAbsolute(p);
  // A drive and a separator, or a UNC share; `\x` alone is relative to the current drive.
  return /^[A-Za-z]:[\\/]/.test(p) || /^[\\/]{2}[^\\/]/.test(p);
}

export function candidatePaths(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] {
  const exe = platform === 'win32' ? 'Wireshark.exe' : 'wireshark';
  const join = platform === 'win32' ? path.win32.join : path.posix.join;
  const onPath = (env.PATH ?? env.Path ?? '')
    .split(platform === 'win32' ? ';' : ':')
    .map((d) => (platform === 'win32' ? d.replace(/^"(.*)"$/, '$1') : d))
    .filter((d) => d !== '' && isAbsoluteFor(platform, d))
    .map((d) => join(d, exe));
  const usual =
    platform === 'win32'
      ? [
          path.join(env.ProgramFiles ?? 'C:\\Program Files', 'Wireshark', exe),
          path.join(env['ProgramFiles(x86)'] ?? 'C:\\Program Files (x86)', 'Wireshark', exe),
        ]
      : platform === 'darwin'
        ? [
            '/Applications/Wireshark.app/Contents/MacOS/Wireshark',
            '/opt/homebrew/bin/wireshark',
            '/usr/local/bin/wireshark',
          ]
        : [
            '/usr/bin/wireshark',
            '/usr/local/bin/wireshark',
            '/snap/bin/wireshark',
            '/var/lib/flatpak/exports/bin/org.wireshark.Wireshark',
          ];
  return [...new Set([...onPath, ...usual])];
}

/** `Wireshark 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u3)` → `4.0.17`. */
export function parseVersion(text: string): string | undefined {
  return /\b(?:Wireshark|TShark)\D*?(\d+\.\d+(?:\.\d+)?)/i.exec(text)?.[1];
}

export function versionOk(v: string): boolean {
  const [maj = 0, min = 0] = v.split('.').map(Number);
  return maj > MIN_VERSION[0] || (maj === MIN_VERSION[0] && min >= MIN_VERSION[1]);
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function versionOf(exe: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    // --version prints and exits without opening a window (no display needed).
    execFile(
      exe,
      ['--version'],
      { timeout: 15_000, env: { ...process.env, QT_QPA_PLATFORM: 'offscreen' } },
      (_err, stdout, stderr) => resolve(parseVersion(`${stdout}\n${stderr}`)),
    );
  });
}

export type FindResult = { ok: true; info: WiresharkInfo } | { ok: false; reason: string };

export async function findWireshark(
  settingPath: string | undefined,
  platform = process.platform,
  env = process.env,
): Promise<FindResult> {
  if (settingPath && !isAbsoluteFor(platform, settingPath)) {
    return {
      ok: false,
      reason: `the Wireshark path "${settingPath}" is relative; give an absolute path (setting retinaCapture.wiresharkPath)`,
    };
  }
  const list = settingPath ? [settingPath] : candidatePaths(platform, env);
  for (const p of list) {
    if (!executable(p)) continue;
    const version = await versionOf(p);
    if (!version) return { ok: false, reason: `${p} did not report a Wireshark version` };
    if (!versionOk(version))
      return { ok: false, reason: `Wireshark ${version} at ${p} is too old; 3.4 or newer is needed` };
    return { ok: true, info: { path: p, version } };
  }
  return {
    ok: false,
    reason: settingPath
      ? `Wireshark was not found at ${settingPath} (setting retinaCapture.wiresharkPath)`
      : 'Wireshark was not found on PATH or in the usual install places',
  };
}

/** Starts Wireshark on the files, detached, no shell; resolves once the process started. */
export function launchWireshark(
  info: WiresharkInfo,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(info.path, ['-r', file], { detached: true, stdio: 'ignore', shell: false, env });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve(child.pid ?? -1);
    });
  });
}
