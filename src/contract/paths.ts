// Fixed paths inside the capture pod, as Retina mounts them.

export const BLOB_SECRET_MOUNT = '/etc/blob-upload-secret';
export const BLOB_SECRET_KEY = 'blob-upload-url';
export const BLOB_SECRET_FILE = `${BLOB_SECRET_MOUNT}/${BLOB_SECRET_KEY}`;
/** Retina: `generateName: capture-blob-upload-secret` (no trailing dash). */
export const BLOB_SECRET_GENERATE_NAME = 'capture-blob-upload-secret';

export const S3_SECRET_MOUNT = '/etc/s3-upload-secret';
export const S3_SECRET_KEY_ID = 's3-access-key-id';
export const S3_SECRET_ACCESS_KEY = 's3-secret-access-key';

export const PVC_MOUNT = '/mnt/azure';

/** Retina's default: base dir + relative sub-path; users choose the sub-path only. */
export const HOSTPATH_BASE_DIR = '/var/log/retina/captures';
export const HOSTPATH_DEFAULT_SUBPATH = 'retina';

export const TERMINATION_LOG = '/dev/termination-log';
/** Kubelet truncates termination messages at 4096 bytes; our result must fit. */
export const TERMINATION_MESSAGE_LIMIT = 4096;

export const CONTAINER_NAME = 'capture';
export const HOSTPATH_VOLUME = 'hostpath';
