// Why a capture did not start (own file: the Jobs and the Capture-resource paths both throw it).
import type { PreflightResult } from './preflight.js';

/** The capture could not start; nothing is left in the cluster (see `leftovers` otherwise). */
export class CaptureStartError extends Error {
  constructor(
    message: string,
    readonly stage: 'validate' | 'plan' | 'preflight' | 'create',
    readonly problems: string[] = [],
    readonly leftovers: string[] = [],
    readonly preflight?: PreflightResult,
  ) {
    super(message);
    this.name = 'CaptureStartError';
  }
}
