// The worker's version: package.json's, inlined by webpack at build time (JSON import), read
// directly when run from source with tsx.
import pkg from '../../package.json' with { type: 'json' };

export const WORKER_VERSION: string = (pkg as { version: string }).version;
export const USER_APPL = `retina-capture-worker ${WORKER_VERSION}`;
