// Ids shared by package.json `contributes`, the ui and the tests: one copy, checked by a unit test.

export const EXT_ID = 'retina-capture.retina-capture';
export const OUTPUT_CHANNEL = 'Retina Capture';

export const VIEW = {
  container: 'retinaCapture',
  clusters: 'retinaCapture.clusters',
  captures: 'retinaCapture.captures',
} as const;

export const CMD = {
  startCapture: 'retinaCapture.startCapture',
  quickCapture: 'retinaCapture.quickCapture',
  downloadCapture: 'retinaCapture.downloadCapture',
  openCapture: 'retinaCapture.openCapture',
  revealCapture: 'retinaCapture.revealCapture',
  summaryCapture: 'retinaCapture.showSummary',
  deleteCapture: 'retinaCapture.deleteCapture',
  stopCapture: 'retinaCapture.stopCapture',
  setBlobStorage: 'retinaCapture.setBlobStorage',
  clearBlobStorage: 'retinaCapture.clearBlobStorage',
  showLog: 'retinaCapture.showLog',
  refresh: 'retinaCapture.refresh',
  openPcapFile: 'retinaCapture.openPcapFile',
} as const;
export type CommandId = (typeof CMD)[keyof typeof CMD];

/** `viewItem` context values: menus in package.json match these with regexes. */
export const ITEM = {
  context: 'rc.context',
  contextError: 'rc.context.error',
  nodesGroup: 'rc.nodes',
  namespacesGroup: 'rc.namespaces',
  node: 'rc.node',
  namespace: 'rc.namespace',
  pod: 'rc.pod',
  workload: 'rc.workload',
  page: 'rc.page',
  message: 'rc.message',
  capture: 'rc.capture',
  captureRunning: 'rc.capture.running',
  captureDone: 'rc.capture.done',
  captureDownloaded: 'rc.capture.downloaded',
  captureNode: 'rc.captureNode',
} as const;

/** Context keys set with `setContext`, read by `when` clauses. */
export const CTX = {
  noKubeconfig: 'retinaCapture.noKubeconfig',
  capturesRunning: 'retinaCapture.capturesRunning',
} as const;

export const SETTINGS = {
  section: 'retinaCapture',
  workerImage: 'workerImage',
  defaultDurationSeconds: 'defaultDurationSeconds',
  defaultMaxSizeMB: 'defaultMaxSizeMB',
  hostPathSubPath: 'hostPathSubPath',
  downloadFolder: 'downloadFolder',
  wiresharkPath: 'wiresharkPath',
  maxConcurrentJobs: 'maxConcurrentJobs',
  kubeconfig: 'kubeconfig',
} as const;

/** Env var naming a JSON-lines file the extension appends ui events to (e2e assertions). */
export const TEST_EVENTS_ENV = 'RETINA_CAPTURE_TEST_EVENTS';
