// Kubernetes labels and annotations that make a capture recognisable to Retina's own tools
// (`kubectl retina capture list/download/delete`) and to us after a reload.
// Source: microsoft/retina pkg/capture/constants and crd_to_job.go.

/** `retina.sh/app` value on capture Jobs, their Pods and the blob Secret. */
export const LABEL_APP = 'retina.sh/app';
export const APP_CAPTURE = 'capture';
/** Retina's download helper pods carry `retina.sh/app=download`. */
export const APP_DOWNLOAD = 'download';
/** Capture name on Jobs, Pods and the Secret: the key Retina's CLI lists and deletes by. */
export const LABEL_CAPTURE_NAME = 'capture-name';

/** Pod template annotations Retina's download command reads. */
export const ANNOTATION_FILENAME = 'retina-capture-filename';
export const ANNOTATION_TIMESTAMP = 'retina-capture-timestamp';
export const ANNOTATION_HOSTPATH = 'retina-capture-hostpath';

/** Our own marker, so we can tell our captures from Retina's (both are shown). */
export const LABEL_CREATED_BY = 'app.kubernetes.io/created-by';
export const CREATED_BY_US = 'retina-capture-vscode';
/** Capture options we need after a reload (duration, outputs) that Retina keeps only in env. */
export const ANNOTATION_REQUEST = 'retina-capture-vscode/request';

export const NODE_LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const NODE_LABEL_OS = 'kubernetes.io/os';

export function captureLabels(captureName: string): Record<string, string> {
  return { [LABEL_APP]: APP_CAPTURE, [LABEL_CAPTURE_NAME]: captureName };
}

/** Label selector string for everything that belongs to one capture. */
export function captureSelector(captureName?: string): string {
  return captureName === undefined
    ? `${LABEL_APP}=${APP_CAPTURE}`
    : `${LABEL_APP}=${APP_CAPTURE},${LABEL_CAPTURE_NAME}=${captureName}`;
}
