// Which interfaces to capture, with which filter each, from the config and the node's network.
// Node mode: the named interfaces, or every up non-loopback interface (what `tcpdump -i any`
// would see). Pod-precise mode: each target pod's host-side interface found by a route lookup
// of its IP in the node namespace; a pod that has none here (other node, hostNetwork) falls
// back to the node interfaces filtered by its IP, and the result says so.
import type { InterfaceResult, TargetPod, WorkerResult } from '../../src/contract/index.js';
import type { WorkerConfig } from './config.js';
import { andFilters, hostFilter } from './filters.js';
import { classifyPodRoute, defaultInterfaces, isUp, type IpAddr, type IpRouteGet } from './net.js';

export interface PlannedInterface {
  name: string;
  filter: string;
  description: string;
  /** `ns/name[,ns/name]` of the pods captured precisely on this interface. */
  pod?: string;
}

export interface CapturePlan {
  mode: NonNullable<WorkerResult['mode']>;
  interfaces: PlannedInterface[];
  /** The filter shared by every interface before per-interface pod clauses. */
  baseFilter: string;
  warnings: string[];
}

export class PlanError extends Error {}

export interface PlanDeps {
  /** `ip -d -j addr show` */
  links: IpAddr[];
  /** Devices of the default routes (v4 and v6). */
  defaultDevs: string[];
  /** `ip -j route get <ip>` (first entry), undefined when there is no route. */
  routeGet: (ip: string) => Promise<IpRouteGet | undefined>;
}

const podName = (p: TargetPod): string => `${p.namespace}/${p.name}`;

export async function planCapture(cfg: WorkerConfig, deps: PlanDeps): Promise<CapturePlan> {
  const baseFilter = andFilters(cfg.userFilter, cfg.tcpdump.clause);
  const warnings: string[] = [];
  const describe = (name: string, extra = ''): string => `node=${cfg.nodeName} if=${name}${extra}`;
  const nodeIfs = (): string[] => {
    const names = cfg.interfaces ?? defaultInterfaces(deps.links);
    if (names.length === 0) throw new PlanError('no up, non-loopback interface to capture on this node');
    return names;
  };

  if (cfg.targetPods.length === 0) {
    const filter = andFilters(baseFilter, hostFilter(cfg.tcpdump.podIps));
    const names = nodeIfs();
    if (!cfg.interfaces)
      warnings.push(`no interfaces named: capturing every up non-loopback interface (${names.join(', ')})`);
    return {
      mode: 'node',
      interfaces: names.map((name) => ({ name, filter, description: describe(name) })),
      baseFilter,
      warnings,
    };
  }

  if (cfg.interfaces)
    warnings.push("pod-precise capture: the named interfaces are ignored, the pods' own interfaces are used");
  const local = new Map<string, { shared: boolean; pods: TargetPod[] }>();
  const fallback: TargetPod[] = [];
  for (const pod of cfg.targetPods) {
    const hint = pod.hostInterface ? deps.links.find((l) => l.ifname === pod.hostInterface) : undefined;
    let dev: string | undefined;
    let shared = false;
    if (hint && isUp(hint)) dev = hint.ifname;
    else {
      const d = classifyPodRoute(await deps.routeGet(pod.ip), deps.links, deps.defaultDevs);
      if (d.kind === 'local') {
        dev = d.dev;
        shared = d.shared;
      } else warnings.push(`pod ${podName(pod)} (${pod.ip}): ${d.why}; captured on the node interfaces by IP instead`);
    }
    if (!dev) {
      fallback.push(pod);
      continue;
    }
    const entry = local.get(dev) ?? { shared, pods: [] };
    entry.shared ||= shared;
    entry.pods.push(pod);
    local.set(dev, entry);
  }

  const interfaces: PlannedInterface[] = [];
  for (const [name, { shared, pods }] of local) {
    const pod = pods.map(podName).join(',');
    // A pod's own veth carries only its traffic (ARP and IPv6 ND included): no IP clause.
    // A bridge carries every pod's: filter by the pods' IPs.
    const filter = shared ? andFilters(baseFilter, hostFilter(pods.map((p) => p.ip))) : baseFilter;
    interfaces.push({ name, filter, description: describe(name, ` pod=${pod}`), pod });
  }
  if (fallback.length) {
    const filter = andFilters(baseFilter, hostFilter(fallback.map((p) => p.ip)));
    const pods = fallback.map(podName).join(',');
    for (const name of nodeIfs().filter((n) => !local.has(n)))
      interfaces.push({ name, filter, description: describe(name, ` pod=${pods} (by IP filter)`), pod: pods });
  }
  return { mode: fallback.length ? 'pod-fallback' : 'pod', interfaces, baseFilter, warnings };
}

/** Per-interface result skeleton. */
export function interfaceResults(plan: CapturePlan): InterfaceResult[] {
  return plan.interfaces.map((i) => ({
    name: i.name,
    ...(i.pod ? { pod: i.pod } : {}),
    packets: 0,
    dropped: 0,
    ifDropped: 0,
  }));
}
