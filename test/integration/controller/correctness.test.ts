// Every operation finishes, on time, and its status tells the truth (issue 10's defects, each reproduced on
// the real API server with kwok nodes; each of these failed on the controller before the fix).
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, uniqueName } from '../../support/cluster.js';
import { fakeNode } from '../../support/nodes.js';
import { ControllerProcess, serviceAccountKubeconfig } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { createReadyNodes } from '../../support/suite.js';
import { Message } from '../../../src/api/constants.js';
import { ImageCacheApi } from '../../../src/kube/imagecache-api.js';
import { StatusConflict, StatusWriter } from '../../../src/status/status-writer.js';

describe('ImageCache controller: every operation finishes on time with a true status', function () {
  this.timeout(300_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('ok');
  const sel = { 'kf-suite': suite };
  const nodes = [`${suite}-a`, `${suite}-b`];
  const extra: string[] = [];
  let ns: string;
  let sa: { file: string; cleanup: () => Promise<void> };
  const procs: ControllerProcess[] = [];
  const controller = (args: string[], env: Record<string, string> = {}) => {
    const p = new ControllerProcess(sa.file, ['-v=4', '--leader-elect=false', '--image-cache-refresh-frequency=0s', ...args], { KUBEFLEDGED_NAMESPACE: ns, ...env }).start();
    procs.push(p);
    return p;
  };
  const jobsOf = async (namespace: string, name: string) =>
    (await batch.listNamespacedJob({ namespace, labelSelector: `app=kubefledged,imagecache=${name}` })).items;
  const addNode = async (name: string, opts: Parameters<typeof fakeNode>[1] = {}) => {
    extra.push(name);
    await core.createNode({ body: fakeNode(name, opts) });
  };
  const seconds = (c: { status?: { startTime: string; completionTime?: string } }) =>
    (new Date(c.status!.completionTime!).getTime() - new Date(c.status!.startTime).getTime()) / 1000;

  before(async () => {
    await ensureCrd();
    ns = await createNamespace(core, 'kf-ok');
    await createReadyNodes(core, nodes.map((n) => [n, { labels: sel }]));
    sa = await serviceAccountKubeconfig(kc, ns);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' || process.env.KF_TEST_LOGS) for (const p of procs) console.log(p.dump());
    for (const p of procs.splice(0)) await p.stop();
  });

  after(async () => {
    await sa?.cleanup();
    await deleteNamespace(core, ns);
    for (const n of [...nodes, ...extra]) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  it('--jobs-max-surge=1 with 3 images at 2 per Job: both Jobs run, the cache Succeeds (no name clash)', async () => {
    controller(['--jobs-max-surge=1', '--max-images-per-job=2', '--image-pull-deadline-duration=60s', '--job-retention-policy=retain']);
    await ics.create(ns, 'surge', { cacheSpec: [{ images: ['registry.example/a:1', 'registry.example/b:1', 'registry.example/c:1'], nodeSelector: { 'kubernetes.io/hostname': nodes[0]! } }] });
    const c = await ics.waitFinal(ns, 'surge', 'ImageCacheCreate', { timeoutMs: 60_000 });
    expect(c.status).to.include({ status: 'Succeeded', message: Message.ImagesPulledSuccessfully });
    const jobs = await jobsOf(ns, 'surge');
    expect(jobs.map((j) => j.spec!.template.spec!.containers.length).sort()).to.deep.equal([1, 2]);
  });

  it('an image that drops out of node.status.images mid-operation (image GC) is pulled by a Job of its own', async () => {
    const n = `${suite}-gc`;
    await addNode(n, { labels: { gc: 'yes' }, images: ['registry.example/present:1'] });
    controller(['--image-pull-deadline-duration=60s', '--job-retention-policy=retain']);
    await ics.create(ns, 'gc', { cacheSpec: [{ images: ['slow.invalid/app:1', 'registry.example/present:1'], nodeSelector: { gc: 'yes' } }] });
    await eventually('the slow pull Job', async () => (await jobsOf(ns, 'gc')).length === 1, 30_000, 100);
    // the kubelet's image GC removes the image the plan counted as present
    await core.patchNodeStatus({ name: n, body: { status: { images: [] } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const c = await ics.waitFinal(ns, 'gc', 'ImageCacheCreate', { timeoutMs: 60_000 });
    expect(c.status!.status).to.equal('Succeeded');
    const images = (await jobsOf(ns, 'gc')).flatMap((j) => j.spec!.template.spec!.containers.map((x) => x.image)).sort();
    expect(images).to.deep.equal(['registry.example/present:1', 'slow.invalid/app:1']);
  });

  it('a node labelled into the selector mid-operation gets its images; the cache finishes', async () => {
    controller(['--image-pull-deadline-duration=60s', '--job-retention-policy=retain']);
    const late = `${suite}-late`;
    const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    await addNode(late, { labels: { other: suite } });
    await core.patchNode({ name: nodes[1]!, body: { metadata: { labels: { latesel: 'yes' } } } }, merge);
    await ics.create(ns, 'late', { cacheSpec: [{ images: ['slow.invalid/web:1'], nodeSelector: { latesel: 'yes' } }] });
    await eventually('Processing', async () => (await ics.get(ns, 'late')).status?.status === 'Processing', 30_000, 100);
    await core.patchNode({ name: late, body: { metadata: { labels: { latesel: 'yes' } } } }, merge);
    const c = await ics.waitFinal(ns, 'late', 'ImageCacheCreate', { timeoutMs: 90_000 });
    expect(c.status!.status).to.equal('Succeeded');
    const hosts = new Set((await jobsOf(ns, 'late')).map((j) => j.spec!.template.spec!.nodeSelector!['kubernetes.io/hostname']));
    expect(hosts.has(late)).to.equal(true);
  });

  it('one node that never runs pods fails at the start deadline for that node only; the cache is not held hostage', async () => {
    const bad = `${suite}-norun`;
    await addNode(bad, { labels: { hostage: 'yes' } });
    await core.patchNode({ name: nodes[0]!, body: { metadata: { labels: { hostage: 'yes' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    controller(['--image-pull-deadline-duration=120s', '--pod-start-deadline-duration=5s']);
    await ics.create(ns, 'hostage', { cacheSpec: [{ images: ['registry.example/app:1'], nodeSelector: { hostage: 'yes' } }] });
    const c = await ics.waitFinal(ns, 'hostage', 'ImageCacheCreate', { timeoutMs: 60_000 });
    expect(c.status).to.include({ status: 'Failed', message: Message.ImagePullFailedForSomeImages });
    expect(c.status!.failures!['registry.example/app:1']).to.deep.equal([{ node: bad, reason: 'Pending', message: 'Check if node is ready' }]);
    expect(c.status!.counts).to.include({ desired: 2, succeeded: 1, failed: 1 });
    expect(seconds(c)).to.be.below(40); // not the 120 s pull deadline
  });

  it('a no-op update (images reordered) ends Succeeded with a true message, not "did not match any nodes"', async () => {
    controller(['--image-pull-deadline-duration=30s']);
    await ics.create(ns, 'noop', { cacheSpec: [{ images: ['registry.example/a:1', 'registry.example/b:1'], nodeSelector: sel }] });
    await ics.waitFinal(ns, 'noop', 'ImageCacheCreate');
    const t = new Date();
    await ics.setImages(ns, 'noop', [{ images: ['registry.example/b:1', 'registry.example/a:1'], nodeSelector: sel }]);
    const c = await ics.waitFinal(ns, 'noop', 'ImageCacheUpdate', { notBefore: t });
    expect(c.status).to.include({ status: 'Succeeded', message: Message.ImagesPulledSuccessfully });
    expect(c.status!.counts).to.include({ desired: 4, succeeded: 4 });
    const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=noop' });
    expect(events.items.some((e) => e.message === Message.NoImagesPulledOrDeleted)).to.equal(false);
  });

  it('an update keeps the earlier failures it does not touch: the status describes the whole cache', async () => {
    controller(['--image-pull-deadline-duration=6s']);
    await ics.create(ns, 'keep', { cacheSpec: [{ images: ['fail.invalid/bad:1', 'registry.example/ok:1'], nodeSelector: sel }] });
    const first = await ics.waitFinal(ns, 'keep', 'ImageCacheCreate');
    expect(first.status!.status).to.equal('Failed');
    const t = new Date();
    await ics.setImages(ns, 'keep', [{ images: ['fail.invalid/bad:1', 'registry.example/ok:1', 'registry.example/new:1'], nodeSelector: sel }]);
    const c = await ics.waitFinal(ns, 'keep', 'ImageCacheUpdate', { notBefore: t });
    expect(c.status).to.include({ status: 'Failed', message: Message.ImagePullFailedForSomeImages });
    expect(Object.keys(c.status!.failures!)).to.deep.equal(['fail.invalid/bad:1']);
    expect(c.status!.failures!['fail.invalid/bad:1']!.map((f) => f.node)).to.deep.equal([...nodes].sort());
    expect(c.status!.counts).to.deep.equal({ desired: 6, succeeded: 4, failed: 2, pending: 0 });
  });

  it('a refresh and a purge annotated together end purged: both annotations consumed, nothing pulled back', async () => {
    controller(['--image-pull-deadline-duration=30s']);
    await ics.create(ns, 'both', { cacheSpec: [{ images: ['registry.example/a:1'], nodeSelector: sel }] });
    await ics.waitFinal(ns, 'both', 'ImageCacheCreate');
    const t = new Date();
    await ics.patch(ns, 'both', { metadata: { annotations: { 'kubefledged.io/refresh-imagecache': '', 'kubefledged.io/purge-imagecache': '' } } });
    const c = await ics.waitFinal(ns, 'both', 'ImageCachePurge', { notBefore: t });
    expect(c.status).to.include({ status: 'Succeeded', message: Message.ImagesDeletedSuccessfully });
    expect(c.metadata.annotations ?? {}).to.not.have.any.keys('kubefledged.io/refresh-imagecache', 'kubefledged.io/purge-imagecache');
    await new Promise((r) => setTimeout(r, 4000));
    expect((await ics.get(ns, 'both')).status!.reason).to.equal('ImageCachePurge');
  });

  it('delete Jobs run in the controller namespace, so a purge works in a namespace enforcing Pod Security "restricted"', async () => {
    const restricted = await createNamespace(core, 'kf-psa', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    try {
      controller(['--image-pull-deadline-duration=60s', '--job-retention-policy=retain']);
      await ics.create(restricted, 'psa', { cacheSpec: [{ images: ['registry.example/a:1'], nodeSelector: sel }] });
      await ics.waitFinal(restricted, 'psa', 'ImageCacheCreate');
      const t = new Date();
      await ics.annotate(restricted, 'psa', 'kubefledged.io/purge-imagecache');
      const c = await ics.waitFinal(restricted, 'psa', 'ImageCachePurge', { notBefore: t, timeoutMs: 60_000 });
      expect(c.status).to.include({ status: 'Succeeded', message: Message.ImagesDeletedSuccessfully });
      const deletes = (await jobsOf(ns, 'psa')).filter((j) => j.metadata!.labels!['kubefledged.io/action'] === 'delete');
      expect(deletes).to.have.length(2);
      // the cache goes: its Jobs outside its namespace go too (no owner reference can reach them)
      await ics.delete(restricted, 'psa');
      await eventually('delete Jobs of the deleted cache gone', async () => (await jobsOf(ns, 'psa')).length === 0, 30_000);
    } finally {
      await deleteNamespace(core, restricted);
    }
  });

  it('a Job whose pods Pod Security forbids fails within seconds with the FailedCreate reason', async () => {
    const baseline = await createNamespace(core, 'kf-base', { 'pod-security.kubernetes.io/enforce': 'baseline' });
    try {
      // the controller's namespace enforces baseline: its delete pods (hostPath socket) are refused
      controller(['--image-pull-deadline-duration=120s'], { KUBEFLEDGED_NAMESPACE: baseline });
      await ics.create(ns, 'forbidden', { cacheSpec: [{ images: ['registry.example/a:1'], nodeSelector: sel }] });
      await ics.waitFinal(ns, 'forbidden', 'ImageCacheCreate');
      const t = new Date();
      await ics.annotate(ns, 'forbidden', 'kubefledged.io/purge-imagecache');
      const c = await ics.waitFinal(ns, 'forbidden', 'ImageCachePurge', { notBefore: t, timeoutMs: 60_000 });
      expect(c.status).to.include({ status: 'Failed', message: Message.ImageDeleteFailedForSomeImages });
      const f = c.status!.failures!['registry.example/a:1']!;
      expect(f).to.have.length(2);
      for (const x of f) {
        expect(x.reason).to.equal('FailedCreate');
        expect(x.message).to.contain('PodSecurity');
      }
      expect(seconds(c)).to.be.below(30);
    } finally {
      await deleteNamespace(core, baseline);
    }
  });

  it('status writes are conditional: a write from a stale read is refused (409) and nothing is overwritten', async () => {
    const api = new ImageCacheApi(kc);
    const writer = new StatusWriter(api);
    const created = await ics.create(ns, 'rv', { cacheSpec: [{ images: ['registry.example/a:1'], nodeSelector: { none: 'x' } }] });
    const fresh = await writer.write(created, { status: 'Succeeded', reason: 'ImageCacheCreate', message: 'first', startTime: new Date().toISOString() });
    let err: unknown;
    try {
      await writer.write(created, { status: 'Failed', reason: 'ImageCacheCreate', message: 'stale', startTime: new Date().toISOString() });
    } catch (e) { err = e; }
    expect(err).to.be.instanceOf(StatusConflict);
    expect((await ics.get(ns, 'rv')).status!.message).to.equal('first');
    await writer.update(fresh, { counts: { desired: 1, succeeded: 1, failed: 0, pending: 0 } });
    let err2: unknown;
    try { await writer.update(fresh, { counts: { desired: 9, succeeded: 0, failed: 9, pending: 0 } }); } catch (e) { err2 = e; }
    expect(err2).to.be.instanceOf(StatusConflict);
    expect((await ics.get(ns, 'rv')).status!.counts!.desired).to.equal(1);
  });

  it('pull Secrets: a Warning condition says what they expose; a Secret the kubelet cannot find is reported in status', async () => {
    controller(['--image-pull-deadline-duration=60s', '--job-retention-policy=retain']);
    await ics.create(ns, 'secret', { cacheSpec: [{ images: ['slow.invalid/private:1'], nodeSelector: { 'kubernetes.io/hostname': nodes[0]! } }], imagePullSecrets: [{ name: 'regcred' }] });
    const pod = await eventually('the pull pod', async () =>
      (await core.listNamespacedPod({ namespace: ns, labelSelector: 'imagecache=secret' })).items[0], 30_000, 200);
    // kwok runs no kubelet: post the Event a kubelet posts when a pod's pull Secret does not exist
    const now = new Date();
    await core.createNamespacedEvent({ namespace: ns, body: {
      metadata: { generateName: `${pod.metadata!.name}.` },
      involvedObject: { kind: 'Pod', name: pod.metadata!.name, namespace: ns, uid: pod.metadata!.uid, apiVersion: 'v1' },
      type: 'Warning', reason: 'FailedToRetrieveImagePullSecret',
      message: 'Unable to retrieve some image pull secrets (regcred); attempting to pull the image may not succeed.',
      source: { component: 'kubelet', host: nodes[0] }, firstTimestamp: now, lastTimestamp: now, count: 1,
    } });
    const c = await ics.waitFinal(ns, 'secret', 'ImageCacheCreate', { timeoutMs: 60_000 });
    const conds = c.status!.conditions!;
    expect(conds.find((x) => x.type === 'PullSecretsExposeImages')).to.include({ status: 'True', reason: 'ImagesPulledWithSecrets' });
    const found = conds.find((x) => x.type === 'PullSecretsFound')!;
    expect(found).to.include({ status: 'False', reason: 'SecretNotFound' });
    expect(found.message).to.contain('Unable to retrieve some image pull secrets (regcred)');
    expect(found.message).to.contain(`create the Secret in namespace ${ns}`);
    const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=secret' });
    expect(events.items.filter((e) => e.type === 'Warning').map((e) => e.reason).sort()).to.deep.equal(['ImagesPulledWithSecrets', 'SecretNotFound']);
  });
});
