// Pod-to-pod traffic between two nodes is real packets on real interfaces: visible with tcpdump
// in the server node's netns on eth0 and on the server pod's host-side veth — where the
// capture worker will look for it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { adminConfig, createTestNamespace, deleteTestNamespace, hostCmd, running, waitPod } from './helpers.js';

const PACKETS = 6;

function trafficPod(name: string, node: string, args: string[]): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      nodeName: node,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'traffic', image: 'retina-capture-traffic:latest', args }],
    },
  };
}

/** tcpdump in a node netns, bounded by packet count (-c) and a hard timeout. */
async function capture(netns: string, iface: string, filter: string): Promise<string[]> {
  const r = await hostCmd(
    'ip',
    ['netns', 'exec', netns, 'tcpdump', '-i', iface, '-nn', '-l', '-c', String(PACKETS), filter],
    20_000,
  );
  assert.equal(r.code, 0, `tcpdump on ${netns}/${iface} '${filter}' exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim().split('\n');
}

describe('pod-to-pod traffic', () => {
  let ns = '';
  before(async () => {
    ns = await createTestNamespace('rc-traffic');
  });
  after(async () => {
    if (ns) await deleteTestNamespace(ns);
  });

  it('is visible on the node eth0 and on the pod veth', async () => {
    const core = adminConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedPod({
      namespace: ns,
      body: trafficPod('server', 'rc-node-2', ['server', '--http-port', '8080', '--udp-port', '9000']),
    });
    const server = await waitPod(core, ns, 'server', 'Running with an IP', running);
    const serverIP = server.status!.podIP!;
    await core.createNamespacedPod({
      namespace: ns,
      body: trafficPod('client', 'rc-node-1', [
        'client',
        '--target',
        serverIP,
        '--http-port',
        '8080',
        '--udp-port',
        '9000',
        '--rate',
        '20',
      ]),
    });
    const client = await waitPod(core, ns, 'client', 'Running with an IP', running);
    const clientIP = client.status!.podIP!;
    assert.notEqual(server.status?.hostIP, client.status?.hostIP);

    // Between nodes the packets cross the bridge: the server node's eth0 sees them.
    const eth0 = await capture('rc-node-2', 'eth0', `src host ${clientIP} and dst host ${serverIP} and udp port 9000`);
    assert.equal(eth0.length, PACKETS);
    assert.ok(
      eth0.every((l) => l.includes(`${clientIP}.`) && l.includes(`${serverIP}.9000`)),
      eth0.join('\n'),
    );

    // The /32 route to the pod names its host-side veth.
    const route = await hostCmd('ip', ['netns', 'exec', 'rc-node-2', 'ip', 'route', 'get', serverIP], 5_000);
    const dev = /\bdev (\S+)/.exec(route.stdout)?.[1];
    assert.ok(dev && dev.startsWith('veth'), `route to ${serverIP}: ${route.stdout}`);
    const veth = await capture('rc-node-2', dev, `host ${clientIP} and host ${serverIP} and tcp port 8080`);
    assert.equal(veth.length, PACKETS);
  });
});
