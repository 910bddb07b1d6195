// Gaps the security review found in redact(), and the rule that every notification passes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { redact } from '../../../src/contract/index.js';

const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.c2lnbmF0dXJlLXBhcnQ_-x';

test('redact: a SAS URL-encoded into another URL loses its signature', () => {
  const encoded = encodeURIComponent('https://a.blob.core.windows.net/c?sv=2024&sp=rl&sig=S3CR3T%2Fsig%3D&se=2026');
  const out = redact(`GET https://proxy.example/fetch?u=${encoded}`);
  assert.ok(!out.includes('S3CR3T'), out);
  assert.match(out, /sig%3DREDACTED%26se%3D2026/);
  assert.ok(!redact('x?sig%3Dplainsecret').includes('plainsecret'));
  assert.ok(!redact('AccountKey%3DKEYKEY%3D%3D%3BEndpoint').includes('KEYKEY'));
});

test('redact: auth schemes in any case, and raw JWTs', () => {
  for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
    assert.ok(!redact(`authorization: ${scheme} abc.def-ghi`).includes('abc.def-ghi'), scheme);
  }
  const out = redact(`request failed for ${JWT} (401)`);
  assert.ok(!out.includes('c2lnbmF0dXJl') && !out.includes('eyJpc3Mi'), out);
  assert.match(out, /request failed for REDACTED-JWT \(401\)/);
  // Plain words starting eyJ and dotted names stay readable.
  assert.equal(redact('node eyJx.local is Ready'), 'node eyJx.local is Ready');
});

test('src/ui shows notifications and progress text only through notify.ts (which redacts)', () => {
  const dir = new URL('../../../src/ui/', import.meta.url);
  const offenders: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.ts') || name === 'notify.ts') continue;
    const text = readFileSync(new URL(name, dir), 'utf8');
    text.split('\n').forEach((line, i) => {
      if (/window\.show(Error|Warning|Information)Message|progress\.report\(/.test(line)) {
        offenders.push(`${path.join('src/ui', name)}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(offenders, []);
});
