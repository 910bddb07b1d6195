// When RETINA_CAPTURE_TEST_EVENTS names a file, ui events are appended to it as JSON lines.
// The e2e tests assert on this file instead of on pixels or DOM text, which move between
// VS Code releases. Without the variable this is a no-op.
import { appendFileSync } from 'node:fs';
import { redact } from '../contract/index.js';
import { TEST_EVENTS_ENV } from '../views/ids.js';

export type TestEventSink = (event: string, data?: Record<string, unknown>) => void;

export function createTestEvents(env: NodeJS.ProcessEnv = process.env): TestEventSink {
  const file = env[TEST_EVENTS_ENV];
  if (!file) return () => {};
  return (event, data) => {
    try {
      appendFileSync(file, redact(JSON.stringify({ t: Date.now(), event, ...data })) + '\n');
    } catch {
      // A test-only aid must never break the extension.
    }
  };
}
