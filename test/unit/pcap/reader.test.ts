// Malformed pcapng blocks are format errors naming the file, never a RangeError from a read
// past the end of a buffer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CaptureFormatError, readCapture } from '../../../src/pcap/reader.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pcap-reader-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** An SHB whose total length is `total` (≥ 12), body filled with the byte-order magic first. */
function shortShb(total: number): Buffer {
  const b = Buffer.alloc(total);
  b.writeUInt32LE(0x0a0d0d0a, 0);
  b.writeUInt32LE(total, 4);
  if (total >= 16) b.writeUInt32LE(0x1a2b3c4d, 8);
  b.writeUInt32LE(total, total - 4);
  return b;
}

test('a section header block shorter than its fixed fields is a CaptureFormatError', async () => {
  for (const total of [16, 20, 24]) {
    const file = path.join(dir, `short-shb-${total}.pcapng`);
    writeFileSync(file, shortShb(total));
    await assert.rejects(
      (async () => {
        for await (const _ of readCapture(file)) void _;
      })(),
      (err: unknown) => {
        assert.ok(err instanceof CaptureFormatError, `total ${total}: ${String(err)}`);
        assert.match(err.message, /short section header block/);
        return true;
      },
    );
  }
});
