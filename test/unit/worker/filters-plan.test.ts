import { test } from 'node:test';
import assert from 'node:assert/strict';
import { andFilters, hostFilter, parseRawFilterArgs, parseTcpdumpFilter } from '../../../worker/src/filters.js';
import {
  checkInterfaces,
  classifyPodRoute,
  defaultInterfaces,
  prefixContains,
  type IpAddr,
} from '../../../worker/src/net.js';
import { planCapture } from '../../../worker/src/plan.js';
import type { WorkerConfig } from '../../../worker/src/config.js';

test('TCPDUMP_FILTER in the shapes Retina writes it', () => {
  // crd_to_job.go: include/exclude groups, then `<clause> or (host a or host b)` for pod IPs.
  assert.deepEqual(parseTcpdumpFilter(''), { clause: '', podIps: [] });
  assert.deepEqual(parseTcpdumpFilter('((host 10.0.0.1) or (host 10.0.0.2 and port 80))'), {
    clause: '((host 10.0.0.1) or (host 10.0.0.2 and port 80))',
    podIps: [],
  });
  assert.deepEqual(parseTcpdumpFilter('(host 10.244.0.5)'), { clause: '', podIps: ['10.244.0.5'] });
  assert.deepEqual(parseTcpdumpFilter('((port 53)) and not ((host 10.0.0.9)) or (host 10.244.0.5 or host fd00::5)'), {
    clause: '((port 53)) and not ((host 10.0.0.9))',
    podIps: ['10.244.0.5', 'fd00::5'],
  });
  assert.deepEqual(parseTcpdumpFilter('not ((port 22))'), { clause: 'not ((port 22))', podIps: [] });
  // A user clause that merely ends in a host group without Retina's " or " join stays intact.
  assert.deepEqual(parseTcpdumpFilter('tcp and (host 10.0.0.1)'), { clause: 'tcp and (host 10.0.0.1)', podIps: [] });
});

test('filters are AND-ed, never OR-ed', () => {
  assert.equal(andFilters('', undefined), '');
  assert.equal(andFilters('tcp'), 'tcp');
  assert.equal(
    andFilters('tcp port 80', '((port 53))', hostFilter(['10.0.0.1', '10.0.0.2'])),
    '(tcp port 80) and (((port 53))) and (host 10.0.0.1 or host 10.0.0.2)',
  );
  assert.deepEqual(parseRawFilterArgs('-i eth0 -i eth1,eth2 -s 96 -nn'), {
    interfaces: ['eth0', 'eth1', 'eth2'],
    snapLength: 96,
    ignored: ['-nn'],
  });
});

const links: IpAddr[] = [
  {
    ifname: 'lo',
    flags: ['LOOPBACK', 'UP'],
    link_type: 'loopback',
    addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }],
  },
  {
    ifname: 'eth0',
    flags: ['UP'],
    link_type: 'ether',
    addr_info: [{ family: 'inet', local: '10.224.0.4', prefixlen: 16 }],
  },
  { ifname: 'azv1234', flags: ['UP'], link_type: 'ether', linkinfo: { info_kind: 'veth' } },
  {
    ifname: 'cni0',
    flags: ['UP'],
    link_type: 'ether',
    linkinfo: { info_kind: 'bridge' },
    addr_info: [{ family: 'inet', local: '10.244.1.1', prefixlen: 24 }],
  },
  { ifname: 'down0', flags: [], link_type: 'ether' },
];

test('interfaces: default set is every up non-loopback one; named ones must exist and be up', () => {
  assert.deepEqual(defaultInterfaces(links), ['eth0', 'azv1234', 'cni0']);
  assert.equal(checkInterfaces(['eth0'], links), undefined);
  assert.match(checkInterfaces(['down0'], links) ?? '', /is down/);
  assert.ok(prefixContains('10.224.0.4', 16, '10.224.9.9'));
  assert.ok(!prefixContains('10.224.0.4', 16, '10.225.0.1'));
  assert.ok(prefixContains('fd00::1', 64, 'fd00::abcd'));
});

