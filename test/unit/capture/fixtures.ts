// Shared inputs: a cluster snapshot (fixtures/cluster.json) and a valid base request.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterSnapshot } from '../../../src/capture/plan.js';
import { withDefaultOptions, type CaptureRequest } from '../../../src/capture/request.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export function snapshot(): ClusterSnapshot {
  return JSON.parse(readFileSync(path.join(here, 'fixtures', 'cluster.json'), 'utf8')) as ClusterSnapshot;
}

/** 2026-11-26 05:07:09 UTC: every golden uses this clock. */
export const NOW = new Date(Date.UTC(2026, 10, 26, 5, 7, 9));

/** A fake SAS that checkSasUrl accepts at NOW (the signature is not verified offline). */
export const FAKE_SAS =
  'https://acct.blob.core.windows.net/captures?sv=2025-01-05&spr=https&st=2026-11-26T05%3A00%3A00Z&se=2026-11-26T08%3A00%3A00Z&sr=c&sp=cw&sig=FAKESIGNATURE0123';

export function baseRequest(overrides: Partial<CaptureRequest> = {}): CaptureRequest {
  return {
    name: 'cap-1',
    namespace: 'default',
    targets: [{ kind: 'node', name: 'node-a' }],
    options: withDefaultOptions({ durationSeconds: 90 }),
    outputs: { hostPath: { subPath: 'retina' } },
    workerImage: 'ghcr.io/example/retina-capture-worker:0.1.0',
    mode: 'node',
    ...overrides,
  };
}
