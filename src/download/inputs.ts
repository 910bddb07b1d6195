// From unpacked node archives to the inputs of a merge: every capture file of every node.
import path from 'node:path';
import type { MergeInput } from '../pcap/merge.js';
import type { UnpackResult } from './unpack.js';

const CAPTURE_FILE = /\.(pcapng|pcap)$/i;

/**
 * Capture files (`*.pcapng`, `*.pcap`, rotated `-1`, `-2`… included) of each unpacked archive,
 * as merge inputs labelled with the node. Files are ordered by name within a node.
 */
export function mergeInputsFrom(nodes: readonly { node: string; unpacked: UnpackResult }[]): MergeInput[] {
  const out: MergeInput[] = [];
  for (const n of nodes) {
    const files = n.unpacked.files
      .map((f) => f.path)
      .filter((p) => CAPTURE_FILE.test(p))
      .sort();
    for (const f of files) out.push({ path: path.join(n.unpacked.dir, ...f.split('/')), node: n.node });
  }
  return out;
}
