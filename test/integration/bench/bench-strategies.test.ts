// The bench's references on the real control plane (no audit log needed): the floor re-creates Jobs and
// sees their images pulled; the original's strategy makes one Job per (image, node) through its 5/s
// client, deletes them all and writes the final status; the apiserver's counter sees the creates.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, uniqueName } from '../../support/cluster.js';
import { ensureCrd, ImageCaches } from '../../support/imagecaches.js';
import { createReadyNodes } from '../../support/suite.js';
import { chartIdentity } from '../../../bench/support/bench-controller.js';
import { runFloor } from '../../../bench/strategies/floor.js';
import { OriginalStrategy } from '../../../bench/strategies/original.js';
import { NamespaceObserver } from '../../../bench/support/namespace-observer.js';
import { deltaCounts, scrapeRequestTotals } from '../../../bench/support/apiserver-metrics.js';

describe('bench references on the local cluster', function () {
  this.timeout(180_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const suite = uniqueName('kfbt');
  const nodes = [`${suite}-a`, `${suite}-b`, `${suite}-c`];
  const sel = { 'kf-bench-test': suite };
  const images = ['registry.example/bench-test-a:1', 'registry.example/bench-test-b:1'];

  before(async () => {
    await ensureCrd();
    await createReadyNodes(core, nodes.map((n) => [n, { labels: sel }]));
  });

  after(async () => {
    for (const n of nodes) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  it('the floor creates the Jobs it is given and resolves once every pod has its images; the apiserver counts the creates', async () => {
    const ns = await createNamespace(core, 'kfbt-floor');
    try {
      const templates: k8s.V1Job[] = nodes.map((node) => ({
        metadata: { name: `x-${node}`, labels: { app: 'kubefledged' } },
        spec: { backoffLimit: 0, template: { spec: { nodeName: node, restartPolicy: 'Never', containers: images.map((image, i) => ({ name: `c${i}`, image })) } } },
      }));
      const before = await scrapeRequestTotals(kc);
      const r = await runFloor(kc, ns, templates, 2, 120_000);
      const d = deltaCounts(before, await scrapeRequestTotals(kc));
      expect(r).to.include({ jobs: 3, failed: 0 });
      expect(r.timeline.lastJobSeconds).to.be.at.most(r.seconds);
      expect(d.get('POST jobs') ?? 0).to.be.at.least(3);
      const jobs = (await batch.listNamespacedJob({ namespace: ns })).items;
      expect(jobs.map((j) => j.metadata!.name).sort()).to.deep.equal(['floor-0', 'floor-1', 'floor-2']);
      expect(jobs.every((j) => j.metadata!.labels!['kf-bench'] === 'floor' && !j.metadata!.labels!.app)).to.equal(true);
    } finally {
      await deleteNamespace(core, ns);
    }
  });

  it('the original\'s strategy: one Job per (image, node) at its client\'s pace, all deleted before the final status', async () => {
    const ns = await createNamespace(core, 'kfbt-orig');
    const id = await chartIdentity(kc, ns);
    const observer = await new NamespaceObserver(kc, ns).start();
    const saKc = new k8s.KubeConfig();
    saKc.loadFromFile(id.kubeconfig);
    const original = new OriginalStrategy(saKc, ns, 120_000);
    try {
      await original.start();
      const ics = new ImageCaches(kc);
      const t0 = Date.now();
      await ics.create(ns, 'ic', { cacheSpec: [{ images, nodeSelector: sel }] });
      const r = await original.create('ic', t0);
      expect(r).to.include({ jobsCreated: 6, jobsDeleted: 6, status: 'Succeeded' });
      // 1 LIST (informer) + GET + PATCH + LIST nodes + 6 POST + 6 DELETE + GET + PATCH = 18 requests, 10 of them
      // in the burst: the other 8 wait 200 ms each at 5/s
      expect(r.seconds).to.be.at.least(1.5);
      expect(observer.jobUids.size).to.equal(6);
      expect(observer.jobs.every((j) => j.spec!.template.spec!.containers.length === 1)).to.equal(true);
      expect((await batch.listNamespacedJob({ namespace: ns })).items.filter((j) => !j.metadata!.deletionTimestamp)).to.have.length(0);
      const ic = await ics.get(ns, 'ic');
      expect(ic.status).to.include({ status: 'Succeeded', reason: 'ImageCacheCreate' });
    } finally {
      original.stop();
      observer.stop();
      await id.cleanup();
      await deleteNamespace(core, ns);
    }
  });
});
