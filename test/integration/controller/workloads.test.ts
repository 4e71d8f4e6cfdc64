// Images that follow workloads (--workload-images) on the real API server: a Deployment's image change
// moves the cache to the new image, and the old one is deleted from the nodes after the grace period,
// unless another matching workload still uses it; StatefulSets, DaemonSets and CronJobs (its jobTemplate)
// are followed the same way, and a deleted workload's images are retired after the grace.
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
  /** Whether a delete Job of the cache has removed the image from the nodes (the Jobs are retained). */
  const deleted = async (image: string, cache = 'shop') => (await batch.listNamespacedJob({ namespace: ns, labelSelector: `imagecache=${cache},kubefledged.io/action=delete` })).items
    .some((j) => j.spec!.template.spec!.containers.some((c) => (c.args ?? []).includes(image)));
  /** The images the cache's last operation left on the nodes, sorted. */
  const applied = async (cache: string) => [...(await ics.get(ns, cache)).status!.lastAppliedSpec!.cacheSpec[0]!.images].sort();
  /** A pod spec with one container and one init container. */
  const podSpec = (image: string, init: string): k8s.V1PodSpec => ({ containers: [{ name: 'app', image }], initContainers: [{ name: 'init', image: init }] });

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
      '--job-retention-policy=retain', '--workload-images', '--workload-image-grace=6s'], { KUBEFLEDGED_NAMESPACE: ns }).start();
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
    await new Promise((r) => setTimeout(r, 9_000)); // past the grace
    expect(await deleted('registry.example/web:2')).to.equal(false);
    const c = await ics.get(ns, 'shop');
    expect(c.status!.lastAppliedSpec!.cacheSpec[0]!.images.sort()).to.deep.equal(['registry.example/init:1', 'registry.example/web:2', 'registry.example/web:3']);
  });

  describe('StatefulSets, DaemonSets and CronJobs', () => {
    const kinds = { app: 'kinds' };
    before(async () => {
      // none of them runs a pod: no replicas, a node selector no node has, a suspended schedule
      await apps.createNamespacedStatefulSet({ namespace: ns, body: {
        metadata: { name: 'db', labels: kinds },
        spec: { replicas: 0, serviceName: 'db', selector: { matchLabels: { wl: 'db' } }, template: { metadata: { labels: { wl: 'db' } }, spec: podSpec('registry.example/db:1', 'registry.example/db-init:1') } },
      } });
      await apps.createNamespacedDaemonSet({ namespace: ns, body: {
        metadata: { name: 'agent', labels: kinds },
        spec: { selector: { matchLabels: { wl: 'agent' } }, template: { metadata: { labels: { wl: 'agent' } }, spec: { ...podSpec('registry.example/agent:1', 'registry.example/agent-init:1'), nodeSelector: { 'kf-wl-none': 'true' } } } },
      } });
      await batch.createNamespacedCronJob({ namespace: ns, body: {
        metadata: { name: 'report', labels: kinds },
        spec: { schedule: '0 0 1 1 *', suspend: true, jobTemplate: { spec: { template: { spec: { ...podSpec('registry.example/report:1', 'registry.example/report-init:1'), restartPolicy: 'Never' } } } } },
      } });
    });

    it('caches the images of each kind: containers and init containers, the CronJob\'s from its jobTemplate', async () => {
      await ics.create(ns, 'kinds', { cacheSpec: [{ images: [], nodeSelector: { 'kf-wl': suite }, workloadSelector: { matchLabels: kinds } }] });
      expect((await ics.waitFinal(ns, 'kinds', 'ImageCacheCreate')).status!.status).to.equal('Succeeded');
      expect(await applied('kinds')).to.deep.equal([
        'registry.example/agent-init:1', 'registry.example/agent:1', 'registry.example/db-init:1', 'registry.example/db:1',
        'registry.example/report-init:1', 'registry.example/report:1',
      ]);
    });

    it('a CronJob\'s image change and a deleted DaemonSet: the new image is pulled, the old ones deleted after the grace', async () => {
      const t = new Date();
      await batch.patchNamespacedCronJob({ name: 'report', namespace: ns, body: { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/report:2' }] } } } } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch));
      await apps.deleteNamespacedDaemonSet({ name: 'agent', namespace: ns });
      const gone = ['registry.example/agent-init:1', 'registry.example/agent:1', 'registry.example/report:1'];
      // the new image is pulled at once; the images no workload uses any more stay for the grace
      await eventually('report:2 pulled, three images retiring', async () => {
        const c = await ics.get(ns, 'kinds');
        const retiring = (c.status?.retiringImages ?? []).map((r) => r.image).sort();
        return c.status?.status === 'Succeeded' && Date.parse(c.status.startTime) >= t.getTime() - 1000
          && (c.status.lastAppliedSpec?.cacheSpec[0]?.images ?? []).includes('registry.example/report:2') && retiring.join() === gone.join();
      }, 60_000, 250);
      for (const image of gone) expect(await deleted(image, 'kinds'), `${image} not yet deleted (grace)`).to.equal(false);
      const retired = Date.now();
      await eventually('the retired images deleted after the grace', async () => (await Promise.all(gone.map((i) => deleted(i, 'kinds')))).every(Boolean), 60_000, 500);
      console.log(`      deleted ${((Date.now() - retired) / 1000).toFixed(1)} s after they were retired (grace 6 s)`);
      await eventually('the cache settled', async () => {
        const c = await ics.get(ns, 'kinds');
        return c.status?.status === 'Succeeded' && !(c.status.retiringImages ?? []).length;
      }, 60_000, 250);
      expect(await applied('kinds')).to.deep.equal(['registry.example/db-init:1', 'registry.example/db:1', 'registry.example/report-init:1', 'registry.example/report:2']);
      expect(await deleted('registry.example/db:1', 'kinds')).to.equal(false);
    });
  });
});
