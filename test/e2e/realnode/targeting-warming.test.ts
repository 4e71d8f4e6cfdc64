// Node targeting and warm before work on the real node (make cluster-up REAL_NODES=1): a cacheSpec entry
// whose affinity (match expressions) and tolerations select the real node pulls its image into the
// node's containerd (read through CRI), while a kwok node that the match expression excludes gets no Job
// and a kwok node with a taint the entry does not tolerate is skipped and reported; the warming taint
// kubefledged.io/warming:NoSchedule put on the real node is removed once the image is in its containerd.
// The controller runs as a local process under the chart's RBAC; the node's labels and taints are restored.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, uniqueName } from '../../support/cluster.js';
import { ControllerProcess, serviceAccountKubeconfig } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { createReadyNodes, grantClusterRules } from '../../support/suite.js';
import { WARMING_TAINT_KEY } from '../../../src/api/constants.js';
import { nodeHasImage, pushTestImage, realNode, realNodeEnv, type RealNode } from './support/real-node.js';

const CACHE = 'targeted';

describe('real node (e2e): targeting by affinity and tolerations, and warm before work', function () {
  this.timeout(300_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('i14');
  const excluded = `${suite}-excluded`;
  const untolerated = `${suite}-tainted`;
  const role = `kf-i14-${suite}`;
  let node: RealNode;
  let image = '';
  let ns = '';
  let original: { labels: Record<string, string>; taints: k8s.V1Taint[] } | undefined;
  let sa: { file: string; cleanup: () => Promise<void> } | undefined;
  let revoke: (() => Promise<void>) | undefined;
  let ctrl: ControllerProcess | undefined;
  let started = 0;

  const taints = async () => (await core.readNode({ name: node.name })).spec?.taints ?? [];
  const patchNode = (body: object) => core.patchNode({ name: node.name, body }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));

  before(async function () {
    this.timeout(600_000);
    const env = realNodeEnv();
    node = realNode(env);
    await ensureCrd();
    // the pull Jobs' init container (BUSYBOX_IMAGE's default, through the node's docker.io mirror) and an
    // image of this run, absent from the node
    await pushTestImage(`${env.registry}/senthilrch/busybox:1.35.0`);
    image = await pushTestImage(`${env.registry}/kf-e2e/targeted:${suite}`, [256]);
    expect(await nodeHasImage(node, image), 'absent before').to.equal(false);
    ns = await createNamespace(core, 'kf-i14');
    // two kwok nodes with the same label as the real node: one the match expression excludes, one with a
    // taint the entry does not tolerate
    await createReadyNodes(core, [
      [excluded, { labels: { 'kf-i14': suite, 'kf-i14-exclude': 'true' } }],
      [untolerated, { labels: { 'kf-i14': suite }, taints: [{ key: 'kf-i14-dedicated', value: 'batch', effect: 'NoSchedule' }] }],
    ]);
    // the real node: the same label, and the warming taint as if it had just joined with it
    const n = await core.readNode({ name: node.name });
    original = { labels: { ...(n.metadata?.labels ?? {}) }, taints: [...(n.spec?.taints ?? [])] };
    await patchNode({ metadata: { labels: { 'kf-i14': suite } }, spec: { taints: [...original.taints, { key: WARMING_TAINT_KEY, value: 'true', effect: 'NoSchedule' }] } });
    // the cache exists before the controller starts: a tainted node no cache selects is lifted at once
    await ics.create(ns, CACHE, { cacheSpec: [{
      images: [image],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [
        { key: 'kf-i14', operator: 'In', values: [suite] },
        { key: 'kf-i14-exclude', operator: 'DoesNotExist' },
      ] }] } } },
      tolerations: [{ key: 'kf-i14-other', operator: 'Exists', effect: 'NoSchedule' }],
    }] });
    sa = await serviceAccountKubeconfig(kc, ns);
    // what the chart adds with controller.warming.enabled: patch on nodes
    revoke = await grantClusterRules(kc, role, [{ apiGroups: [''], resources: ['nodes'], verbs: ['patch'] }], ns);
    started = Date.now();
    // the real node was created long ago: a long warming deadline, so that only warmth lifts the taint
    ctrl = new ControllerProcess(sa.file, ['--leader-elect=false', '--image-cache-refresh-frequency=0s', '--image-pull-deadline-duration=90s',
      '--job-retention-policy=retain', '--warm-nodes', '--warming-deadline=1h'], { KUBEFLEDGED_NAMESPACE: ns }).start();
  });

  after(async function () {
    if (this.currentTest?.state === 'failed' || process.env.KF_TEST_LOGS) console.log(ctrl?.dump());
    await ctrl?.stop();
    if (original) {
      // the node as it was: its taints, and without the test's label (null removes it in a merge patch)
      await patchNode({ metadata: { labels: { 'kf-i14': null } }, spec: { taints: original.taints } });
    }
    await revoke?.();
    await sa?.cleanup();
    if (ns) await deleteNamespace(core, ns);
    for (const n of [excluded, untolerated]) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  it('the warming taint is removed once the image is in the real node\'s containerd (CRI)', async () => {
    let pulledAt: number | undefined;
    const liftedAt = await eventually('warming taint removed', async () => {
      if (pulledAt === undefined && (await nodeHasImage(node, image))) pulledAt = Date.now();
      if ((await taints()).some((t) => t.key === WARMING_TAINT_KEY)) return undefined;
      return Date.now();
    }, 180_000, 250);
    // the taint went after the image arrived: it is in containerd now, and was seen there no later
    expect(await nodeHasImage(node, image), 'in containerd when the taint went').to.equal(true);
    pulledAt ??= liftedAt;
    console.log(`      image in containerd ${((pulledAt - started) / 1000).toFixed(1)} s after the controller started; `
      + `taint removed ${((liftedAt - started) / 1000).toFixed(1)} s after (${((liftedAt - pulledAt) / 1000).toFixed(1)} s after the image was seen)`);
    expect(pulledAt).to.be.at.most(liftedAt);
    const events = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${node.name}` });
    expect(events.items.some((e) => e.reason === 'NodeWarm' && e.type === 'Normal' && (e.lastTimestamp?.getTime() ?? 0) >= started - 1000)).to.equal(true);
    expect((await taints()).map((t) => t.key)).to.deep.equal(original!.taints.map((t) => t.key));
  });

  it('only the real node got a Job: the excluded kwok node none, the untolerated one skipped and reported', async () => {
    const cache = await ics.waitFinal(ns, CACHE, 'ImageCacheCreate');
    expect(cache.status!.status, JSON.stringify(cache.status)).to.equal('Succeeded');
    expect(cache.status!.counts).to.include({ desired: 1, succeeded: 1, failed: 0 });
    expect(cache.status!.skippedNodes).to.deep.equal([{ reason: 'TaintNotTolerated', count: 1, nodes: [untolerated] }]);
    const jobs = (await batch.listNamespacedJob({ namespace: ns, labelSelector: `imagecache=${CACHE}` })).items;
    expect(jobs.length, 'pull Jobs').to.be.greaterThan(0);
    for (const j of jobs) {
      const spec = JSON.stringify(j.spec?.template.spec);
      expect(spec, j.metadata?.name).to.contain(`"${node.name}"`).and.not.contain(excluded).and.not.contain(untolerated);
    }
  });
});
