// Environment the worker reads. Retina's names keep Retina's meaning; our additions are
// prefixed RCAP_ so they can never change the meaning of Retina's.

export const ENV = {
  captureName: 'CAPTURE_NAME',
  nodeHostName: 'NODE_HOST_NAME',
  podName: 'POD_NAME',
  startTimestamp: 'CAPTURE_START_TIMESTAMP',
  includeMetadata: 'INCLUDE_METADATA',
  /** Go duration string, e.g. `1m30s`. */
  duration: 'CAPTURE_DURATION',
  /** Megabytes. */
  maxSize: 'CAPTURE_MAX_SIZE',
  fileCount: 'CAPTURE_FILE_COUNT',
  /** Comma list; empty means all up interfaces. */
  interfaces: 'CAPTURE_INTERFACES',
  /** Snap length in bytes; 0 means the whole packet. */
  packetSize: 'CAPTURE_PACKET_SIZE',
  /** Include/exclude IP:port clause (plus pod IPs, AND-ed in our captures). */
  tcpdumpFilter: 'TCPDUMP_FILTER',
  /** User BPF, AND-ed with the source/destination IP clauses. */
  pcapFilter: 'PCAP_FILTER',
  tcpdumpRawFilter: 'TCPDUMP_RAW_FILTER',
  hostPath: 'HOSTPATH',
  pvc: 'PERSISTENT_VOLUME_CLAIM',
  s3Endpoint: 'S3_ENDPOINT',
  s3Region: 'S3_REGION',
  s3Bucket: 'S3_BUCKET',
  s3Path: 'S3_PATH',

  // --- ours ---
  /** JSON array of TargetPod: pod-precise capture on the pods' own host-side interfaces. */
  targetPods: 'RCAP_TARGET_PODS',
  /** `pcapng` (default) or `pcap` (Retina's classic format). */
  outputFormat: 'RCAP_OUTPUT_FORMAT',
  /** Overrides the blob SAS file location (tests); the default is Retina's mount path. */
  blobSecretFile: 'RCAP_BLOB_SECRET_FILE',
  /** Overrides /dev/termination-log (tests). */
  terminationLog: 'RCAP_TERMINATION_LOG',
  /** Kernel ring buffer per interface, MiB. */
  bufferSize: 'RCAP_BUFFER_MB',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** A pod the worker captures precisely: found on the node by a route lookup of its IP. */
export interface TargetPod {
  namespace: string;
  name: string;
  ip: string;
  /** Host-side interface when the planner already knows it (optional hint). */
  hostInterface?: string;
}
