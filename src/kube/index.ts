// The one typed door to Kubernetes. Import from here, not from the files.
export { listContexts, kubeconfigFiles, type ContextInfo, type KubeconfigSource } from './config.js';
export {
  KubeDoor,
  forContext,
  type AccessCheck,
  type AccessResult,
  type DoorInformers,
  type PatchType,
} from './door.js';
export { KubeError, isKubeError, type KubeErrorKind } from './errors.js';
export { Informer, type InformerEvent, type InformerListener } from './informer.js';
export type { RequestStats } from './transport.js';
export { KINDS, type KubeObject } from './resources.js';
