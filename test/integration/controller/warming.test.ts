// Warm before work on the real API server (kwok nodes): a node that joins with the startup taint
// kubefledged.io/warming:NoSchedule has it removed once every cache that selects it has its images there,
// or at the warming deadline with a Warning Event when a pull never succeeds.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, uniqueName } from '../../support/cluster.js';
import { fakeNode } from '../../support/nodes.js';
import { ControllerProcess, serviceAccountKubeconfig } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { grantClusterRules } from '../../support/suite.js';

describe('ImageCache controller: warm before work (--warm-nodes)', function () {
  this.timeout(240_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('wm');
  const warming = [{ key: 'kubefledged.io/warming', value: 'true', effect: 'NoSchedule' as const }];
  const created: string[] = [];
  let ns: string;
  let sa: { file: string; cleanup: () => Promise<void> };
  let ctrl: ControllerProcess;
  let revoke: (() => Promise<void>) | undefined;
  const role = `kf-warm-${suite}`;

  const tainted = async (name: string) => ((await core.readNode({ name })).spec?.taints ?? []).some((t) => t.key === 'kubefledged.io/warming');
  const join = async (name: string, labels: Record<string, string>) => {
    created.push(name);
    await core.createNode({ body: fakeNode(name, { labels, taints: warming }) });
    return Date.now();
  };

  before(async () => {
    await ensureCrd();
    ns = await createNamespace(core, 'kf-wm');
    sa = await serviceAccountKubeconfig(kc, ns);
    // what the chart adds with controller.warming.enabled: patch on nodes
    revoke = await grantClusterRules(kc, role, [{ apiGroups: [''], resources: ['nodes'], verbs: ['patch'] }], ns);
    ctrl = new ControllerProcess(sa.file, ['-v=4', '--leader-elect=false', '--image-cache-refresh-frequency=0s', '--image-pull-deadline-duration=5s',
      '--warm-nodes', '--warming-deadline=12s'], { KUBEFLEDGED_NAMESPACE: ns }).start();
    await ics.create(ns, 'warm-ok', { cacheSpec: [{ images: ['registry.example/app:1', 'registry.example/web:1'], nodeSelector: { 'kf-wm': `${suite}-ok` } }] });
    await ics.create(ns, 'warm-ok2', { cacheSpec: [{ images: ['registry.example/db:1'], nodeSelector: { 'kf-wm2': suite } }] });
    await ics.create(ns, 'warm-bad', { cacheSpec: [{ images: ['fail.invalid/never:1'], nodeSelector: { 'kf-wm': `${suite}-bad` } }] });
    for (const c of ['warm-ok', 'warm-ok2', 'warm-bad']) await ics.waitFinal(ns, c, 'ImageCacheCreate');
  });

  after(async function () {
    if (this.currentTest?.state === 'failed' || process.env.KF_TEST_LOGS) console.log(ctrl?.dump());
    await ctrl?.stop();
    await sa?.cleanup();
    await revoke?.();
    await deleteNamespace(core, ns);
    for (const n of created) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  it('the taint is removed once every cache that selects the node has its images there', async () => {
    const node = `${suite}-ok-1`;
    const t0 = await join(node, { 'kf-wm': `${suite}-ok`, 'kf-wm2': suite });
    await eventually('taint removed', async () => !(await tainted(node)), 60_000, 200);
    const seconds = (Date.now() - t0) / 1000;
    console.log(`      warm in ${seconds.toFixed(1)} s after the node was created`);
    // both caches pulled onto it before the taint went
    for (const c of ['warm-ok', 'warm-ok2']) {
      const cache = await ics.get(ns, c);
      expect(cache.status!.status, c).to.equal('Succeeded');
    }
    const events = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${node}` });
    expect(events.items.some((e) => e.reason === 'NodeWarm' && e.type === 'Normal')).to.equal(true);
  });

  it('a node whose pull never succeeds is untainted at the deadline, with a Warning Event naming the cold cache', async () => {
    const node = `${suite}-bad-1`;
    const t0 = await join(node, { 'kf-wm': `${suite}-bad` });
    await new Promise((r) => setTimeout(r, 6_000));
    expect(await tainted(node), 'still fenced before the deadline').to.equal(true);
    await eventually('taint removed at the deadline', async () => !(await tainted(node)), 60_000, 500);
    const seconds = (Date.now() - t0) / 1000;
    expect(seconds).to.be.at.least(11);
    console.log(`      lifted at the deadline after ${seconds.toFixed(1)} s`);
    const events = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${node}` });
    const warning = events.items.find((e) => e.reason === 'WarmingDeadlineExceeded');
    expect(warning?.type).to.equal('Warning');
    expect(warning?.message).to.contain(`${ns}/warm-bad`);
  });

  it('a node no cache selects is untainted at once; other taints are kept', async () => {
    const node = `${suite}-free`;
    created.push(node);
    await core.createNode({ body: fakeNode(node, { labels: {}, taints: [...warming, { key: 'dedicated', value: 'x', effect: 'NoSchedule' }] }) });
    await eventually('taint removed', async () => !(await tainted(node)), 30_000, 200);
    expect((await core.readNode({ name: node })).spec!.taints).to.deep.equal([{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]);
  });
});
