// What the capture commands need from the engine (src/engine.ts). Until the engine is wired
// in, `unavailableEngine` answers every call with a clear message; the adapter replaces it.
import type { CaptureInfo } from '../views/ports.js';
import type { UiTarget } from '../views/targets.js';

export interface UiCaptureRequest {
  context: string;
  namespace: string;
  targets: UiTarget[];
  durationSeconds: number;
  maxSizeMB: number;
  snapLength: number;
  filter: string;
  outputs: { hostPath?: { subPath: string }; blob?: { sasUrl: string } };
  workerImage: string;
  mode: 'node' | 'pod';
  maxConcurrentJobs: number;
  /** `captureResource`: a retina.sh Capture for Retina's operator (offered only when its CRD is served). */
  via?: 'jobs' | 'captureResource';
}

export type UiProgress =
  | { type: 'planned'; capture?: string; nodes: string[]; warnings: string[] }
  /** phase: the session's NodePhase (pending, scheduled, waiting, capturing, finishing, done, failed). */
  | { type: 'node'; node: string; phase: string; endsAt?: number; reason?: string; message?: string }
  | { type: 'finished'; cancelled: boolean }
  | { type: 'blocked'; reason: 'forbidden' | 'podSecurity' | 'other'; message: string }
  | { type: 'done'; capture: CaptureInfo };

export interface DownloadResult {
  folder: string;
  mergedFile?: string;
  files: string[];
  warnings: string[];
}

export interface CaptureEngine {
  readonly available: boolean;
  /** Whether the context serves Retina's Capture CRD (false when unknown). */
  servesCaptureCrd?(context: string): Promise<boolean>;
  start(req: UiCaptureRequest, signal: AbortSignal, onProgress: (p: UiProgress) => void): Promise<CaptureInfo>;
  stop(c: CaptureInfo): Promise<void>;
  delete(c: CaptureInfo): Promise<void>;
  download(
    c: CaptureInfo,
    folder: string,
    signal: AbortSignal,
    onProgress: (text: string) => void,
  ): Promise<DownloadResult>;
}

const NOT_YET =
  'The capture engine is not part of this build yet: the tree and settings work, starting captures does not.';

export const unavailableEngine: CaptureEngine = {
  available: false,
  start: () => Promise.reject(new Error(NOT_YET)),
  stop: () => Promise.reject(new Error(NOT_YET)),
  delete: () => Promise.reject(new Error(NOT_YET)),
  download: () => Promise.reject(new Error(NOT_YET)),
};
