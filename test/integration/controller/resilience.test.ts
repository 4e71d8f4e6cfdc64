// Restart, deadline, retention, refresh timer, node join and namespace isolation, on the real API server.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, uniqueName } from '../../support/cluster.js';
import { fakeNode } from '../../support/nodes.js';
import { ControllerProcess, serviceAccountKubeconfig } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';

describe('ImageCache controller: restarts, timers, nodes, isolation', function () {
  this.timeout(300_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('rs');
  const sel = { 'kf-suite': suite };
  const nodes = [`${suite}-a`, `${suite}-b`];
  const extraNodes: string[] = [];
  let ns: string;
  let ns2: string;
  let sa: { file: string; cleanup: () => Promise<void> };
  const procs: ControllerProcess[] = [];
  const controller = (args: string[]) => {
    const p = new ControllerProcess(sa.file, ['-v=4', ...(args.some((a) => a.startsWith('--leader-elect=')) ? [] : ['--leader-elect=false']), ...args], { KUBEFLEDGED_NAMESPACE: ns }).start();
    procs.push(p);
    return p;
  };
  const jobsOf = async (namespace: string, name: string) =>
    (await batch.listNamespacedJob({ namespace, labelSelector: `app=kubefledged,imagecache=${name}` })).items;

  before(async () => {
    await ensureCrd();
    ns = await createNamespace(core, 'kf-rs');
    ns2 = await createNamespace(core, 'kf-rs2');
    for (const n of nodes) await core.createNode({ body: fakeNode(n, { labels: sel }) });
    await eventually('nodes Ready', async () => {
      const list = (await core.listNode({ labelSelector: `kf-suite=${suite}` })).items;
      return list.length === nodes.length && list.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    }, 60_000);
    sa = await serviceAccountKubeconfig(kc, ns);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' || process.env.KF_TEST_LOGS) for (const p of procs) console.log(p.dump());
    for (const p of procs.splice(0)) await p.stop();
  });

  after(async () => {
    await sa?.cleanup();
    await deleteNamespace(core, ns);
    await deleteNamespace(core, ns2);
    for (const n of [...nodes, ...extraNodes]) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  it('a controller killed (SIGKILL) mid-operation is replaced and the new one adopts its Jobs and finishes', async () => {
    // with leader election (the Lease Role of deploy/): the replacement takes over once the lease expires
    const le = ['--leader-elect=true', '--leader-elect-lease-duration=4s', '--leader-elect-renew-deadline=3s', '--leader-elect-retry-period=500ms'];
    const first = controller(['--image-pull-deadline-duration=60s', '--image-cache-refresh-frequency=0s', ...le]);
    await ics.create(ns, 'ic-crash', { cacheSpec: [{ images: ['slow.invalid/app:1', 'registry.example/x:1'], nodeSelector: sel }] });
    await eventually('Jobs created', async () => (await jobsOf(ns, 'ic-crash')).length === 2, 30_000, 100);
    const jobsBefore = (await jobsOf(ns, 'ic-crash')).map((j) => j.metadata!.uid).sort();
    const lease = await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: 'kubefledged-controller', namespace: ns });
    expect(lease.spec?.holderIdentity).to.be.a('string').and.not.equal('');
    await first.kill();
    expect((await ics.get(ns, 'ic-crash')).status!.status).to.equal('Processing');
    const second = controller(['--image-pull-deadline-duration=60s', '--image-cache-refresh-frequency=0s', ...le]);
    const c = await ics.waitFinal(ns, 'ic-crash', 'ImageCacheCreate', { timeoutMs: 120_000 });
    expect(c.status!.status).to.equal('Succeeded');
    expect(c.status!.counts).to.include({ desired: 4, succeeded: 4 });
    // adopted, not re-created; and deleted at the end (retention policy delete): no orphan
    await eventually('Jobs deleted', async () => (await jobsOf(ns, 'ic-crash')).length === 0, 60_000, 500);
    expect(jobsBefore).to.have.length(2);
    expect(second.logs.filter((l) => l.includes(' created (pull'))).to.deep.equal([]);
    expect(second.logs.some((l) => l.includes('Completed sync actions for image cache ic-crash(create)'))).to.equal(true);
  });

  it('unfinished pulls become failures at the deadline; with --skip-not-ready-nodes=false (the original) a NotReady node reports "Check if node is ready"', async () => {
    const notReady = `${suite}-notready`;
    extraNodes.push(notReady);
    await core.createNode({ body: fakeNode(notReady, { labels: { 'kf-nr': suite }, notReady: true }) });
    controller(['--image-pull-deadline-duration=5s', '--image-cache-refresh-frequency=0s', '--skip-not-ready-nodes=false']);
    await ics.create(ns, 'ic-deadline', { cacheSpec: [{ images: ['registry.example/x:1'], nodeSelector: { 'kf-nr': suite } }] });
    // a pull slower than the deadline (kwok: 6-16 s) fails with the reason it was waiting on
    await ics.create(ns, 'ic-slow', { cacheSpec: [{ images: ['slow.invalid/big:1', 'registry.example/small:1'], nodeSelector: sel }] });
    const c = await ics.waitFinal(ns, 'ic-deadline', 'ImageCacheCreate', { timeoutMs: 60_000 });
    expect(c.status!.status).to.equal('Failed');
    expect(c.status!.failures!['registry.example/x:1']).to.deep.equal([{ node: notReady, reason: 'Pending', message: 'Check if node is ready' }]);
    const slow = await ics.waitFinal(ns, 'ic-slow', 'ImageCacheCreate', { timeoutMs: 60_000 });
    expect(slow.status!.status).to.equal('Failed');
    expect(slow.status!.failures!['slow.invalid/big:1']!.map((f) => f.reason)).to.deep.equal(['ContainerCreating', 'ContainerCreating']);
    expect(slow.status!.failures!['registry.example/small:1']).to.equal(undefined);
    await eventually('Jobs deleted after the operation', async () => (await jobsOf(ns, 'ic-deadline')).length === 0, 30_000, 500);
  });

  it('the refresh timer refreshes finished caches but not purged ones; 0s disables it', async () => {
    controller(['--image-cache-refresh-frequency=4s', '--image-pull-deadline-duration=20s']);
    await ics.create(ns, 'ic-timer', { cacheSpec: [{ images: ['registry.example/x:1'], nodeSelector: sel }] });
    await ics.create(ns, 'ic-purged', { cacheSpec: [{ images: ['registry.example/y:1'], nodeSelector: sel }] });
    await ics.waitFinal(ns, 'ic-purged', 'ImageCacheCreate');
    await ics.annotate(ns, 'ic-purged', 'kubefledged.io/purge-imagecache');
    await ics.waitFinal(ns, 'ic-purged', 'ImageCachePurge');
    const c = await ics.waitFinal(ns, 'ic-timer', 'ImageCacheRefresh', { timeoutMs: 60_000 });
    expect(c.status!.status).to.equal('Succeeded');
    await new Promise((r) => setTimeout(r, 9000));
    expect((await ics.get(ns, 'ic-purged')).status!.reason).to.equal('ImageCachePurge');
  });

  it('a node that joins gets the images of every cache that selects it within seconds', async () => {
    controller(['--image-cache-refresh-frequency=0s', '--image-pull-deadline-duration=20s']);
    await ics.create(ns, 'ic-join', { cacheSpec: [{ images: ['registry.example/x:1'], nodeSelector: sel }] });
    await ics.waitFinal(ns, 'ic-join', 'ImageCacheCreate');
    const joined = `${suite}-joined`;
    extraNodes.push(joined);
    const t = new Date();
    await core.createNode({ body: fakeNode(joined, { labels: sel }) });
    const c = await ics.waitFinal(ns, 'ic-join', 'ImageCacheRefresh', { timeoutMs: 60_000, notBefore: t })
      .finally(() => core.deleteNode({ name: joined }).catch(() => undefined));
    expect(c.status!.status).to.equal('Succeeded');
    expect(c.status!.operation!.nodes).to.deep.equal([joined]);
    // the status describes the whole cache: the nodes cached before and the one that joined
    expect(c.status!.counts).to.deep.equal({ desired: 3, succeeded: 3, failed: 0, pending: 0 });
  });

  it('two caches with one name in two namespaces never mix results; flags land in the Jobs', async () => {
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'puller' } } });
    await core.createNamespacedServiceAccount({ namespace: ns2, body: { metadata: { name: 'puller' } } });
    const sched = kc.makeApiClient(k8s.SchedulingV1Api);
    const pc = uniqueName('kf-low');
    await sched.createPriorityClass({ body: { metadata: { name: pc }, value: 10 } });
    try {
      controller(['--image-cache-refresh-frequency=0s', '--image-pull-deadline-duration=8s', '--job-retention-policy=retain',
        '--service-account-name=puller', `--job-priority-class-name=${pc}`, '--image-delete-job-host-network',
        '--cri-socket-path=/run/k3s/containerd/containerd.sock', '--image-pull-policy=Always']);
      await ics.create(ns, 'twin', { cacheSpec: [{ images: ['registry.example/ok:1'], nodeSelector: sel }] });
      await ics.create(ns2, 'twin', { cacheSpec: [{ images: ['fail.invalid/bad:1'], nodeSelector: sel }] });
      const a = await ics.waitFinal(ns, 'twin', 'ImageCacheCreate');
      const b = await ics.waitFinal(ns2, 'twin', 'ImageCacheCreate');
      expect(a.status!.status).to.equal('Succeeded');
      expect(b.status!.status).to.equal('Failed');
      expect(Object.keys(b.status!.failures!)).to.deep.equal(['fail.invalid/bad:1']);
      const jobs = await jobsOf(ns, 'twin');
      expect(jobs).to.have.length(2); // retained
      for (const j of jobs) {
        const pod = j.spec!.template.spec!;
        expect(pod.serviceAccountName).to.equal('puller');
        expect(pod.priorityClassName).to.equal(pc);
        expect(pod.containers[0]!.imagePullPolicy).to.equal('Always');
      }
      await ics.annotate(ns, 'twin', 'kubefledged.io/purge-imagecache');
      await ics.waitFinal(ns, 'twin', 'ImageCachePurge');
      const del = (await jobsOf(ns, 'twin')).filter((j) => j.metadata!.labels!['kubefledged.io/action'] === 'delete');
      expect(del).to.have.length(2);
      for (const j of del) {
        expect(j.spec!.template.spec!.hostNetwork).to.equal(true);
        expect(j.spec!.template.spec!.volumes![0]!.hostPath!.path).to.equal('/run/k3s/containerd');
      }
    } finally {
      await sched.deletePriorityClass({ name: pc }).catch(() => undefined);
    }
  });
});
