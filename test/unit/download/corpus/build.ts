// Builds hostile (and one friendly) tar archives from raw 512-byte headers, so every field is
// under the test's control: nothing binary is committed. Used by unpack.test.ts.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export interface HeaderFields {
  name: string;
  /** Typeflag: '0' file, '1' hardlink, '2' symlink, '3' char dev, '4' block dev, '5' dir, '6' fifo, 'x' pax, 'L' GNU long name. */
  type?: string;
  size?: number;
  /** Raw size field (12 bytes, octal), to lie about the size. */
  sizeField?: string;
  linkname?: string;
  prefix?: string;
  mode?: number;
}

function put(buf: Buffer, off: number, len: number, s: string): void {
  const b = Buffer.from(s, 'utf8');
  if (b.length > len) throw new Error(`field too long: ${s}`);
  b.copy(buf, off);
}

function octal(n: number, len: number): string {
  return n.toString(8).padStart(len - 1, '0') + '\0';
}

export function header(f: HeaderFields): Buffer {
  const h = Buffer.alloc(512);
  put(h, 0, 100, f.name);
  put(h, 100, 8, octal(f.mode ?? (f.type === '5' ? 0o755 : 0o644), 8));
  put(h, 108, 8, octal(0, 8));
  put(h, 116, 8, octal(0, 8));
  put(h, 124, 12, f.sizeField ?? octal(f.size ?? 0, 12));
  put(h, 136, 12, octal(1_700_000_000, 12));
  h.fill(0x20, 148, 156);
  put(h, 156, 1, f.type ?? '0');
  if (f.linkname) put(h, 157, 100, f.linkname);
  put(h, 257, 6, 'ustar\0');
  put(h, 263, 2, '00');
  put(h, 265, 32, 'root');
  put(h, 297, 32, 'root');
  if (f.prefix) put(h, 345, 155, f.prefix);
  let sum = 0;
  for (const b of h) sum += b;
  put(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

function pad(data: Buffer): Buffer {
  const rem = data.length % 512;
  return rem === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rem)]);
}

export function file(name: string, data: Buffer | string, extra: Partial<HeaderFields> = {}): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([header({ name, size: body.length, ...extra }), pad(body)]);
}

export function dir(name: string): Buffer {
  return header({ name: name.endsWith('/') ? name : name + '/', type: '5' });
}

export function special(name: string, type: string, linkname?: string): Buffer {
  return header({ name, type, ...(linkname ? { linkname } : {}) });
}

/** A PAX extended header ('x') applying `records` to the next entry. */
export function pax(records: Record<string, string>): Buffer {
  let body = '';
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    let len = rest.length + 1;
    while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
    body += `${len}${rest}`;
  }
  const b = Buffer.from(body);
  return Buffer.concat([header({ name: 'PaxHeader/x', type: 'x', size: b.length }), pad(b)]);
}

/** A GNU long-name entry ('L') giving the next entry's path. */
export function gnuLongName(name: string): Buffer {
  const b = Buffer.from(name + '\0');
  return Buffer.concat([header({ name: '././@LongLink', type: 'L', size: b.length }), pad(b)]);
}

export function end(): Buffer {
  return Buffer.alloc(1024);
}