test('pod routes: veth host route is local; bridge is shared; gateway, uplink, node subnet and local IPs fall back', () => {
  const d = (r: object | undefined): string => JSON.stringify(classifyPodRoute(r as never, links, ['eth0']));
  assert.equal(
    d({ dst: '10.224.0.30', dev: 'azv1234' }),
    JSON.stringify({ kind: 'local', dev: 'azv1234', shared: false }),
  );
  assert.equal(d({ dst: '10.244.1.7', dev: 'cni0' }), JSON.stringify({ kind: 'local', dev: 'cni0', shared: true }));
  assert.match(d({ dst: '10.244.2.7', dev: 'eth0', gateway: '10.224.0.1' }), /gateway/);
  assert.match(d({ dst: '10.224.0.31', dev: 'eth0' }), /uplink/);
  assert.match(
    classifyPodRoute({ dst: '10.224.0.31', dev: 'eth0' }, links, []).kind === 'fallback' ? 'subnet' : 'x',
    /subnet/,
  );
  assert.match(d({ type: 'local', dst: '10.224.0.4', dev: 'lo' }), /hostNetwork/);
  assert.match(d(undefined), /no route/);
});

const cfg = (over: Partial<WorkerConfig>): WorkerConfig => ({
  captureName: 'c',
  nodeName: 'rc-node-1',
  timestamp: '20261126050709UTC',
  includeMetadata: true,
  fileCount: 0,
  snapLength: 0,
  bufferBytes: 8 << 20,
  userFilter: 'tcp',
  tcpdump: { clause: '', podIps: [] },
  targetPods: [],
  warnings: [],
  ...over,
});

test('plan: node mode ANDs pod IPs from TCPDUMP_FILTER; pod mode uses the pod veth; fallback filters by IP', async () => {
  const routes: Record<string, object> = {
    '10.224.0.30': { dst: '10.224.0.30', dev: 'azv1234' },
    '10.224.0.99': { dst: '10.224.0.99', dev: 'eth0' },
    '10.244.1.7': { dst: '10.244.1.7', dev: 'cni0' },
  };
  const deps = { links, defaultDevs: ['eth0'], routeGet: async (ip: string) => routes[ip] };
  const node = await planCapture(cfg({ tcpdump: { clause: '', podIps: ['10.0.0.1'] } }), deps);
  assert.equal(node.mode, 'node');
  assert.deepEqual(
    node.interfaces.map((i) => [i.name, i.filter]),
    [
      ['eth0', '(tcp) and (host 10.0.0.1)'],
      ['azv1234', '(tcp) and (host 10.0.0.1)'],
      ['cni0', '(tcp) and (host 10.0.0.1)'],
    ],
  );
  const pod = await planCapture(
    cfg({
      targetPods: [
        { namespace: 'default', name: 'web-0', ip: '10.224.0.30' },
        { namespace: 'kube-system', name: 'dns', ip: '10.244.1.7' },
      ],
    }),
    deps,
  );
  assert.equal(pod.mode, 'pod');
  assert.deepEqual(pod.interfaces, [
    {
      name: 'azv1234',
      filter: 'tcp',
      description: 'node=rc-node-1 if=azv1234 pod=default/web-0',
      pod: 'default/web-0',
    },
    {
      name: 'cni0',
      filter: '(tcp) and (host 10.244.1.7)',
      description: 'node=rc-node-1 if=cni0 pod=kube-system/dns',
      pod: 'kube-system/dns',
    },
  ]);
  const fb = await planCapture(
    cfg({
      targetPods: [
        { namespace: 'default', name: 'web-0', ip: '10.224.0.30' },
        { namespace: 'default', name: 'far', ip: '10.224.0.99' },
      ],
    }),
    deps,
  );
  assert.equal(fb.mode, 'pod-fallback');
  assert.deepEqual(
    fb.interfaces.map((i) => [i.name, i.filter]),
    [
      ['azv1234', 'tcp'],
      ['eth0', '(tcp) and (host 10.224.0.99)'],
      ['cni0', '(tcp) and (host 10.224.0.99)'],
    ],
  );
  assert.ok(fb.warnings.some((w) => w.includes('default/far') && w.includes('by IP')));
});
