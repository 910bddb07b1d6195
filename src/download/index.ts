// Results half of the capture engine: fetch node archives (blob or host path), unpack them
// safely, and list their capture files for a merge (src/pcap/merge.ts).
export {
  DEFAULT_UNPACK_LIMITS,
  DiskBudget,
  mergeRoomProblem,
  UnpackError,
  checkEntryPath,
  unpackArchive,
  type UnpackLimits,
  type UnpackOptions,
  type UnpackResult,
  type UnpackedFile,
} from './unpack.js';
export {
  BlobDownloadError,
  downloadCaptureFromBlob,
  explainBlobError,
  isTransient,
  type BlobDownloadOptions,
  type BlobDownloadProgress,
  type BlobDownloadResult,
  type NodeArchive,
} from './blob.js';
export {
  downloadCaptureFromHostPath,
  helperPodManifest,
  type HelperPodDoor,
  type HostPathDownloadOptions,
  type HostPathDownloadResult,
  type HostPathProgress,
  type PodManifest,
  type PodSummary,
  type Toleration,
} from './hostpath.js';
export { mergeInputsFrom } from './inputs.js';
