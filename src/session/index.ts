// Running captures: start, follow, cancel, rediscover, delete. Plain Node (no vscode).
export {
  startCapture,
  createCaptureObjects,
  snapshotFor,
  boundedAll,
  CaptureStartError,
  type StartOptions,
  type CreatedObjects,
} from './start.js';
export { attach, listCaptures, deleteCapture, groupCaptures, type CaptureListing } from './rediscover.js';
export { preflight, neededPermissions, podSecurityProblem, type PreflightResult } from './preflight.js';
export { deriveNodeState, nodeOfJob, type CaptureEvent, type NodePhase, type NodeState } from './events.js';
export type { CaptureRun, CaptureSummary } from './run.js';
