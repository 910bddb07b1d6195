// Targets → nodes and pod IPs, from a snapshot the caller listed from the cluster. Pure, so
// every selection rule is testable and every surprise becomes an explicit problem: a pod without
// an IP is an error (Retina silently captures the whole node instead), a target that matches
// nothing is an error, Windows nodes are refused, NotReady nodes are warned about.
import type { V1LabelSelector, V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';
import { captureTimestamp, NODE_LABEL_HOSTNAME, NODE_LABEL_OS } from '../contract/index.js';
import {
  captureNameOf,
  type CaptureRequest,
  type CaptureTarget,
  type SelectorInput,
  type WorkloadKind,
} from './request.js';
import { formatRequirements, matches, parseSelector, type Requirement } from './selector.js';

/** A workload the kube layer listed: enough to find its pods. */
/**
 * Most nodes (= Jobs, one per node) one capture may select. A sanity bound, not a throughput
 * limit: how many Job create requests are in flight at once is options.maxConcurrentJobs.
 */
export const MAX_CAPTURE_NODES = 1000;

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  /** `spec.selector`; absent means it cannot select pods. */
  selector?: V1LabelSelector;
}

/** What the caller listed from the cluster (one list each, so the plan sees one moment). */
export interface ClusterSnapshot {
  nodes: V1Node[];
  pods: V1Pod[];
  namespaces: V1Namespace[];
  workloads?: WorkloadRef[];
}

export interface PlannedPod {
  namespace: string;
  name: string;
  uid: string;
  /** First IP (status.podIP). */
  ip: string;
  /** All IPs (dual stack). */
  ips: string[];
  hostNetwork: boolean;
}

export interface PlannedNode {
  node: string;
  /** `kubernetes.io/hostname` label (what node affinity matches), falling back to the node name. */
  hostname: string;
  os: string;
  ready: boolean;
  /** Captured whole (a node target); otherwise only the pods' traffic. */
  wholeNode: boolean;
  pods: PlannedPod[];
}

export interface PlanProblem {
  severity: 'error' | 'warning';
  message: string;
  /** The target this problem comes from, as described to the user. */
  target?: string;
}

export interface CapturePlan {
  name: string;
  namespace: string;
  /** `YYYYMMDDHHMMSSUTC`, one for every node of the capture. */
  timestamp: string;
  nodes: PlannedNode[];
  problems: PlanProblem[];
}

export interface PlanOptions {
  now: Date;
  /** For generated names (tests pass a fixed sequence). */
  random?: () => number;
}

export function planErrors(plan: CapturePlan): PlanProblem[] {
  return plan.problems.filter((p) => p.severity === 'error');
}

