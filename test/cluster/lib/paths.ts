// Where the test cluster keeps binaries, state and which ports it uses (see ../CONTRACT.md).
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const K8S_VERSION = 'v1.36.3';
export const ETCD_VERSION = 'v3.6.8'; // the etcd client version in k8s.io/kubernetes v1.36.3's go.mod

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const clusterSrc = path.join(repoRoot, 'test/cluster');

function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (!v) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name}=${v} is not a port number`);
  return n;
}

/** Machine-wide cache of built tools, outside any clone (`RETINA_TOOLS_CACHE` overrides). */
export function toolsCache(): string {
  return (
    process.env.RETINA_TOOLS_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'retina-capture')
  );
}

export interface Paths {
  cache: string; // binaries of one Kubernetes version, kept across `down`
  bin: string;
  state: string; // everything of one running cluster, removed by `down`
  pki: string;
  logs: string;
  pids: string;
  clusterJson: string;
  adminKubeconfig: string;
  limitedKubeconfig: string;
  imageMap: string;
}

export function paths(): Paths {
  // Binaries are keyed by version (plus source stamps checked at build time) and shared by every
  // clone on the machine: a fresh clone, as CI makes, links nothing again.
  const cache = process.env.RETINA_CLUSTER_CACHE ?? path.join(toolsCache(), 'cluster', K8S_VERSION);
  const state = process.env.RETINA_CLUSTER_STATE ?? path.join(repoRoot, '.cache/cluster/state');
  return {
    cache,
    bin: path.join(cache, 'bin'),
    state,
    pki: path.join(state, 'pki'),
    logs: path.join(state, 'logs'),
    pids: path.join(state, 'pids'),
    clusterJson: path.join(state, 'cluster.json'),
    adminKubeconfig: path.join(state, 'admin.kubeconfig'),
    limitedKubeconfig: path.join(state, 'limited.kubeconfig'),
    imageMap: path.join(state, 'images.json'),
  };
}

export interface Ports {
  etcd: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number; // its https /healthz, moved off the default 10257
  scheduler: number; // moved off the default 10259
}

export function ports(): Ports {
  return {
    etcd: envInt('RETINA_CLUSTER_ETCD_PORT', 23790),
    etcdPeer: envInt('RETINA_CLUSTER_ETCD_PEER_PORT', 23800),
    apiserver: envInt('RETINA_CLUSTER_APISERVER_PORT', 26443),
    controllerManager: envInt('RETINA_CLUSTER_KCM_PORT', 26257),
    scheduler: envInt('RETINA_CLUSTER_SCHEDULER_PORT', 26259),
  };
}

// Address plan, fixed by CONTRACT.md.
export const BRIDGE = 'rcbr0';
export const BRIDGE_IP = '198.18.0.1/24';
export const SERVICE_CIDR = '198.18.16.0/20';
export const CLUSTER_CIDR = '198.19.0.0/16';
export const nodeName = (i: number): string => `rc-node-${i}`;
export const nodeIP = (i: number): string => `198.18.0.${10 + i}`;
