// Throttling that spares nodes and registries, measured on the API server (a watch on the Jobs), not
// from the controller's memory: pull Jobs running at once per node and per registry host never exceed
// --max-pull-pods-per-node and --max-pulls-per-registry.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, uniqueName } from '../../support/cluster.js';
import { ControllerProcess, serviceAccountKubeconfig } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { createReadyNodes } from '../../support/suite.js';

describe('ImageCache controller: throttling per node and per registry', function () {
  this.timeout(300_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('th');
  const nodes = [`${suite}-a`, `${suite}-b`, `${suite}-c`];
  let ns: string;
  let sa: { file: string; cleanup: () => Promise<void> };
  let ctrl: ControllerProcess | undefined;

  before(async () => {
    await ensureCrd();
    ns = await createNamespace(core, 'kf-th');
    await createReadyNodes(core, nodes.map((n, i) => [n, { labels: { 'kf-th': suite, ...(i > 0 ? { 'kf-th-b': suite } : {}) } }]));
    sa = await serviceAccountKubeconfig(kc, ns);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' || process.env.KF_TEST_LOGS) console.log(ctrl?.dump());
    await ctrl?.stop();
  });
  after(async () => {
    await sa?.cleanup();
    await deleteNamespace(core, ns);
    for (const n of nodes) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  /**
   * Watches the cache's pull pods; at every change, counts the pulls in progress per node and per registry
   * host. A pull is in progress from the pod's creation until its container runs or ends (the image is
   * then on the node), or the pod is gone.
   */
  async function watchConcurrency(cache: string, labelSelector = `imagecache=${cache}`) {
    const pulling = new Map<string, { node: string; registries: string[] }>();
    const peak = { node: 0, registry: 0, pods: 0 };
    const seen = new Set<string>();
    const w = new k8s.Watch(kc);
    const req = await w.watch(`/api/v1/namespaces/${ns}/pods`, { labelSelector }, (type, pod: k8s.V1Pod) => {
      const name = pod.metadata!.name!;
      seen.add(name);
      const waiting = pod.spec!.containers.filter((c) => {
        const cs = pod.status?.containerStatuses?.find((x) => x.name === c.name);
        return !cs?.state?.running && !cs?.state?.terminated;
      });
      const phase = pod.status?.phase;
      if (type === 'DELETED' || phase === 'Succeeded' || phase === 'Failed' || waiting.length === 0) pulling.delete(name);
      else pulling.set(name, { node: pod.spec!.nodeSelector!['kubernetes.io/hostname']!, registries: waiting.map((c) => c.image!.split('/')[0]!) });
      const perNode = new Map<string, number>();
      const perReg = new Map<string, number>();
      for (const r of pulling.values()) {
        perNode.set(r.node, (perNode.get(r.node) ?? 0) + 1);
        for (const g of r.registries) perReg.set(g, (perReg.get(g) ?? 0) + 1);
      }
      peak.node = Math.max(peak.node, ...perNode.values(), 0);
      peak.registry = Math.max(peak.registry, ...perReg.values(), 0);
      peak.pods = seen.size;
    }, () => undefined);
    return { peak, stop: () => req.abort() };
  }

  it('--max-pull-pods-per-node=1 and --max-pulls-per-registry=2: one pull pod per node, two pulls per registry, all caches', async () => {
    ctrl = new ControllerProcess(sa.file, ['-v=4', '--leader-elect=false', '--image-cache-refresh-frequency=0s', '--image-pull-deadline-duration=90s',
      '--job-retention-policy=retain', '--max-images-per-job=1', '--max-pull-pods-per-node=1', '--max-pulls-per-registry=2'], { KUBEFLEDGED_NAMESPACE: ns }).start();
    const perNode = await watchConcurrency('per-node');
    const perReg = await watchConcurrency('per-reg');
    const all = await watchConcurrency('per-node,per-reg', 'imagecache in (per-node,per-reg)');
    try {
      // two images for one node (one Job each: the node takes them one at a time) ...
      await ics.create(ns, 'per-node', { cacheSpec: [{ images: ['slow.invalid/a:1', 'slow.invalid/b:1'], nodeSelector: { 'kubernetes.io/hostname': nodes[0]! } }] });
      // ... and one image for the other two nodes, from the same registry
      await ics.create(ns, 'per-reg', { cacheSpec: [{ images: ['slow.invalid/big:1'], nodeSelector: { 'kf-th-b': suite } }] });
      for (const c of ['per-node', 'per-reg']) expect((await ics.waitFinal(ns, c, 'ImageCacheCreate', { timeoutMs: 150_000 })).status!.status, c).to.equal('Succeeded');
    } finally { perNode.stop(); perReg.stop(); all.stop(); }
    expect(perNode.peak.pods).to.equal(2);
    expect(perNode.peak.node).to.equal(1);
    expect(perReg.peak.pods).to.equal(2);
    expect(all.peak.registry, 'pulls from slow.invalid at once, over both caches').to.equal(2);
    expect(all.peak.node).to.equal(1);
  });
});
