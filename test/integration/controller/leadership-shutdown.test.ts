// Leadership and shutdown of the controller process on the real API server (outages through the
// fault proxy): losing the Lease stops work and re-enters the election; an outage longer than the
// renew deadline ends with the same process leading; SIGTERM drains, releases the Lease, exits 0.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, uniqueName } from '../../support/cluster.js';
import { fakeNode } from '../../support/nodes.js';
import { ControllerProcess } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { type FaultProxy, proxiedServiceAccount } from '../../support/fault-proxy.js';

const LE = ['--leader-elect=true', '--leader-elect-lease-duration=4s', '--leader-elect-renew-deadline=3s', '--leader-elect-retry-period=500ms'];
const LEASE = 'kubefledged-controller';

describe('controller process: leadership and shutdown', function () {
  this.timeout(300_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const leases = kc.makeApiClient(k8s.CoordinationV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('ls');
  const sel = { 'kf-suite': suite };
  const nodes = Array.from({ length: 6 }, (_, i) => `${suite}-${i}`);
  let ns: string;
  let sa: Awaited<ReturnType<typeof proxiedServiceAccount>>;
  let proxy: FaultProxy;
  let viaProxy: string;
  const procs: ControllerProcess[] = [];
  const start = (file: string, args: string[]) => {
    const p = new ControllerProcess(file, ['--stderrthreshold=INFO', ...LE, ...args], { KUBEFLEDGED_NAMESPACE: ns }).start();
    procs.push(p);
    return p;
  };
  const holder = async () => (await leases.readNamespacedLease({ name: LEASE, namespace: ns })).spec?.holderIdentity ?? '';
  const jobsOf = async (name: string) => (await batch.listNamespacedJob({ namespace: ns, labelSelector: `app=kubefledged,imagecache=${name}` })).items;

  before(async () => {
    await ensureCrd();
    ns = await createNamespace(core, 'kf-ls');
    for (const n of nodes) await core.createNode({ body: fakeNode(n, { labels: sel }) });
    sa = await proxiedServiceAccount(kc, ns);
    ({ proxy, viaProxy } = sa);
  });

  afterEach(async function () {
    proxy.setRule(undefined);
    if (this.currentTest?.state === 'failed' || process.env.KF_TEST_LOGS) for (const p of procs) console.log(p.dump());
    for (const p of procs.splice(0)) await p.stop();
    await leases.deleteNamespacedLease({ name: LEASE, namespace: ns }).catch(() => undefined);
  });

  after(async () => {
    await sa?.cleanup();
    await deleteNamespace(core, ns);
    for (const n of nodes) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  it('an API outage longer than the renew deadline: work stops, the process stays, and leads again afterwards', async () => {
    const p = start(viaProxy, ['--image-cache-refresh-frequency=0s']);
    await eventually('leading', async () => p.logs.some((l) => l.includes('controller started')), 60_000, 200);
    const identity = await holder();
    expect(identity).to.match(new RegExp(`_${p.pid}$`));

    proxy.setRule(() => ({ reset: true }));
    proxy.cutWatches();
    await eventually('leadership lost', async () => p.logs.some((l) => l.includes('leader election lost: stopped reconciling; campaigning again')), 30_000, 200);
    // created during the outage: no controller can see it until the API answers again
    await ics.create(ns, 'ic-outage', { cacheSpec: [{ images: ['registry.example/o:1'], nodeSelector: sel }] });
    await new Promise((r) => setTimeout(r, 12_000)); // 15 s+ of outage in all, 5 x the renew deadline
    expect(p.running(), 'the process exited on the outage').to.equal(true);
    proxy.setRule(undefined);

    const c = await ics.waitFinal(ns, 'ic-outage', 'ImageCacheCreate', { timeoutMs: 90_000 });
    expect(c.status!.status).to.equal('Succeeded');
    expect(await holder(), 'the same process leads again').to.equal(identity);
    expect(p.running()).to.equal(true);
    const lost = p.logs.findIndex((l) => l.includes('leader election lost'));
    const again = p.logs.findIndex((l, i) => i > lost && l.includes('successfully acquired lease'));
    expect(again, 'acquired again after the loss').to.be.greaterThan(lost);
  });

  it('--leader-elect-exit-on-loss keeps client-go\'s exit', async () => {
    const p = start(viaProxy, ['--leader-elect-exit-on-loss=true']);
    await eventually('leading', async () => p.logs.some((l) => l.includes('controller started')), 60_000, 200);
    proxy.setRule(() => ({ reset: true }));
    proxy.cutWatches();
    await eventually('exited', async () => !p.running(), 30_000, 200);
    expect(p.logs.some((l) => l.includes('leader election lost: exiting (--leader-elect-exit-on-loss)'))).to.equal(true);
  });

  it('a standby never reconciles; it takes over when the leader is killed', async () => {
    const a = start(sa.saFile, []);
    await eventually('a leads', async () => a.logs.some((l) => l.includes('controller started')), 60_000, 200);
    const b = start(sa.saFile, []);
    await eventually('b campaigns', async () => b.logs.some((l) => l.includes('attempting to acquire leader lease')), 30_000, 200);
    await ics.create(ns, 'ic-standby', { cacheSpec: [{ images: ['registry.example/s:1'], nodeSelector: sel }] });
    await ics.waitFinal(ns, 'ic-standby', 'ImageCacheCreate', { timeoutMs: 60_000 });
    expect(b.logs.some((l) => l.includes('Starting to sync image cache')), 'the standby reconciled').to.equal(false);
    await a.kill();
    await eventually('b leads', async () => b.logs.some((l) => l.includes('controller started')), 30_000, 200);
    await ics.annotate(ns, 'ic-standby', 'kubefledged.io/refresh-imagecache');
    await ics.waitFinal(ns, 'ic-standby', 'ImageCacheRefresh', { timeoutMs: 60_000 });
  });

  it('SIGTERM mid-operation: no new Jobs after "received SIGTERM: shutting down", the Lease released, exit 0', async () => {
    const p = start(sa.saFile, ['--image-pull-deadline-duration=60s', '--max-images-per-job=1', '--jobs-max-surge=2', '--shutdown-grace-period=5s']);
    await eventually('leading', async () => p.logs.some((l) => l.includes('controller started')), 60_000, 200);
    // 6 nodes x 2 slow images, 1 image a Job, at most 2 Jobs at a time: 12 Jobs created over time
    await ics.create(ns, 'ic-term', { cacheSpec: [{ images: ['slow.invalid/a:1', 'slow.invalid/b:1'], nodeSelector: sel }] });
    await eventually('some Jobs', async () => (await jobsOf('ic-term')).length >= 2, 30_000, 100);
    const t0 = Date.now();
    const code = await p.stop();
    const seconds = (Date.now() - t0) / 1000;
    expect(code).to.equal(0);
    expect(seconds).to.be.lessThan(15);
    const at = p.logs.findIndex((l) => l.includes('received SIGTERM: shutting down'));
    expect(at).to.be.greaterThan(-1);
    expect(p.logs.slice(at).filter((l) => / created \((pull|delete)/.test(l)), 'Jobs created after SIGTERM').to.deep.equal([]);
    expect(p.logs.slice(at).some((l) => l.includes('Starting to sync image cache')), 'an operation started after SIGTERM').to.equal(false);
    expect(p.logs.some((l) => l.includes('released leader lease'))).to.equal(true);
    expect(await holder()).to.equal('');
    const jobsAfter = (await jobsOf('ic-term')).length;
    await new Promise((r) => setTimeout(r, 2000));
    expect((await jobsOf('ic-term')).length).to.equal(jobsAfter);
    // a new controller adopts the same operation (its Jobs carry the operation's id) and goes on
    const opId = (await jobsOf('ic-term'))[0]!.metadata!.name!.split('-').at(-2);
    const q = start(sa.saFile, ['--image-pull-deadline-duration=60s', '--max-images-per-job=1', '--jobs-max-surge=2']);
    await eventually('the next leader creates the next Job of the same operation', async () =>
      q.logs.some((l) => new RegExp(`Job ic-term-${opId}-[0-9a-f]+ created`).test(l)), 60_000, 200);
    expect(q.logs.some((l) => l.includes('Starting to sync image cache ic-term(create)')), 'a new operation instead of adoption').to.equal(false);
  });
});
