// The pure capture domain: request → validate → plan → manifests (Jobs + Secret) or a Capture CR.
export * from './request.js';
export * from './selector.js';
export * from './ipfilter.js';
export * from './bpf.js';
export * from './validate.js';
export * from './plan.js';
export * from './manifests.js';
export * from './crd.js';
