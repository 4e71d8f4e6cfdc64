// Images that follow workloads (--workload-images) on the real API server: a Deployment's image change
// moves the cache to the new image, and the old one is deleted from the nodes after the grace period,
// unless another matching workload still uses it.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, uniqueName } from '../../support/cluster.js';
import { fakeNode } from '../../support/nodes.js';
import { ControllerProcess, serviceAccountKubeconfig } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { grantClusterRules } from '../../support/suite.js';

describe('ImageCache controller: images that follow workloads', function () {
  this.timeout(240_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('wl');
  const node = `${suite}-n`;
  const role = `kf-wl-${suite}`;
  let ns: string;
  let sa: { file: string; cleanup: () => Promise<void> };
  let ctrl: ControllerProcess;
  let revoke: (() => Promise<void>) | undefined;

  const deployment = (name: string, image: string, labels: Record<string, string>): k8s.V1Deployment => ({
    metadata: { name, labels },
    // replicas 0: nothing is scheduled, only the pod template is read
    spec: { replicas: 0, selector: { matchLabels: { wl: name } }, template: { metadata: { labels: { wl: name } }, spec: { containers: [{ name: 'app', image }], initContainers: [{ name: 'init', image: 'registry.example/init:1' }] } } },
  });
  const setImage = (name: string, image: string) =>
    apps.patchNamespacedDeployment({ name, namespace: ns, body: { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch));
  const deleted = async (image: string) => (await batch.listNamespacedJob({ namespace: ns, labelSelector: 'imagecache=shop,kubefledged.io/action=delete' })).items
    .some((j) => j.spec!.template.spec!.containers.some((c) => (c.args ?? []).includes(image)));

  before(async () => {
    await ensureCrd();
    ns = await createNamespace(core, 'kf-wl');
    await core.createNode({ body: fakeNode(node, { labels: { 'kf-wl': suite } }) });
    sa = await serviceAccountKubeconfig(kc, ns);
    // what the chart adds with controller.workloadImages.enabled: read access to the workloads
    revoke = await grantClusterRules(kc, role, [
      { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: ['list', 'watch'] },
      { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['list', 'watch'] },
    ], ns);
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', 'registry.example/web:1', { app: 'shop' }) });
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('blog', 'registry.example/blog:1', { app: 'blog' }) });
    ctrl = new ControllerProcess(sa.file, ['-v=4', '--leader-elect=false', '--image-cache-refresh-frequency=0s', '--image-pull-deadline-duration=30s',
      '--job-retention-policy=retain', '--workload-images', '--workload-image-grace=8s'], { KUBEFLEDGED_NAMESPACE: ns }).start();
  });

  after(async function () {
    if (this.currentTest?.state === 'failed' || process.env.KF_TEST_LOGS) console.log(ctrl?.dump());
    await ctrl?.stop();
    await sa?.cleanup();
    await revoke?.();
    await deleteNamespace(core, ns);
    await core.deleteNode({ name: node }).catch(() => undefined);
  });

  it('caches the images (containers and init containers) of the matching Deployments', async () => {
    await ics.create(ns, 'shop', { cacheSpec: [{ images: [], nodeSelector: { 'kf-wl': suite }, workloadSelector: { matchLabels: { app: 'shop' } } }] });
    const c = await ics.waitFinal(ns, 'shop', 'ImageCacheCreate');
    expect(c.status!.status).to.equal('Succeeded');
    expect(c.status!.lastAppliedSpec!.cacheSpec[0]!.images).to.deep.equal(['registry.example/init:1', 'registry.example/web:1']);
  });

  it('an image change pulls the new image; the old one is deleted after the grace period', async () => {
    const t = new Date();
    await setImage('web', 'registry.example/web:2');
    const up = await ics.waitFinal(ns, 'shop', 'ImageCacheUpdate', { notBefore: t, timeoutMs: 60_000 });
    expect(up.status!.lastAppliedSpec!.cacheSpec[0]!.images).to.include.members(['registry.example/web:2', 'registry.example/web:1']);
    expect((await ics.get(ns, 'shop')).status!.retiringImages!.map((r) => r.image)).to.deep.equal(['registry.example/web:1']);
    expect(await deleted('registry.example/web:1')).to.equal(false); // not yet: grace
    await eventually('web:1 deleted after the grace', async () => deleted('registry.example/web:1'), 60_000, 500);
    const done = await eventually('final', async () => { const x = await ics.get(ns, 'shop'); return x.status?.status !== 'Processing' && !(x.status!.retiringImages ?? []).length ? x : undefined; }, 60_000);
    expect(done.status!.lastAppliedSpec!.cacheSpec[0]!.images.sort()).to.deep.equal(['registry.example/init:1', 'registry.example/web:2']);
  });

  it('an image another matching workload still uses is not deleted', async () => {
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('web-canary', 'registry.example/web:2', { app: 'shop' }) });
    const t = new Date();
    await setImage('web', 'registry.example/web:3');
    await ics.waitFinal(ns, 'shop', 'ImageCacheUpdate', { notBefore: t, timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 12_000)); // past the grace
    expect(await deleted('registry.example/web:2')).to.equal(false);
    const c = await ics.get(ns, 'shop');
    expect(c.status!.lastAppliedSpec!.cacheSpec[0]!.images.sort()).to.deep.equal(['registry.example/init:1', 'registry.example/web:2', 'registry.example/web:3']);
  });
});
