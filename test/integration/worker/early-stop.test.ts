// A stop (SIGTERM) that reaches the worker's container while Node is still starting: through
// worker/rcap-init.sh (the image's entrypoint) the worker still stops cleanly, archives and
// reports; started bare, the same signal kills Node (the control case, which shows the window
// the wrapper closes is real).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createNetns, type NetnsPair } from '../../support/netns.js';
import { readResult, runWorker, workerEnv } from '../../support/worker.js';

describe('stop during the worker start-up', { timeout: 120_000 }, () => {
  let net: NetnsPair;
  const dirs: string[] = [];
  before(() => {
    net = createNetns(false);
  });
  after(() => {
    net?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const start = (init: boolean): { w: ReturnType<typeof runWorker>; hostDir: string; term: string } => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'rcx-early-'));
    dirs.push(d);
    const hostDir = path.join(d, 'host');
    const term = path.join(d, 'term.json');
    const env = workerEnv(hostDir, term, {
      CAPTURE_DURATION: '60s',
      CAPTURE_INTERFACES: net.nodeIf,
      RCAP_READY_FILE: path.join(d, 'ready'),
    });
    return { w: runWorker(net.node, env, { init }), hostDir, term };
  };

  // 10 ms: Node is still starting (it needs ≥ 40 ms here); the wrapper shell already runs (its own
  // ~1 ms start is the window left).
  for (const delayMs of [10, 40]) {
    test(`through rcap-init.sh: SIGTERM ${delayMs} ms after start still ends with an archive and a result`, async () => {
      const { w, hostDir, term } = start(true);
      try {
        await new Promise<void>((resolve) => w.child.once('spawn', () => resolve()));
        // The delay is the scenario (a signal early in start-up), not a synchronisation.
        await new Promise((r) => setTimeout(r, delayMs));
        w.kill('SIGTERM');
        const { code, signal } = await w.exited;
        assert.equal(signal, null, w.stderr());
        assert.equal(code, 0, w.stderr());
      } finally {
        w.kill('SIGKILL');
      }
      const r = readResult(term);
      assert.equal(r.status, 'ok');
      assert.equal(r.stopReason, 'signal');
      assert.ok(r.archive?.name && existsSync(path.join(hostDir, r.archive.name)), 'archive written');
    });
  }

  test('control: started bare, the same early SIGTERM kills Node before any handler exists', async () => {
    const { w, term } = start(false);
    try {
      await new Promise<void>((resolve) => w.child.once('spawn', () => resolve()));
      await new Promise((r) => setTimeout(r, 10));
      w.kill('SIGTERM');
      const { code, signal } = await w.exited;
      assert.ok(signal === 'SIGTERM' || code === 143, `expected death by SIGTERM, got code ${code} signal ${signal}`);
    } finally {
      w.kill('SIGKILL');
    }
    assert.ok(!existsSync(term), 'no result was written');
  });
});
