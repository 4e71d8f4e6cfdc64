// Node flaps are not new nodes (issue 11, item 5), on the real API server: a node back from a short
// NotReady gets only what its status says is missing, even with --image-pull-policy=Always, and nodes
// flapping together are batched into few operations (node-triggered work is rate-limited per cache).
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, uniqueName } from '../../support/cluster.js';
import { ControllerProcess, serviceAccountKubeconfig } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { createReadyNodes } from '../../support/suite.js';

describe('ImageCache controller: node flaps are not new nodes', function () {
  this.timeout(240_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('fl');
  const nodes = [`${suite}-a`, `${suite}-b`, `${suite}-c`, `${suite}-d`];
  let ns: string;
  let sa: { file: string; cleanup: () => Promise<void> };
  let ctrl: ControllerProcess;
  let createOp = '';
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

  /** What a short NotReady looks like to the controller: Ready=False, then True again (kwok would also restore it). */
  async function flap(name: string): Promise<void> {
    const node = await core.readNodeStatus({ name });
    const conditions = (node.status?.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: 'False', reason: 'KubeletNotReady' } : c));
    await core.patchNodeStatus({ name, body: { status: { conditions } } }, merge);
    await new Promise((r) => setTimeout(r, 1500));
    const back = (await core.readNodeStatus({ name })).status?.conditions?.map((c) => (c.type === 'Ready' ? { ...c, status: 'True', reason: 'KubeletReady' } : c));
    await core.patchNodeStatus({ name, body: { status: { conditions: back } } }, merge);
  }

  before(async () => {
    await ensureCrd();
    ns = await createNamespace(core, 'kf-fl');
    await createReadyNodes(core, nodes.map((n) => [n, { labels: { 'kf-fl': suite }, images: n.endsWith('-a') ? ['registry.example/a:1'] : [] }]));
    sa = await serviceAccountKubeconfig(kc, ns);
    ctrl = new ControllerProcess(sa.file, ['-v=4', '--leader-elect=false', '--image-cache-refresh-frequency=0s', '--image-pull-deadline-duration=30s',
      '--image-pull-policy=Always', '--job-retention-policy=retain', '--skip-not-ready-nodes=false'], { KUBEFLEDGED_NAMESPACE: ns }).start();
    await ics.create(ns, 'flap', { cacheSpec: [{ images: ['registry.example/a:1', 'registry.example/b:1'], nodeSelector: { 'kf-fl': suite } }] });
    createOp = (await ics.waitFinal(ns, 'flap', 'ImageCacheCreate')).status!.operation!.id;
  });

  after(async function () {
    if (this.currentTest?.state === 'failed' || process.env.KF_TEST_LOGS) console.log(ctrl?.dump());
    await ctrl?.stop();
    await sa?.cleanup();
    await deleteNamespace(core, ns);
    for (const n of nodes) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  const refreshJobs = async (since: Date) => (await batch.listNamespacedJob({ namespace: ns, labelSelector: 'imagecache=flap' })).items
    .filter((j) => new Date(j.metadata!.creationTimestamp!).getTime() >= since.getTime() - 1000 && j.metadata!.labels!['kubefledged.io/operation'] !== createOp);

  it('a node back from a short NotReady gets only what its status says is missing (even with Always)', async () => {
    const t = new Date();
    await flap(nodes[0]!);
    const c = await ics.waitFinal(ns, 'flap', 'ImageCacheRefresh', { notBefore: t, timeoutMs: 60_000 });
    expect(c.status!.operation).to.include({ onlyMissing: true });
    expect(c.status!.operation!.nodes).to.deep.equal([nodes[0]]);
    const jobs = (await refreshJobs(t)).filter((j) => j.metadata!.labels!['kubefledged.io/operation'] === c.status!.operation!.id);
    expect(jobs.flatMap((j) => j.spec!.template.spec!.containers.map((x) => x.image))).to.deep.equal(['registry.example/b:1']);
    expect(c.status!.counts).to.include({ desired: 8, failed: 0 }); // the whole cache
  });

  it('nodes flapping together are batched: few operations, one Job per node', async () => {
    const t = new Date();
    await Promise.all(nodes.slice(1).map((n) => flap(n)));
    await eventually('flapped nodes cached again', async () => {
      const jobs = await refreshJobs(t);
      return new Set(jobs.map((j) => j.spec!.template.spec!.nodeSelector!['kubernetes.io/hostname'])).size === 3 ? jobs : undefined;
    }, 60_000, 500);
    await ics.waitFinal(ns, 'flap', 'ImageCacheRefresh', { notBefore: t, timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 6000)); // a rate-limited second batch, if any, has run by now
    const jobs = await refreshJobs(t);
    const ops = new Set(jobs.map((j) => j.metadata!.labels!['kubefledged.io/operation']));
    expect(jobs).to.have.length(3); // one per flapped node, never a storm
    expect(ops.size).to.be.at.most(2);
  });
});
