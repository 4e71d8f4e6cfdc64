// The local control plane itself (issue: foundation): a real kube-apiserver, controller-manager and
// scheduler, with kwok running fake nodes and pods according to hack/kwok/stages.yaml.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, kubectl, uniqueName } from '../../support/cluster.js';
import { fakeNode } from '../../support/nodes.js';

describe('local cluster (real control plane + kwok)', function () {
  this.timeout(180_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  let ns: string;
  const extraNodes: string[] = [];

  before(async () => {
    ns = await createNamespace(core, 'kf-cluster');
  });
  after(async () => {
    await deleteNamespace(core, ns);
    for (const n of extraNodes) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  function job(name: string, node: string, images: string[]): k8s.V1Job {
    return {
      metadata: { name, namespace: ns },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            nodeSelector: { 'kubernetes.io/hostname': node },
            tolerations: [{ operator: 'Exists' }],
            containers: images.map((image, i) => ({ name: `c${i}`, image, command: ['/bin/true'] })),
          },
        },
      },
    };
  }
  async function podOf(jobName: string): Promise<k8s.V1Pod | undefined> {
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${jobName}` });
    return pods.items[0];
  }

  it('serves the API over TLS to the preinstalled kubectl, with RBAC and a service CIDR', async () => {
    const out = await kubectl(['get', '--raw', '/readyz']);
    expect(out.trim()).to.equal('ok');
    const svc = await core.readNamespacedService({ name: 'kubernetes', namespace: 'default' });
    expect(svc.spec?.clusterIP).to.match(/^10\.96\./);
    const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
    const review = (user: string) => authz.createSubjectAccessReview({ body: { spec: { user, resourceAttributes: { verb: 'create', group: 'batch', resource: 'jobs', namespace: 'default' } } } });
    expect((await review('system:serviceaccount:default:default')).status?.allowed).to.equal(false);
    expect((await review('kube-fledged-admin')).status?.allowed).to.equal(false);
    const sar = await authz.createSubjectAccessReview({ body: { spec: { user: 'someone', groups: ['system:masters'], resourceAttributes: { verb: 'create', group: 'batch', resource: 'jobs' } } } });
    expect(sar.status?.allowed).to.equal(true);
  });

  it('has Ready kwok nodes with distinct hostname labels and a container runtime version', async () => {
    const nodes = (await core.listNode({ labelSelector: 'type=kwok' })).items.filter((n) => n.metadata?.name?.startsWith('kwok-node-'));
    expect(nodes.length).to.be.at.least(1);
    const hostnames = nodes.map((n) => n.metadata?.labels?.['kubernetes.io/hostname']);
    expect(new Set(hostnames).size).to.equal(nodes.length);
    for (const n of nodes) {
      expect(n.status?.nodeInfo?.containerRuntimeVersion).to.match(/^containerd:\/\//);
      expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('True');
    }
  });

  it('a namespace gets its default ServiceAccount before tests create pods', async () => {
    const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: ns });
    expect(sa.metadata?.name).to.equal('default');
  });

  it('a Job pinned to a kwok node by kubernetes.io/hostname completes', async () => {
    const name = uniqueName('ok');
    await batch.createNamespacedJob({ namespace: ns, body: job(name, 'kwok-node-0', ['registry.example/app:1']) });
    await eventually('job complete', async () => {
      const j = await batch.readNamespacedJob({ name, namespace: ns });
      return (j.status?.conditions ?? []).some((c) => c.type === 'Complete' && c.status === 'True');
    }, 60_000);
    const pod = await podOf(name);
    expect(pod?.spec?.nodeName).to.equal('kwok-node-0');
    expect(pod?.status?.phase).to.equal('Succeeded');
  });

  it('an image under fail.invalid/ waits with ErrImagePull, then ImagePullBackOff, only in its own container', async () => {
    const name = uniqueName('fail');
    await batch.createNamespacedJob({ namespace: ns, body: job(name, 'kwok-node-1', ['fail.invalid/app:1', 'registry.example/ok:1']) });
    const seen = new Set<string>();
    const pod = await eventually('ImagePullBackOff', async () => {
      const p = await podOf(name);
      const w = p?.status?.containerStatuses?.find((c) => c.name === 'c0')?.state?.waiting?.reason;
      if (w) seen.add(w);
      return w === 'ImagePullBackOff' ? p : undefined;
    }, 60_000, 200);
    expect([...seen].some((r) => r === 'ErrImagePull' || r === 'ImagePullBackOff')).to.equal(true);
    expect(pod.status?.phase).to.equal('Pending');
    const other = pod.status?.containerStatuses?.find((c) => c.name === 'c1');
    expect(other?.state?.terminated?.exitCode).to.equal(0);
    expect(pod.status?.containerStatuses?.find((c) => c.name === 'c0')?.state?.waiting?.message).to.contain('fail.invalid/app:1');
  });

  it('an image under crash.invalid/ ends the pod Failed with a non-zero exit code and a message', async () => {
    const name = uniqueName('crash');
    await batch.createNamespacedJob({ namespace: ns, body: job(name, 'kwok-node-0', ['crash.invalid/app:1', 'registry.example/ok:1']) });
    const pod = await eventually('pod Failed', async () => {
      const p = await podOf(name);
      return p?.status?.phase === 'Failed' ? p : undefined;
    }, 60_000);
    const crashed = pod.status?.containerStatuses?.find((c) => c.name === 'c0')?.state?.terminated;
    expect(crashed?.exitCode).to.equal(1);
    expect(crashed?.message).to.contain('crash.invalid/app:1');
    expect(pod.status?.containerStatuses?.find((c) => c.name === 'c1')?.state?.terminated?.exitCode).to.equal(0);
  });

  it('an image under slow.invalid/ shows ContainerCreating for some seconds, then completes', async () => {
    const name = uniqueName('slow');
    const started = Date.now();
    await batch.createNamespacedJob({ namespace: ns, body: job(name, 'kwok-node-0', ['slow.invalid/app:1', 'registry.example/ok:1']) });
    const waiting = await eventually('ContainerCreating', async () => {
      const p = await podOf(name);
      return p?.status?.containerStatuses?.find((c) => c.name === 'c0')?.state?.waiting?.reason === 'ContainerCreating' ? p : undefined;
    }, 30_000, 200);
    // only the marked container waits; the other one ran already
    expect(waiting.status?.containerStatuses?.find((c) => c.name === 'c1')?.state?.terminated?.exitCode).to.equal(0);
    await eventually('Succeeded', async () => (await podOf(name))?.status?.phase === 'Succeeded', 60_000);
    expect(Date.now() - started).to.be.at.least(5_000);
  });

  it('deleting a Job garbage-collects its pod', async () => {
    const name = uniqueName('gc');
    await batch.createNamespacedJob({ namespace: ns, body: job(name, 'kwok-node-0', ['registry.example/app:1']) });
    await eventually('pod exists', async () => (await podOf(name)) !== undefined, 30_000);
    await batch.deleteNamespacedJob({ name, namespace: ns, propagationPolicy: 'Background' });
    await eventually('pod gone', async () => (await podOf(name)) === undefined, 60_000);
  });

  it('nodes can be added tainted, NotReady, never running pods, or with status.images', async () => {
    const ready = uniqueName('kwok-imgs');
    const notReady = uniqueName('kwok-notready');
    const norun = uniqueName('kwok-norun');
    extraNodes.push(ready, notReady, norun);
    await core.createNode({ body: fakeNode(ready, { images: ['docker.io/library/nginx:1.27'], taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] }) });
    await core.createNode({ body: fakeNode(notReady, { notReady: true }) });
    await core.createNode({ body: fakeNode(norun) });
    const n = await eventually('node Ready', async () => {
      const node = await core.readNode({ name: ready });
      return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? node : undefined;
    }, 60_000);
    expect(n.status?.images?.[0]?.names).to.deep.equal(['docker.io/library/nginx:1.27']);
    expect(n.spec?.taints?.[0]?.key).to.equal('dedicated');
    await eventually('norun node Ready', async () =>
      (await core.readNode({ name: norun })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', 60_000);
    // a pod on the norun node and one on the NotReady node stay Pending without container statuses
    for (const node of [norun, notReady]) {
      const name = uniqueName('stuck');
      await batch.createNamespacedJob({ namespace: ns, body: job(name, node, ['registry.example/app:1']) });
      await eventually('pod scheduled', async () => (await podOf(name))?.spec?.nodeName === node, 30_000);
    }
    await new Promise((r) => setTimeout(r, 3000));
    const pods = (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => p.spec?.nodeName === norun || p.spec?.nodeName === notReady);
    expect(pods).to.have.length(2);
    for (const p of pods) {
      expect(p.status?.phase).to.equal('Pending');
      expect(p.status?.containerStatuses ?? []).to.deep.equal([]);
    }
    const nr = await core.readNode({ name: notReady });
    expect(nr.status?.conditions?.find((c) => c.type === 'Ready')?.status).to.not.equal('True');
  });
});