export function tarGz(...parts: Buffer[]): Buffer {
  return gzipSync(Buffer.concat([...parts, end()]));
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface CorpusCase {
  name: string;
  archive: Buffer;
  /** The entry name the error must quote. */
  entry: string;
  /** A fragment of the rule text. */
  rule: RegExp;
  limits?: Record<string, number>;
}

/**
 * The hostile corpus. `outside` is an absolute folder outside the unpack target (the test's
 * sandbox parent): absolute-path and link cases point there, so a write would be seen.
 */
export function hostileCorpus(outside: string): CorpusCase[] {
  const longEscape = '../../' + 'd'.repeat(120) + '/long-escape.txt';
  const deep = Array.from({ length: 20 }, (_, i) => `l${i}`).join('/') + '/deep.txt';
  const many: Buffer[] = [];
  for (let i = 0; i < 30; i++) many.push(file(`f${i}.txt`, `x${i}`));
  return [
    {
      name: 'dot-dot path',
      archive: tarGz(file('ok.txt', 'fine'), file('../../escape.txt', 'pwned')),
      entry: '../../escape.txt',
      rule: /path escapes the target folder/,
    },
    {
      name: 'dot-dot inside the path',
      archive: tarGz(file('a/../../../escape2.txt', 'pwned')),
      entry: 'a/../../../escape2.txt',
      rule: /path escapes the target folder/,
    },
    {
      name: 'absolute path',
      archive: tarGz(file(`${outside}/abs.txt`, 'pwned')),
      entry: `${outside}/abs.txt`,
      rule: /absolute path/,
    },
    {
      name: 'symlink pointing outside, then a file through it',
      archive: tarGz(special('link', '2', outside), file('link/through-symlink.txt', 'pwned')),
      entry: 'link',
      rule: /SymbolicLink is not allowed/,
    },
    {
      name: 'hardlink to /etc/passwd',
      archive: tarGz(special('passwd', '1', '/etc/passwd'), file('passwd', 'root::0:0::/:/bin/sh\n')),
      entry: 'passwd',
      rule: /Link is not allowed/,
    },
    {
      name: 'directory, then a symlink replacing it, then a file through it',
      archive: tarGz(dir('d'), special('d', '2', outside), file('d/through-replaced-dir.txt', 'pwned')),
      entry: 'd',
      rule: /SymbolicLink is not allowed/,
    },
    {
      name: 'character device',
      archive: tarGz(special('null', '3')),
      entry: 'null',
      rule: /CharacterDevice is not allowed/,
    },
    {
      name: 'block device',
      archive: tarGz(special('sda', '4')),
      entry: 'sda',
      rule: /BlockDevice is not allowed/,
    },
    {
      name: 'fifo',
      archive: tarGz(special('pipe', '6')),
      entry: 'pipe',
      rule: /FIFO is not allowed/,
    },
    {
      name: 'unknown entry type (sparse)',
      archive: tarGz(special('sparse.bin', 'S')),
      entry: 'sparse.bin',
      rule: /SparseFile is not allowed/,
    },
    {
      name: 'size header smaller than the data (rest read as a header)',
      archive: tarGz(
        Buffer.concat([header({ name: 'liar.txt', size: 10 }), pad(Buffer.alloc(1500, 0x41))]),
        file('after.txt', 'x'),
      ),
      entry: 'liar.txt',
      rule: /malformed archive after this entry/,
    },
    {
      name: 'size header larger than the data (truncated)',
      archive: gzipSync(Buffer.concat([header({ name: 'short.txt', size: 4096 }), pad(Buffer.from('tiny'))])),
      entry: 'short.txt',
      rule: /malformed archive after this entry|size mismatch/,
    },
    {
      name: 'declared size over the entry cap (bomb by header)',
      archive: tarGz(header({ name: 'huge.pcapng', size: 5 * 1024 ** 3 }), Buffer.alloc(512)),
      entry: 'huge.pcapng',
      rule: /exceeds the 4294967296-byte entry limit/,
    },
    {
      name: 'gzip bomb: highly compressible file over the total cap',
      archive: tarGz(
        file('zeros-1.bin', Buffer.alloc(3 * 1024 * 1024)),
        file('zeros-2.bin', Buffer.alloc(3 * 1024 * 1024)),
      ),
      entry: 'zeros-2.bin',
      rule: /exceed the 4194304-byte total limit/,
      limits: { maxTotalBytes: 4 * 1024 * 1024, maxCompressionRatio: 2000 },
    },
    {
      name: 'gzip bomb under the size limits: compression ratio (~1000:1) stops it early',
      archive: tarGz(file('zeros.pcapng', Buffer.alloc(8 * 1024 * 1024))),
      entry: 'zeros.pcapng',
      rule: /compression ratio over 500:1 .*decompression bomb/,
    },
    {
      name: 'PAX name of 5,000 characters',
      archive: tarGz(pax({ path: 'a'.repeat(5000) }), file('x', 'long')),
      entry: `${'a'.repeat(120)}…(5000 characters)`,
      rule: /longer than 255 bytes/,
    },
    {
      name: 'PAX path of many short components (ENAMETOOLONG without a rule)',
      archive: tarGz(pax({ path: Array.from({ length: 15 }, () => 'b'.repeat(250)).join('/') }), file('x', 'long')),
      entry: '',
      rule: /path is longer than 512 bytes|deeper than/,
    },
    {
      name: 'bidi override in a name (spoofed extension)',
      archive: tarGz(file('capture\u202egnpcp.exe', 'spoof')),
      entry: 'capture\u202egnpcp.exe',
      rule: /bidirectional-text override/,
    },
    {
      name: 'bidi isolate in a name',
      archive: tarGz(file('a\u2066b.txt', 'spoof')),
      entry: 'a\u2066b.txt',
      rule: /bidirectional-text override/,
    },
    {
      name: 'C1 control character in a name',
      archive: tarGz(file('a\u009bb.txt', 'c1')),
      entry: 'a\u009bb.txt',
      rule: /control characters/,
    },
    {
      name: 'DEL in a name',
      archive: tarGz(file('a\u007fb.txt', 'del')),
      entry: 'a\u007fb.txt',
      rule: /control characters/,
    },
    {
      name: 'nested gzip layer',
      archive: gzipSync(tarGz(file('inner.txt', 'x'))),
      entry: '',
      rule: /nested compression/,
    },
    {
      name: 'too many entries',
      archive: tarGz(...many),
      entry: 'f20.txt',
      rule: /more than 20 entries/,
      limits: { maxEntries: 20 },
    },
    {
      name: 'deep nesting',
      archive: tarGz(gnuLongName(deep), file('x', 'deep')),
      entry: deep,
      rule: /deeper than 16 levels/,
    },
    {
      name: 'PAX path override with ..',
      archive: tarGz(pax({ path: '../../pax-escape.txt' }), file('innocent.txt', 'pwned')),
      entry: '../../pax-escape.txt',
      rule: /path escapes the target folder/,
    },
    {
      name: 'PAX path override, absolute',
      archive: tarGz(pax({ path: `${outside}/pax-abs.txt` }), file('innocent.txt', 'pwned')),
      entry: `${outside}/pax-abs.txt`,
      rule: /absolute path/,
    },
    {
      name: 'PAX linkpath on a symlink',
      archive: tarGz(pax({ linkpath: outside }), special('plink', '2', 'harmless')),
      entry: 'plink',
      rule: /SymbolicLink is not allowed/,
    },
    {
      name: 'GNU long name with escape',
      archive: tarGz(gnuLongName(longEscape), file('short-name.txt', 'pwned')),
      entry: longEscape,
      rule: /path escapes the target folder/,
    },
    {
      name: 'ustar prefix field with escape',
      archive: tarGz(file('prefixed.txt', 'pwned', { prefix: '../..' })),
      entry: '../../prefixed.txt',
      rule: /path escapes the target folder/,
    },
    {
      name: 'backslash path (a Windows escape)',
      archive: tarGz(file('..\\..\\win-escape.txt', 'pwned')),
      entry: '..\\..\\win-escape.txt',
      rule: /backslash/,
    },
    {
      name: 'duplicate file entry (overwrite)',
      archive: tarGz(file('same.txt', 'one'), file('same.txt', 'two')),
      entry: 'same.txt',
      rule: /duplicate entry/,
    },
    {
      name: 'file, then a directory of the same name',
      archive: tarGz(file('thing', 'one'), dir('thing')),
      entry: 'thing/',
      rule: /replaces a file/,
    },
    {
      name: 'manifest checksum mismatch',
      archive: tarGz(
        file(
          'manifest.json',
          JSON.stringify({ v: 1, files: [{ path: 'cap.pcapng', bytes: 5, sha256: sha256('other') }] }),
        ),
        file('cap.pcapng', 'hello'),
      ),
      entry: 'cap.pcapng',
      rule: /sha256 does not match manifest\.json/,
    },
    {
      name: 'manifest lists a missing file',
      archive: tarGz(
        file(
          'manifest.json',
          JSON.stringify({ v: 1, files: [{ path: 'gone.pcapng', bytes: 1, sha256: sha256('x') }] }),
        ),
      ),
      entry: 'gone.pcapng',
      rule: /missing from the archive/,
    },
    {
      name: 'truncated gzip stream',
      archive: (() => {
        const whole = tarGz(file('first.txt', 'a'.repeat(5000)), file('second.bin', Buffer.alloc(200_000, 3)));
        return whole.subarray(0, whole.length - 40);
      })(),
      entry: '',
      rule: /corrupt or truncated/,
    },
    {
      name: 'corrupt deflate data',
      archive: (() => {
        const whole = Buffer.from(tarGz(file('first.txt', 'x'.repeat(100_000))));
        for (let i = 20; i < 60; i++) whole[i] = whole[i]! ^ 0x5a;
        return whole;
      })(),
      entry: '',
      rule: /corrupt or truncated|malformed/,
    },
    {
      name: 'gzip bomb hidden after the end-of-archive marker',
      archive: gzipSync(Buffer.concat([file('ok.txt', 'x'), end(), Buffer.alloc(20 * 1024 * 1024)])),
      entry: '',
      rule: /bytes after the end of the archive/,
      limits: { maxCompressionRatio: 2000 },
    },
    {
      name: 'not an archive at all',
      archive: gzipSync(Buffer.from('just some text, not tar')),
      entry: '',
      rule: /malformed archive|unrecognised/,
    },
  ];
}

/** A well-formed capture archive like the worker writes. */
export function happyArchive(): { archive: Buffer; files: Record<string, Buffer> } {
  const pcap = Buffer.alloc(70_000);
  for (let i = 0; i < pcap.length; i++) pcap[i] = (i * 31 + 7) & 0xff;
  const files: Record<string, Buffer> = {
    'cap-node-1-20260101000000UTC.pcapng': pcap,
    'cap-node-1-20260101000000UTC-1.pcapng': pcap.subarray(0, 1000),
    'ip-resources.txt': Buffer.from('1: lo: <LOOPBACK,UP>\n'),
    'proc-net/dev': Buffer.from('Inter-|   Receive\n'),
    'proc-sys-net/ipv4/ip_forward': Buffer.from('1\n'),
    'empty.txt': Buffer.alloc(0),
  };
  const manifest = {
    v: 1,
    capture: 'cap',
    node: 'node-1',
    files: Object.entries(files).map(([p, b]) => ({ path: p, bytes: b.length, sha256: sha256(b) })),
  };
  const parts: Buffer[] = [dir('./'), dir('proc-net'), dir('proc-sys-net/ipv4')];
  for (const [p, b] of Object.entries(files)) parts.push(file(p, b));
  parts.push(file('./manifest.json', JSON.stringify(manifest)));
  return { archive: tarGz(...parts), files };
}

/** A capture archive as the worker writes it: the given files plus a manifest.json listing them. */
export function captureArchive(capture: string, node: string, files: Record<string, Buffer>): Buffer {
  const manifest = {
    v: 1,
    capture,
    node,
    format: 'pcapng',
    files: Object.entries(files).map(([p, b]) => ({ path: p, bytes: b.length, sha256: sha256(b) })),
  };
  const parts: Buffer[] = [];
  for (const [p, b] of Object.entries(files)) parts.push(file(p, b));
  parts.push(file('manifest.json', JSON.stringify(manifest)));
  return tarGz(...parts);
}
