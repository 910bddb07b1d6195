// Names that come from the cluster or from storage (blob names, node names, file names inside
// archives, context names) become path components on the user's disk. One set of rules for
// every platform: a name that is safe on Linux but means something else on Windows or macOS
// (a backslash, a drive colon, a trailing dot, a device name) is refused everywhere.

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Bidi embeddings/overrides/isolates and marks: they make a listed name read differently.
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const WIN_RESERVED = /[<>:"|?*]/;
const WIN_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;
/** NAME_MAX on Linux and macOS, in bytes. */
export const MAX_COMPONENT_BYTES = 255;

/** Control, C1, DEL or bidi characters: names that print as something they are not. */
export function unprintableProblem(name: string): string | undefined {
  if (CONTROL.test(name)) return 'contains control characters';
  if (BIDI.test(name)) return 'contains bidirectional-text override characters';
  return undefined;
}

/** Rules Windows adds on top of POSIX for one component (applied on every platform). */
export function windowsNameProblem(name: string): string | undefined {
  if (WIN_RESERVED.test(name)) return 'contains a character Windows does not allow in file names (<>:"|?*)';
  if (/[. ]$/.test(name)) return 'ends with a dot or a space (Windows drops it)';
  if (WIN_DEVICE.test(name)) return 'is a Windows device name';
  return undefined;
}

/**
 * Why `name` is not a single safe path component, or undefined when it is. Safe means: not
 * empty, not `.`/`..`, no separator of any platform, nothing unprintable, valid on Windows,
 * and at most 255 UTF-8 bytes.
 */
export function pathComponentProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name === '.' || name === '..') return 'is a relative path step';
  if (name.includes('/') || name.includes('\\')) return 'contains a path separator';
  const unprintable = unprintableProblem(name);
  if (unprintable) return unprintable;
  const win = windowsNameProblem(name);
  if (win) return win;
  if (Buffer.byteLength(name, 'utf8') > MAX_COMPONENT_BYTES) return `is longer than ${MAX_COMPONENT_BYTES} bytes`;
  return undefined;
}

export function isSafePathComponent(name: string): boolean {
  return pathComponentProblem(name) === undefined;
}

/** Throws an Error naming what the name is (`what`) and the rule it breaks. */
export function assertSafePathComponent(name: string, what: string): string {
  const problem = pathComponentProblem(name);
  if (problem) throw new Error(`${what} ${JSON.stringify(name)} ${problem}; it cannot be used as a file name`);
  return name;
}

/**
 * Maps any text (a kube context name, say) to a safe component: unsafe characters become `_`,
 * and a result that would still be a relative step or a device name gets a `_` prefix.
 */
export function toSafeComponent(text: string): string {
  let out = text.replace(/[^\w.-]/g, '_').slice(0, 200);
  if (out === '' || /^\.+$/.test(out) || !isSafePathComponent(out)) out = `_${out}`.replace(/[. ]$/, '_');
  return out;
}
