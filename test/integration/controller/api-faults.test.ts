// A struggling API server, injected through a proxy in front of the real one (test/support/fault-proxy):
// 429 "storage is (re)initializing" at start-up, 5xx, a lasting 403, and the ImageCache watch cut,
// answered 410 Gone, or down while a cache is deleted.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, uniqueName } from '../../support/cluster.js';
import { fakeNode } from '../../support/nodes.js';
import { ControllerProcess } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { type FaultProxy, proxiedServiceAccount, statusBody } from '../../support/fault-proxy.js';
import { freePort } from '../webhook/webhook-process.js';
import { ImageCacheIndex, ImageCacheOperator } from '../../../src/operator/imagecache-operator.js';
import { withRequestLayer } from '../../../src/kube/request-layer.js';
import { createLogger } from '../../../src/operator/logger.js';

const tooMany = { status: 429, headers: { 'Retry-After': '1' }, body: statusBody(429, 'TooManyRequests', 'storage is (re)initializing') };

describe('controller against a struggling API server (fault proxy)', function () {
  this.timeout(300_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('af');
  const sel = { 'kf-suite': suite };
  const nodes = [`${suite}-a`, `${suite}-b`];
  let ns: string;
  let sa: Awaited<ReturnType<typeof proxiedServiceAccount>>;
  let proxy: FaultProxy;
  let viaProxy: string;
  const procs: ControllerProcess[] = [];

  const readyz = async (port: number) => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
    } catch {
      return 0;
    }
  };

  before(async () => {
    await ensureCrd();
    ns = await createNamespace(core, 'kf-af');
    for (const n of nodes) await core.createNode({ body: fakeNode(n, { labels: sel }) });
    sa = await proxiedServiceAccount(kc, ns);
    ({ proxy, viaProxy } = sa);
  });

  afterEach(async function () {
    proxy.setRule(undefined);
    if (this.currentTest?.state === 'failed' || process.env.KF_TEST_LOGS) for (const p of procs) console.log(p.dump());
    for (const p of procs.splice(0)) await p.stop();
  });

  after(async () => {
    await sa?.cleanup();
    await deleteNamespace(core, ns);
    for (const n of nodes) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  it('429 to every request at start-up: not ready, no status written, no exit; the first successful lists start the work', async () => {
    await ics.create(ns, 'ic-429', { cacheSpec: [{ images: ['registry.example/app:1'], nodeSelector: sel }] });
    let faulting = true;
    proxy.setRule((r) => (faulting && !r.path.includes('/leases') ? tooMany : undefined));
    const port = await freePort();
    const p = new ControllerProcess(viaProxy, ['-v=4', '--leader-elect=false', `--metrics-bind-address=127.0.0.1:${port}`], { KUBEFLEDGED_NAMESPACE: ns }).start();
    procs.push(p);
    await eventually('health server up', async () => (await readyz(port)) !== 0, 30_000, 200);
    const until = Date.now() + 6_000;
    while (Date.now() < until) {
      expect(await readyz(port), '/readyz while every list is refused').to.equal(503);
      expect((await ics.get(ns, 'ic-429')).status, 'status written from an unsynced cache').to.equal(undefined);
      expect(p.running(), 'the controller exited on a 429').to.equal(true);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(p.logs.some((l) => l.includes('storage is (re)initializing')), 'the API\'s own message is logged').to.equal(true);
    expect(p.logs.some((l) => l.includes('Unknown API Status Code')), 'client-node\'s placeholder text is logged').to.equal(false);
    faulting = false;
    const c = await ics.waitFinal(ns, 'ic-429', 'ImageCacheCreate', { timeoutMs: 90_000 });
    expect(c.status!.status).to.equal('Succeeded');
    expect(await readyz(port)).to.equal(200);
    expect(p.running()).to.equal(true);
  });

  it('5xx and reset connections on reconcile calls are retried: the operation ends Succeeded', async () => {
    const p = new ControllerProcess(viaProxy, ['--stderrthreshold=INFO', '--leader-elect=false'], { KUBEFLEDGED_NAMESPACE: ns }).start();
    procs.push(p);
    await eventually('controller synced', async () => p.logs.some((l) => l.includes('controller started')), 60_000, 200);
    let n = 0;
    // every other write fails: a 503, then a dropped connection
    proxy.setRule((r) => {
      if (r.method === 'GET') return undefined;
      n++;
      return n % 4 === 1 ? { status: 503, body: statusBody(503, 'ServiceUnavailable', 'etcd leader changed') } : n % 4 === 3 ? { reset: true } : undefined;
    });
    await ics.create(ns, 'ic-5xx', { cacheSpec: [{ images: ['registry.example/app:2'], nodeSelector: sel }] });
    const c = await ics.waitFinal(ns, 'ic-5xx', 'ImageCacheCreate', { timeoutMs: 90_000 });
    expect(c.status!.status).to.equal('Succeeded');
    expect(n).to.be.greaterThan(3);
    expect(p.running()).to.equal(true);
  });

  it('a missing permission at start-up ends the process with a message that says which', async () => {
    proxy.setRule((r) => (r.path === '/api/v1/nodes' ? { status: 403, body: statusBody(403, 'Forbidden', 'nodes is forbidden: User "system:serviceaccount:x:y" cannot list resource "nodes"') } : undefined));
    const p = new ControllerProcess(viaProxy, ['--stderrthreshold=INFO', '--leader-elect=false'], { KUBEFLEDGED_NAMESPACE: ns }).start();
    procs.push(p);
    await eventually('exit', async () => !p.running(), 60_000, 200);
    expect(p.logs.some((l) => l.includes('missing permission: the controller may not list/watch nodes (403 Forbidden)'))).to.equal(true);
  });

  describe('the SDK-facing ImageCache watch (in process)', () => {
    let operator: ImageCacheOperator | undefined;
    afterEach(async () => {
      await operator?.stopWatches();
      operator = undefined;
    });

    it('restarts from the last resourceVersion, relists on 410 Gone, and reports a delete made while it was down', async () => {
      const saKc = new k8s.KubeConfig();
      saKc.loadFromFile(viaProxy);
      const layered = withRequestLayer(saKc, { qps: 50, burst: 50 });
      const events: string[] = [];
      const index = new ImageCacheIndex();
      operator = new ImageCacheOperator({ index, enqueue: (key) => events.push(key), log: createLogger('error'), kc: layered, timings: { initialDelayMs: 200, maxDelayMs: 1000 } });
      await ics.create(ns, 'ic-w1', { cacheSpec: [{ images: ['registry.example/w:1'], nodeSelector: { none: 'x' } }] });
      await ics.create(ns, 'ic-w2', { cacheSpec: [{ images: ['registry.example/w:1'], nodeSelector: { none: 'x' } }] });
      const from = proxy.seen.length;
      const lists = () => proxy.seen.slice(from).filter((r) => r.path.endsWith('/imagecaches') && !r.watch).length;
      const watches = () => proxy.seen.slice(from).filter((r) => r.path.endsWith('/imagecaches') && r.watch);
      await operator.start();
      expect(operator.synced()).to.equal(true);
      expect(index.all().map(([k]) => k)).to.include.members([`${ns}/ic-w1`, `${ns}/ic-w2`]);
      expect(lists()).to.equal(1);

      // 1. the watch is cut: it comes back from the last resourceVersion, without a list
      await eventually('watch open', async () => watches().length === 1, 10_000, 50);
      await ics.patch(ns, 'ic-w1', { metadata: { labels: { touched: '1' } } });
      await eventually('update seen', async () => index.all().some(([k, c]) => k === `${ns}/ic-w1` && c.metadata.labels?.touched === '1'), 10_000, 50);
      proxy.cutWatches();
      await eventually('watch reopened', async () => watches().length === 2, 10_000, 50);
      expect(watches()[1]!.query.get('resourceVersion')).to.match(/^\d+$/).and.not.equal('0');
      expect(lists()).to.equal(1);

      // 2. down for a while (503 on watches) while ic-w2 is deleted, then 410 Gone: a relist, and the delete is reported
      let phase: 'down' | 'gone' | 'up' = 'down';
      proxy.setRule((r) => {
        if (!r.path.endsWith('/imagecaches')) return undefined;
        if (phase === 'down') return { status: 503, body: statusBody(503, 'ServiceUnavailable', 'down') };
        if (phase === 'gone' && r.watch) {
          phase = 'up';
          return { status: 410, body: statusBody(410, 'Expired', 'too old resource version') };
        }
        return undefined;
      });
      proxy.cutWatches();
      await ics.delete(ns, 'ic-w2');
      await new Promise((r) => setTimeout(r, 1500));
      expect(index.all().map(([k]) => k)).to.include(`${ns}/ic-w2`);
      phase = 'gone';
      await eventually('delete reported after the relist', async () => !index.all().some(([k]) => k === `${ns}/ic-w2`), 20_000, 100);
      expect(lists()).to.equal(2);
      expect(events.filter((k) => k === `${ns}/ic-w2`).length).to.be.greaterThan(1);
      await ics.delete(ns, 'ic-w1');
    });
  });
});
