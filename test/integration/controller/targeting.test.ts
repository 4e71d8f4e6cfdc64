// Targeting per cacheSpec entry on the real API server (kwok nodes): node affinity match expressions,
// tolerations, and cordoned / NotReady / other-platform nodes skipped and reported.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, uniqueName } from '../../support/cluster.js';
import { type FakeNodeOptions } from '../../support/nodes.js';
import { ControllerProcess, serviceAccountKubeconfig } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { createReadyNodes } from '../../support/suite.js';
import { Message } from '../../../src/api/constants.js';

describe('ImageCache controller: targeting (affinity, tolerations, skipped nodes)', function () {
  this.timeout(240_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('tg');
  const key = 'kf-tg';
  const n = (s: string) => `${suite}-${s}`;
  const nodes: [string, FakeNodeOptions][] = [
    [n('a'), { labels: { [key]: suite, zone: 'a', gpus: '8' } }],
    [n('b'), { labels: { [key]: suite, zone: 'b', gpus: '2' } }],
    [n('gpu'), { labels: { [key]: suite, zone: 'a' }, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] }],
    [n('cordoned'), { labels: { [key]: suite, zone: 'a' } }],
    [n('down'), { labels: { [key]: suite, zone: 'a' }, notReady: true }],
    [n('win'), { labels: { [key]: suite, zone: 'a', 'kubernetes.io/os': 'windows' } }],
  ];
  let ns: string;
  let sa: { file: string; cleanup: () => Promise<void> };
  let ctrl: ControllerProcess;
  const hostsOf = async (name: string) =>
    (await batch.listNamespacedJob({ namespace: ns, labelSelector: `imagecache=${name}` })).items
      .map((j) => j.spec!.template.spec!.nodeSelector!['kubernetes.io/hostname']).sort();

  before(async () => {
    await ensureCrd();
    ns = await createNamespace(core, 'kf-tg');
    await createReadyNodes(core, nodes);
    await core.patchNode({ name: n('cordoned'), body: { spec: { unschedulable: true } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    sa = await serviceAccountKubeconfig(kc, ns);
    ctrl = new ControllerProcess(sa.file, ['-v=4', '--leader-elect=false', '--image-cache-refresh-frequency=0s', '--image-pull-deadline-duration=30s', '--job-retention-policy=retain'], { KUBEFLEDGED_NAMESPACE: ns }).start();
  });

  after(async function () {
    if (this.currentTest?.state === 'failed' || process.env.KF_TEST_LOGS) console.log(ctrl?.dump());
    await ctrl?.stop();
    await sa?.cleanup();
    await deleteNamespace(core, ns);
    for (const [name] of nodes) await core.deleteNode({ name }).catch(() => undefined);
  });

  it('match expressions are honoured (ANDed with nodeSelector); cordoned, NotReady and Windows nodes are skipped and reported', async () => {
    await ics.create(ns, 'zone-a', { cacheSpec: [{
      images: ['registry.example/app:1'],
      nodeSelector: { [key]: suite },
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
    }] });
    const c = await ics.waitFinal(ns, 'zone-a', 'ImageCacheCreate');
    expect(c.status).to.include({ status: 'Succeeded', message: Message.ImagesPulledSuccessfully });
    // the gpu node's taint is tolerated by default (no tolerations = every taint, as the original)
    expect(await hostsOf('zone-a')).to.deep.equal([n('a'), n('gpu')].sort());
    expect(c.status!.skippedNodes).to.deep.equal([
      { reason: 'Cordoned', count: 1, nodes: [n('cordoned')] },
      { reason: 'NotReady', count: 1, nodes: [n('down')] },
      { reason: 'UnsupportedPlatform', count: 1, nodes: [n('win')] },
    ]);
    expect(c.status!.counts).to.include({ desired: 2, succeeded: 2, failed: 0 });
  });

  it('Gt on a numeric label, and tolerations: a node whose taint is not tolerated is skipped, a tolerated one gets a pod that tolerates it', async () => {
    await ics.create(ns, 'big', { cacheSpec: [{
      images: ['registry.example/app:1'],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpus', operator: 'Gt', values: ['4'] }, { key: key, operator: 'Exists' }] }] } } },
      tolerations: [],
    }] });
    const big = await ics.waitFinal(ns, 'big', 'ImageCacheCreate');
    expect(await hostsOf('big')).to.deep.equal([n('a')]);
    expect(big.status!.status).to.equal('Succeeded');

    await ics.create(ns, 'gpu', { cacheSpec: [{
      images: ['registry.example/cuda:1'],
      nodeSelector: { [key]: suite, zone: 'a' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    }] });
    const gpu = await ics.waitFinal(ns, 'gpu', 'ImageCacheCreate');
    expect(await hostsOf('gpu')).to.deep.equal([n('a'), n('gpu')].sort());
    const jobs = (await batch.listNamespacedJob({ namespace: ns, labelSelector: 'imagecache=gpu' })).items;
    for (const j of jobs) {
      expect(j.spec!.template.spec!.tolerations).to.deep.equal([
        { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, { key: 'kubefledged.io/warming', operator: 'Exists', effect: 'NoSchedule' },
      ]);
    }

    await ics.create(ns, 'strict', { cacheSpec: [{ images: ['registry.example/cuda:1'], nodeSelector: { [key]: suite, zone: 'a' }, tolerations: [] }] });
    const strict = await ics.waitFinal(ns, 'strict', 'ImageCacheCreate');
    expect(await hostsOf('strict')).to.deep.equal([n('a')]);
    expect(strict.status!.skippedNodes!.find((s) => s.reason === 'TaintNotTolerated')).to.deep.equal({ reason: 'TaintNotTolerated', count: 1, nodes: [n('gpu')] });
    expect(gpu.status!.status).to.equal('Succeeded');
  });

  it('a cache whose every selected node is skipped says so, not "did not match any nodes"; uncordoning a node caches onto it', async () => {
    await ics.create(ns, 'only-cordoned', { cacheSpec: [{ images: ['registry.example/app:1'], nodeSelector: { 'kubernetes.io/hostname': n('cordoned') } }] });
    const c = await ics.waitFinal(ns, 'only-cordoned', 'ImageCacheCreate');
    expect(c.status).to.include({ status: 'NoImagesPulledOrDeleted', message: Message.AllSelectedNodesSkipped });
    const t = new Date();
    await core.patchNode({ name: n('cordoned'), body: { spec: { unschedulable: false } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const after = await ics.waitFinal(ns, 'only-cordoned', 'ImageCacheRefresh', { notBefore: t, timeoutMs: 60_000 });
    expect(after.status).to.include({ status: 'Succeeded' });
    expect(await hostsOf('only-cordoned')).to.deep.equal([n('cordoned')]);
  });
});
