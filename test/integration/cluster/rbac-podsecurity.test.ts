// The limited user can do what the extension needs and nothing else; PodSecurity admission
// stops the Job controller from creating a hostNetwork pod in a baseline namespace.
// Needs only the control plane (no nodes).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { adminConfig, createTestNamespace, deleteTestNamespace, limitedConfig, statusOf, waitFor } from './helpers.js';

async function expectStatus(p: Promise<unknown>, code: number, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.equal(statusOf(e), code, `${what}: expected ${code}, got ${statusOf(e) ?? String(e)}`);
    return;
  }
  assert.fail(`${what}: expected ${code}, but it was allowed`);
}

describe('limited user RBAC', () => {
  let ns = '';
  before(async () => {
    ns = await createTestNamespace('rc-rbac');
  });
  after(async () => {
    if (ns) await deleteTestNamespace(ns);
  });

  it('reads what the extension reads, cluster-wide', async () => {
    const kc = limitedConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.listNode();
    await core.listNamespace();
    await core.listPodForAllNamespaces();
    await core.listNamespacedEvent({ namespace: ns });
    await kc.makeApiClient(k8s.BatchV1Api).listJobForAllNamespaces();
    const review = await kc.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectAccessReview({
      body: {
        spec: { resourceAttributes: { verb: 'create', resource: 'jobs', group: 'batch', namespace: 'retina-capture' } },
      },
    });
    assert.equal(review.status?.allowed, true);
  });

  it('writes in default and retina-capture only (dry-run)', async () => {
    const kc = limitedConfig();
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const job: k8s.V1Job = {
      metadata: { name: 'rbac-probe' },
      spec: {
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] },
        },
      },
    };
    const secret: k8s.V1Secret = { metadata: { name: 'rbac-probe' }, stringData: { a: 'b' } };
    for (const namespace of ['default', 'retina-capture']) {
      await batch.createNamespacedJob({ namespace, body: job, dryRun: 'All' });
      await core.createNamespacedSecret({ namespace, body: secret, dryRun: 'All' });
      await core.createNamespacedPod({
        namespace,
        body: { metadata: { name: 'p' }, spec: job.spec!.template.spec! },
        dryRun: 'All',
      });
    }
    await expectStatus(
      batch.createNamespacedJob({ namespace: ns, body: job, dryRun: 'All' }),
      403,
      'create job in a test namespace',
    );
    await expectStatus(
      core.createNamespacedSecret({ namespace: ns, body: secret, dryRun: 'All' }),
      403,
      'create secret in a test namespace',
    );
  });

  it('gets 403 on everything outside its role', async () => {
    const kc = limitedConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await expectStatus(core.listSecretForAllNamespaces(), 403, 'list secrets cluster-wide');
    await expectStatus(core.listNamespacedSecret({ namespace: 'default' }), 403, 'list secrets in default');
    await expectStatus(
      core.createNamespace({ body: { metadata: { name: 'rbac-forbidden' } }, dryRun: 'All' }),
      403,
      'create namespace',
    );
    await expectStatus(core.deleteNamespace({ name: ns, dryRun: 'All' }), 403, 'delete namespace');
    await expectStatus(core.listConfigMapForAllNamespaces(), 403, 'list configmaps');
    await expectStatus(core.listServiceForAllNamespaces(), 403, 'list services');
    await expectStatus(core.deleteNode({ name: 'rc-node-1', dryRun: 'All' }), 403, 'delete node');
    await expectStatus(
      core.patchNode({ name: 'rc-node-1', body: { metadata: { labels: { x: 'y' } } } }),
      403,
      'patch node',
    );
    await expectStatus(kc.makeApiClient(k8s.AppsV1Api).listDeploymentForAllNamespaces(), 403, 'list deployments');
    await expectStatus(kc.makeApiClient(k8s.RbacAuthorizationV1Api).listClusterRole(), 403, 'list clusterroles');
  });
});

describe('PodSecurity baseline', () => {
  let ns = '';
  before(async () => {
    ns = await createTestNamespace('rc-psa', { 'pod-security.kubernetes.io/enforce': 'baseline' });
  });
  after(async () => {
    if (ns) await deleteTestNamespace(ns);
  });

  it('the Job controller cannot create a hostNetwork pod; FailedCreate event names PodSecurity', async () => {
    const kc = adminConfig();
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await batch.createNamespacedJob({
      namespace: ns,
      body: {
        metadata: { name: 'hostnet' },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              hostNetwork: true,
              restartPolicy: 'Never',
              containers: [{ name: 'c', image: 'busybox', command: ['true'] }],
            },
          },
        },
      },
    });
    const ev = await waitFor(
      'FailedCreate event on the Job',
      async () => {
        const list = await core.listNamespacedEvent({
          namespace: ns,
          fieldSelector: 'involvedObject.kind=Job,involvedObject.name=hostnet',
        });
        return list.items.find((e) => e.reason === 'FailedCreate');
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.match(ev.message ?? '', /violates PodSecurity "baseline:latest": host namespaces \(hostNetwork=true\)/);
    const pods = await core.listNamespacedPod({ namespace: ns });
    assert.equal(pods.items.length, 0);
  });
});