function selectorText(s: SelectorInput): string {
  if (typeof s === 'string') return s;
  return Object.entries(s)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function describeTarget(t: CaptureTarget, captureNamespace: string): string {
  switch (t.kind) {
    case 'node':
      return `node ${t.name}`;
    case 'nodeSelector':
      return `node selector "${selectorText(t.labels)}"`;
    case 'pod':
      return `pod ${t.namespace}/${t.name}`;
    case 'podSelector': {
      const where =
        t.namespaceLabels !== undefined
          ? `namespaces matching "${selectorText(t.namespaceLabels)}"`
          : `namespace ${t.namespace ?? captureNamespace}`;
      return `pod selector "${selectorText(t.podLabels)}" in ${where}`;
    }
    case 'workload':
      return `${t.workloadKind} ${t.namespace}/${t.name}`;
  }
}

function nodeOs(n: V1Node): string {
  return n.metadata?.labels?.[NODE_LABEL_OS] ?? n.status?.nodeInfo?.operatingSystem ?? 'linux';
}

function nodeReady(n: V1Node): boolean {
  return (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function podIps(p: V1Pod): string[] {
  const list = (p.status?.podIPs ?? []).map((x) => x.ip).filter((ip): ip is string => !!ip);
  if (list.length) return list;
  return p.status?.podIP ? [p.status.podIP] : [];
}

const key = (ns: string, name: string): string => `${ns}/${name}`;

/** Resolves all targets against the snapshot. Never throws for cluster content; reports problems. */
export function planCapture(request: CaptureRequest, snapshot: ClusterSnapshot, opts: PlanOptions): CapturePlan {
  const problems: PlanProblem[] = [];
  const nodesByName = new Map(snapshot.nodes.map((n) => [n.metadata?.name ?? '', n]));
  const wholeNodes = new Map<string, string>(); // node → target that asked for it whole
  const podsByNode = new Map<string, Map<string, PlannedPod>>();
  const error = (message: string, target?: string): void => {
    problems.push({ severity: 'error', message, ...(target ? { target } : {}) });
  };
  const warn = (message: string, target?: string): void => {
    problems.push({ severity: 'warning', message, ...(target ? { target } : {}) });
  };

  const selector = (s: SelectorInput | V1LabelSelector, what: string, target: string): Requirement[] | undefined => {
    const p = parseSelector(s);
    if (!p.ok) {
      error(`${what} is not a valid label selector: ${p.error}`, target);
      return undefined;
    }
    return p.requirements;
  };

  /** Adds one selected pod, or reports why it cannot be captured. Returns whether it was added. */
  const addPod = (pod: V1Pod, target: string, explicit: boolean): boolean => {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const phase = pod.status?.phase ?? 'Unknown';
    const id = `pod ${ns}/${name}`;
    if (phase === 'Succeeded' || phase === 'Failed') {
      // Finished pods have no traffic; selectors skip them quietly, an explicit pod is an error.
      if (explicit) error(`${id} has finished (phase ${phase}); there is no traffic to capture`, target);
      return false;
    }
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) {
      error(
        `${id} is not scheduled to a node yet (phase ${phase}); wait for it to run or drop it from the targets`,
        target,
      );
      return false;
    }
    const ips = podIps(pod);
    if (!ips.length) {
      error(`${id} has no IP yet (phase ${phase}); wait for it to run or drop it from the targets`, target);
      return false;
    }
    if (!nodesByName.has(nodeName)) {
      error(`${id} runs on node ${nodeName}, which is not in the node list; refresh and try again`, target);
      return false;
    }
    const hostNetwork = pod.spec?.hostNetwork === true;
    if (hostNetwork) {
      warn(
        `${id} uses the host network: its IP ${ips[0]} is node ${nodeName}'s own, so the capture holds all traffic of that address`,
        target,
      );
    }
    const onNode = podsByNode.get(nodeName) ?? new Map<string, PlannedPod>();
    onNode.set(key(ns, name), {
      namespace: ns,
      name,
      uid: pod.metadata?.uid ?? '',
      ip: ips[0] as string,
      ips,
      hostNetwork,
    });
    podsByNode.set(nodeName, onNode);
    return true;
  };

  const addPods = (pods: V1Pod[], target: string, nothing: string): void => {
    const live = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    if (!live.length) {
      error(pods.length ? `${nothing}: all ${pods.length} matching pods have finished` : nothing, target);
      return;
    }
    for (const p of live) addPod(p, target, false);
  };

  for (const t of request.targets) {
    const target = describeTarget(t, request.namespace);
    switch (t.kind) {
      case 'node': {
        if (!nodesByName.has(t.name)) error(`node ${t.name} not found`, target);
        else wholeNodes.set(t.name, target);
        break;
      }
      case 'nodeSelector': {
        const reqs = selector(t.labels, target, target);
        if (!reqs) break;
        const hit = snapshot.nodes.filter((n) => matches(n.metadata?.labels, reqs));
        if (!hit.length) error(`${target} matches no node`, target);
        for (const n of hit) wholeNodes.set(n.metadata?.name ?? '', target);
        break;
      }
      case 'pod': {
        const pod = snapshot.pods.find((p) => p.metadata?.namespace === t.namespace && p.metadata?.name === t.name);
        if (!pod) error(`pod ${t.namespace}/${t.name} not found`, target);
        else addPod(pod, target, true);
        break;
      }
      case 'podSelector': {
        const podReqs = selector(t.podLabels, target, target);
        if (!podReqs) break;
        let namespaces: Set<string>;
        if (t.namespaceLabels !== undefined) {
          const nsReqs = selector(t.namespaceLabels, `namespace selector of ${target}`, target);
          if (!nsReqs) break;
          namespaces = new Set(
            snapshot.namespaces.filter((n) => matches(n.metadata?.labels, nsReqs)).map((n) => n.metadata?.name ?? ''),
          );
          if (!namespaces.size) {
            error(`namespace selector "${formatRequirements(nsReqs)}" matches no namespace`, target);
            break;
          }
        } else {
          namespaces = new Set([t.namespace ?? request.namespace]);
        }
        const pods = snapshot.pods.filter(
          (p) => namespaces.has(p.metadata?.namespace ?? '') && matches(p.metadata?.labels, podReqs),
        );
        addPods(pods, target, `${target} matches no pod`);
        break;
      }
      case 'workload': {
        const w = (snapshot.workloads ?? []).find(
          (x) => x.kind === t.workloadKind && x.namespace === t.namespace && x.name === t.name,
        );
        if (!w) {
          error(`${target} not found`, target);
          break;
        }
        if (!w.selector) {
          error(`${target} has no pod selector`, target);
          break;
        }
        const reqs = selector(w.selector, `spec.selector of ${target}`, target);
        if (!reqs) break;
        // An empty selector would match every pod of the namespace: never what a workload means.
        if (!reqs.length) {
          error(`${target} has an empty pod selector`, target);
          break;
        }
        const pods = snapshot.pods.filter(
          (p) => p.metadata?.namespace === t.namespace && matches(p.metadata?.labels, reqs),
        );
        addPods(pods, target, `${target} has no pods`);
        break;
      }
    }
  }

  const names = new Set([...wholeNodes.keys(), ...podsByNode.keys()]);
  const nodes: PlannedNode[] = [];
  for (const name of [...names].sort()) {
    const n = nodesByName.get(name) as V1Node;
    const os = nodeOs(n);
    if (os === 'windows') {
      error(`node ${name} runs Windows; Windows nodes are not supported yet`);
      continue;
    }
    if (os !== 'linux') {
      error(`node ${name} runs "${os}"; only Linux nodes are supported`);
      continue;
    }
    const ready = nodeReady(n);
    if (!ready) warn(`node ${name} is NotReady; its capture Job may not start or may stop early`);
    const whole = wholeNodes.get(name);
    const pods = [...(podsByNode.get(name)?.values() ?? [])].sort((a, b) =>
      key(a.namespace, a.name) < key(b.namespace, b.name) ? -1 : 1,
    );
    if (whole && pods.length) {
      warn(`node ${name} is captured whole (${whole}), which already includes ${pods.length} selected pod(s) on it`);
    }
    nodes.push({
      node: name,
      hostname: n.metadata?.labels?.[NODE_LABEL_HOSTNAME] ?? name,
      os,
      ready,
      wholeNode: whole !== undefined,
      pods: whole ? [] : pods,
    });
  }

  if (!nodes.length && !problems.some((p) => p.severity === 'error')) error('the targets select no node to capture');
  if (nodes.length > MAX_CAPTURE_NODES) {
    error(
      `this capture selects ${nodes.length} nodes; one capture runs at most ${MAX_CAPTURE_NODES} Jobs (one per node), narrow the targets (e.g. a node selector) or split the capture`,
    );
  }

  return {
    name: captureNameOf(request, opts.random),
    namespace: request.namespace,
    timestamp: captureTimestamp(opts.now),
    nodes,
    problems,
  };
}
