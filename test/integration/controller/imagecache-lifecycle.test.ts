// The ImageCache controller against the real control plane, running as a child process under the
// ClusterRole of deploy/ through a ServiceAccount token. kwok runs the Job pods (hack/kwok/stages.yaml).
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, kubectl, uniqueName } from '../../support/cluster.js';
import { fakeNode } from '../../support/nodes.js';
import { ControllerProcess, serviceAccountKubeconfig } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { Message } from '../../../src/api/constants.js';

describe('ImageCache controller: create, update, refresh, purge, status', function () {
  this.timeout(240_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('lc');
  const sel = { 'kf-suite': suite };
  const nodes = [`${suite}-a`, `${suite}-b`, `${suite}-c`];
  let ns: string;
  let ctrl: ControllerProcess;
  let sa: { file: string; cleanup: () => Promise<void> };

  const jobsOf = async (name: string) =>
    (await batch.listNamespacedJob({ namespace: ns, labelSelector: `app=kubefledged,kubefledged=kubefledged-image-manager,imagecache=${name}` })).items;

  before(async () => {
    await ensureCrd();
    ns = await createNamespace(core, 'kf-lc');
    for (const n of nodes) {
      await core.createNode({ body: fakeNode(n, { labels: { ...sel, tier: n.endsWith('-c') ? 'frontend' : 'backend' }, images: n.endsWith('-a') ? ['docker.io/library/present:1.0'] : [] }) });
    }
    await eventually('suite nodes Ready', async () => {
      const list = (await core.listNode({ labelSelector: `kf-suite=${suite}` })).items;
      return list.length === 3 && list.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    }, 60_000);
    sa = await serviceAccountKubeconfig(kc, ns);
    ctrl = new ControllerProcess(sa.file, ['--image-pull-deadline-duration=12s', '--image-cache-refresh-frequency=0s', '--job-retention-policy=retain', '--leader-elect=false', '-v=4',
      // every step of this suite with the Jobs and pods read on the watch thread (src/kube/watch-thread.ts);
      // the other suites run the default, --watch-thread=never (the main thread)
      '--watch-thread=always'], { KUBEFLEDGED_NAMESPACE: ns }).start();
  });

  after(async function () {
    if (this.currentTest?.state === 'failed' || process.env.KF_TEST_LOGS) console.log(ctrl?.dump());
    await ctrl?.stop();
    await sa?.cleanup();
    await deleteNamespace(core, ns);
    for (const n of nodes) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(ctrl.dump());
  });

  it('create: pulls every image onto every selected node with one Job per node, then Succeeded', async () => {
    const started = new Date();
    await ics.create(ns, 'ic-create', { cacheSpec: [{ images: ['registry.example/app:1', 'registry.example/web:2'], nodeSelector: sel }] });
    await eventually('Processing', async () => (await ics.get(ns, 'ic-create')).status?.status === 'Processing' || (await ics.get(ns, 'ic-create')).status?.status === 'Succeeded', 30_000);
    const c = await ics.waitFinal(ns, 'ic-create', 'ImageCacheCreate');
    expect(c.status).to.include({ status: 'Succeeded', message: Message.ImagesPulledSuccessfully });
    expect(new Date(c.status!.startTime).getTime()).to.be.at.least(started.getTime() - 1000);
    expect(new Date(c.status!.completionTime!).getTime()).to.be.at.least(new Date(c.status!.startTime).getTime());
    expect(c.status!.counts).to.deep.equal({ desired: 6, succeeded: 6, failed: 0, pending: 0 });
    expect(ctrl.logs.some((l) => l.includes('the Jobs and pods are read on a thread of their own'))).to.equal(true);
    const jobs = await jobsOf('ic-create');
    expect(jobs).to.have.length(3);
    expect(jobs.map((j) => j.spec!.template.spec!.containers.length)).to.deep.equal([2, 2, 2]);
    const hosts = jobs.map((j) => j.spec!.template.spec!.nodeSelector!['kubernetes.io/hostname']).sort();
    expect(hosts).to.deep.equal([...nodes].sort());
    // printer columns, as users read them
    const table = await kubectl(['get', 'ic', 'ic-create', '-n', ns]);
    expect(table.split('\n')[0]).to.match(/^NAME\s+STATUS\s+REASON\s+AGE/);
    expect(table.split('\n')[1]).to.match(/^ic-create\s+Succeeded\s+ImageCacheCreate\s+/);
    const wide = await kubectl(['get', 'imagecaches', 'ic-create', '-n', ns, '-o', 'wide']);
    expect(wide.split('\n')[0]).to.match(/SUCCEEDED\s+FAILED\s+PENDING\s+MESSAGE/);
    const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=ic-create' });
    expect(events.items.some((e) => e.type === 'Normal' && e.reason === 'ImageCacheCreate' && e.message === Message.ImagesPulledSuccessfully)).to.equal(true);
  });

  it('IfNotPresent: an image already on a node needs no pull there', async () => {
    await ics.create(ns, 'ic-present', { cacheSpec: [{ images: ['present:1.0'], nodeSelector: sel }] });
    const c = await ics.waitFinal(ns, 'ic-present', 'ImageCacheCreate');
    expect(c.status!.status).to.equal('Succeeded');
    const jobs = await jobsOf('ic-present');
    expect(jobs.map((j) => j.spec!.template.spec!.nodeSelector!['kubernetes.io/hostname']).sort()).to.deep.equal([nodes[1], nodes[2]]);
  });

  it('a selector that matches no node: NoImagesPulledOrDeleted', async () => {
    await ics.create(ns, 'ic-none', { cacheSpec: [{ images: ['registry.example/app:1'], nodeSelector: { 'kf-suite': 'nothing-here' } }] });
    const c = await ics.waitFinal(ns, 'ic-none', 'ImageCacheCreate');
    expect(c.status).to.include({ status: 'NoImagesPulledOrDeleted', message: Message.NoImagesPulledOrDeleted });
  });

  it('failures: fail.invalid/ at the deadline, crash.invalid/ at once, per image and node (hostname)', async () => {
    await ics.create(ns, 'ic-fail', { cacheSpec: [{ images: ['fail.invalid/app:1', 'crash.invalid/app:1', 'registry.example/ok:1'], nodeSelector: { ...sel, tier: 'backend' } }] });
    const c = await ics.waitFinal(ns, 'ic-fail', 'ImageCacheCreate');
    expect(c.status).to.include({ status: 'Failed', message: Message.ImagePullFailedForSomeImages });
    const f = c.status!.failures!;
    expect(Object.keys(f).sort()).to.deep.equal(['crash.invalid/app:1', 'fail.invalid/app:1']);
    expect(f['fail.invalid/app:1']!.map((x) => x.node)).to.deep.equal([nodes[0], nodes[1]]);
    for (const x of f['fail.invalid/app:1']!) {
      expect(['ErrImagePull', 'ImagePullBackOff']).to.include(x.reason);
      expect(x.message).to.contain('fail.invalid/app:1');
    }
    expect(f['crash.invalid/app:1']![0]).to.include({ reason: 'Error' });
    expect(f['crash.invalid/app:1']![0]!.message).to.contain('exec format error');
    expect(c.status!.counts).to.include({ desired: 6, succeeded: 2, failed: 4 });
    const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=ic-fail' });
    expect(events.items.some((e) => e.type === 'Warning' && e.reason === 'ImageCacheCreate')).to.equal(true);
  });

  it('update: pulls only the added image and deletes only the removed one', async () => {
    await ics.create(ns, 'ic-upd', { cacheSpec: [{ images: ['registry.example/keep:1', 'registry.example/drop:1'], nodeSelector: sel }] });
    await ics.waitFinal(ns, 'ic-upd', 'ImageCacheCreate');
    const before = new Set((await jobsOf('ic-upd')).map((j) => j.metadata!.name));
    const t = new Date();
    await ics.setImages(ns, 'ic-upd', [{ images: ['registry.example/keep:1', 'registry.example/add:1'], nodeSelector: sel }]);
    const c = await ics.waitFinal(ns, 'ic-upd', 'ImageCacheUpdate', { notBefore: t });
    expect(c.status!.status).to.equal('Succeeded');
    const created = (await jobsOf('ic-upd')).filter((j) => !before.has(j.metadata!.name));
    const pulls = created.filter((j) => j.metadata!.labels!['kubefledged.io/action'] === 'pull');
    const deletes = created.filter((j) => j.metadata!.labels!['kubefledged.io/action'] === 'delete');
    expect(pulls).to.have.length(3);
    expect(deletes).to.have.length(3);
    for (const j of pulls) expect(j.spec!.template.spec!.containers.map((x) => x.image)).to.deep.equal(['registry.example/add:1']);
    for (const j of deletes) {
      const args = j.spec!.template.spec!.containers.flatMap((x) => x.args ?? []);
      expect(args).to.include('registry.example/drop:1');
      expect(args).not.to.include('registry.example/keep:1');
    }
  });

  it('refresh annotation: refreshes, then removes the annotation', async () => {
    await ics.create(ns, 'ic-ref', { cacheSpec: [{ images: ['registry.example/app:1'], nodeSelector: sel }] });
    await ics.waitFinal(ns, 'ic-ref', 'ImageCacheCreate');
    const t = new Date();
    await ics.annotate(ns, 'ic-ref', 'kubefledged.io/refresh-imagecache');
    const c = await ics.waitFinal(ns, 'ic-ref', 'ImageCacheRefresh', { notBefore: t });
    expect(c.status).to.include({ status: 'Succeeded', message: Message.ImagesPulledSuccessfully });
    await eventually('annotation removed', async () =>
      !('kubefledged.io/refresh-imagecache' in ((await ics.get(ns, 'ic-ref')).metadata.annotations ?? {})), 20_000);
  });

  it('purge annotation: deletes every image with CRI-client Jobs, removes the annotation', async () => {
    await ics.create(ns, 'ic-purge', { cacheSpec: [{ images: ['registry.example/app:1', 'registry.example/b:2'], nodeSelector: sel }] });
    await ics.waitFinal(ns, 'ic-purge', 'ImageCacheCreate');
    const t = new Date();
    await ics.annotate(ns, 'ic-purge', 'kubefledged.io/purge-imagecache');
    const c = await ics.waitFinal(ns, 'ic-purge', 'ImageCachePurge', { notBefore: t });
    expect(c.status).to.include({ status: 'Succeeded', message: Message.ImagesDeletedSuccessfully });
    const deletes = (await jobsOf('ic-purge')).filter((j) => j.metadata!.labels!['kubefledged.io/action'] === 'delete');
    expect(deletes).to.have.length(3);
    for (const j of deletes) {
      const pod = j.spec!.template.spec!;
      expect(pod.containers).to.have.length(2);
      expect(pod.containers[0]!.command).to.deep.equal(['/opt/bin/kubefledged-cri-client']);
      expect(pod.containers[0]!.image).to.equal('docker.io/kubefledgedts/kube-fledged:v0.11.0');
    }
    await eventually('annotation removed', async () =>
      !('kubefledged.io/purge-imagecache' in ((await ics.get(ns, 'ic-purge')).metadata.annotations ?? {})), 20_000);
  });

  it('an edit or a purge made while an operation runs is applied after it (no webhook installed)', async () => {
    await ics.create(ns, 'ic-busy', { cacheSpec: [{ images: ['slow.invalid/app:1'], nodeSelector: sel }] });
    await eventually('Processing', async () => (await ics.get(ns, 'ic-busy')).status?.status === 'Processing', 30_000, 100);
    await ics.setImages(ns, 'ic-busy', [{ images: ['slow.invalid/app:1', 'registry.example/late:1'], nodeSelector: sel }]);
    const c = await ics.waitFinal(ns, 'ic-busy', 'ImageCacheUpdate', { timeoutMs: 120_000 });
    expect(c.status!.status).to.equal('Succeeded');
    const pulls = (await jobsOf('ic-busy')).filter((j) => j.spec!.template.spec!.containers.some((x) => x.image === 'registry.example/late:1'));
    expect(pulls).to.have.length(3);
    expect(c.status!.observedGeneration).to.equal(c.metadata.generation);
    // a purge requested while a refresh runs is applied after it, too
    await ics.annotate(ns, 'ic-busy', 'kubefledged.io/refresh-imagecache');
    await eventually('refresh Processing', async () => {
      const st = (await ics.get(ns, 'ic-busy')).status;
      return st?.status === 'Processing' && st.reason === 'ImageCacheRefresh';
    }, 30_000, 100);
    await ics.annotate(ns, 'ic-busy', 'kubefledged.io/purge-imagecache');
    const purged = await ics.waitFinal(ns, 'ic-busy', 'ImageCachePurge', { timeoutMs: 120_000 });
    expect(purged.status!.status).to.equal('Succeeded');
    // the refresh finished first (its Event), then the purge ran
    const events = (await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=ic-busy' })).items;
    const refreshed = events.find((e) => e.reason === 'ImageCacheRefresh');
    const purgedEvent = events.find((e) => e.reason === 'ImageCachePurge');
    expect(refreshed, 'refresh Event').to.not.equal(undefined);
    expect(new Date(refreshed!.firstTimestamp!).getTime()).to.be.at.most(new Date(purgedEvent!.firstTimestamp!).getTime());
    expect(Object.keys(purged.metadata.annotations ?? {})).to.not.include('kubefledged.io/purge-imagecache');
  });

  it('imagePullSecrets reach every pull pod; a missing secret is no hang', async () => {
    await ics.create(ns, 'ic-secret', { cacheSpec: [{ images: ['registry.example/private:1'], nodeSelector: sel }], imagePullSecrets: [{ name: 'myregistrykey' }] });
    await ics.waitFinal(ns, 'ic-secret', 'ImageCacheCreate');
    for (const j of await jobsOf('ic-secret')) {
      expect(j.spec!.template.spec!.imagePullSecrets).to.deep.equal([{ name: 'myregistrykey' }]);
    }
  });

  it('pull pods pass Pod Security "restricted" (enforced namespace)', async () => {
    const restricted = await createNamespace(core, 'kf-psa', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    try {
      await ics.create(restricted, 'ic-psa', { cacheSpec: [{ images: ['registry.example/app:1'], nodeSelector: sel }] });
      const c = await ics.waitFinal(restricted, 'ic-psa', 'ImageCacheCreate');
      expect(c.status!.status).to.equal('Succeeded');
      const pods = await core.listNamespacedPod({ namespace: restricted, labelSelector: 'imagecache=ic-psa' });
      expect(pods.items).to.have.length(3);
      // the namespace really enforces "restricted": a hostPath pod is refused
      const refused = await core.createNamespacedPod({ namespace: restricted, body: { metadata: { name: 'hostpath' }, spec: {
        containers: [{ name: 'c', image: 'registry.example/x:1' }], volumes: [{ name: 'h', hostPath: { path: '/run' } }] } } })
        .then(() => 'admitted', (e: { code?: number }) => e.code);
      expect(refused).to.equal(403);
    } finally {
      await deleteNamespace(core, restricted);
    }
  });

  it('deleting an ImageCache garbage-collects its Jobs', async () => {
    await ics.create(ns, 'ic-gc', { cacheSpec: [{ images: ['registry.example/app:1'], nodeSelector: sel }] });
    await ics.waitFinal(ns, 'ic-gc', 'ImageCacheCreate');
    expect(await jobsOf('ic-gc')).to.have.length(3);
    await ics.delete(ns, 'ic-gc');
    await eventually('jobs garbage-collected', async () => (await jobsOf('ic-gc')).length === 0, 60_000, 500);
  });
});
