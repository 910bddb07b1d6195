// The Retina-compatible contract shared by the extension and the worker: one copy, never two.
export * from './labels.js';
export * from './env.js';
export * from './paths.js';
export * from './naming.js';
export * from './duration.js';
export * from './result.js';
export * from './redact.js';
export * from './safeName.js';
