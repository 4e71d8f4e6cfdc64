// The informers' watch that skips what nobody reads (src/kube/slim-watch.ts, watch-line.ts) on the real
// API server: the events come as client-node's Watch gives them, less the dropped parts; an informer
// over it lists, watches, and sees changes and deletes; the server's end of the answer, an error status
// (a path that does not exist) and its abort end it as client-node's do. Pods of a namespace of the
// test's own, on no node (nothing runs them).
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually } from '../../support/cluster.js';
import { restartingInformer } from '../../../src/kube/informers.js';
import { SlimWatch } from '../../../src/kube/slim-watch.js';
import { DROP_SPEC_AND_MANAGED_FIELDS } from '../../../src/kube/watch-line.js';

describe('kube/slim-watch: watch events without the parts nobody reads, on the real API server', function () {
  this.timeout(120_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never;
  let ns: string;
  const pod = (name: string): k8s.V1Pod => ({
    metadata: { name, labels: { 'kf-slim': 'yes' } },
    // a node name no node has: the scheduler leaves it alone, nothing runs it
    spec: { nodeName: 'kf-slim-no-such-node', containers: Array.from({ length: 5 }, (_, i) => ({ name: `c${i}`, image: `registry.example/app-${i}:v1`, command: ['sleep', 'infinity'] })) },
  });

  before(async () => {
    ns = await createNamespace(core, 'kf-slim');
  });
  after(async () => {
    if (ns) await deleteNamespace(core, ns);
  });

  it('gives each event with spec and managedFields null and the rest as client-node\'s Watch gives it', async () => {
    const path = `/api/v1/namespaces/${ns}/pods`;
    const rv = (await core.listNamespacedPod({ namespace: ns })).metadata!.resourceVersion!;
    const full: { type: string; obj: k8s.V1Pod }[] = [];
    const slim: { type: string; obj: k8s.V1Pod }[] = [];
    let slimDone: unknown = 'not yet';
    const a = await new k8s.Watch(kc).watch(path, { resourceVersion: rv }, (type, obj) => full.push({ type, obj: obj as k8s.V1Pod }), () => undefined);
    const b = await new SlimWatch(kc, DROP_SPEC_AND_MANAGED_FIELDS).watch(path, { resourceVersion: rv }, (type, obj) => slim.push({ type, obj: obj as k8s.V1Pod }), (err) => { slimDone = err; });
    try {
      await core.createNamespacedPod({ namespace: ns, body: pod('p1') });
      await core.patchNamespacedPod({ name: 'p1', namespace: ns, body: { metadata: { labels: { step: 'two' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedPod({ name: 'p1', namespace: ns, gracePeriodSeconds: 0 });
      await eventually('both watches see the pod created, changed and deleted', async () => full.some((e) => e.type === 'DELETED') && slim.some((e) => e.type === 'DELETED') && slim.length === full.length, 30_000);
      expect(slim.map((e) => e.type)).to.deep.equal(full.map((e) => e.type));
      expect(slim.map((e) => e.type)).to.include.members(['ADDED', 'MODIFIED', 'DELETED']);
      for (const [i, e] of slim.entries()) {
        const f = full[i]!.obj;
        expect(f.spec?.containers).to.have.length(5);
        expect(f.metadata?.managedFields).to.not.equal(undefined);
        expect(e.obj.spec).to.equal(null);
        expect(e.obj.metadata?.managedFields).to.equal(null);
        const { managedFields: _m, ...meta } = f.metadata!;
        expect({ ...e.obj.metadata, managedFields: undefined }).to.deep.equal({ ...meta, managedFields: undefined });
        expect(e.obj.status).to.deep.equal(f.status);
      }
      expect(slim.find((e) => e.type === 'MODIFIED' && e.obj.metadata?.labels?.step === 'two')).to.not.equal(undefined);
      expect(slimDone).to.equal('not yet'); // the watch goes on
    } finally {
      a.abort();
      b.abort();
    }
    // its abort ends it once, with the abort as the reason (as client-node's)
    await eventually('done after abort', async () => slimDone !== 'not yet', 10_000);
    expect((slimDone as Error | null)?.name).to.equal('AbortError');
  });

  it('an informer over it lists, then sees adds, updates and deletes; the cache holds the slim objects', async () => {
    const path = `/api/v1/namespaces/${ns}/pods`;
    await core.createNamespacedPod({ namespace: ns, body: pod('listed') });
    const events: string[] = [];
    const inf = restartingInformer<k8s.V1Pod>({
      kc, path, labelSelector: 'kf-slim=yes', log, resource: 'pods', drop: DROP_SPEC_AND_MANAGED_FIELDS,
      onChange: (verb, p) => events.push(`${verb} ${p.metadata?.name}`),
    });
    try {
      await inf.start();
      expect(events).to.deep.equal(['add listed']);
      await core.createNamespacedPod({ namespace: ns, body: pod('watched') });
      await core.patchNamespacedPod({ name: 'listed', namespace: ns, body: { metadata: { labels: { step: 'two' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedPod({ name: 'listed', namespace: ns, gracePeriodSeconds: 0 });
      await eventually('the watch events', async () => events.includes('delete listed') && events, 30_000);
      expect(events.slice(0, 3)).to.deep.equal(['add listed', 'add watched', 'update listed']);
      const watched = inf.list().find((p) => p.metadata?.name === 'watched')!;
      expect(watched.spec).to.equal(null);
      expect(watched.metadata?.managedFields).to.equal(null);
      expect(watched.metadata?.labels).to.deep.equal({ 'kf-slim': 'yes' });
      expect(inf.list().map((p) => p.metadata?.name)).to.deep.equal(['watched']);
    } finally {
      await inf.stop();
    }
  });

  it('ends as client-node\'s Watch does: the server ending the answer is done(null); a path not served is an error with its status', async () => {
    const path = `/api/v1/namespaces/${ns}/pods`;
    const started = Date.now();
    let w: AbortController | undefined;
    try {
      const done = await new Promise<unknown>((resolve) => {
        void new SlimWatch(kc, DROP_SPEC_AND_MANAGED_FIELDS).watch(path, { timeoutSeconds: 1 }, () => undefined, resolve).then((c) => { w = c; });
      });
      expect(done).to.equal(null);
      expect(Date.now() - started).to.be.below(30_000);
    } finally {
      w?.abort();
    }
    const err = await new Promise<unknown>((resolve) => {
      void new SlimWatch(kc, DROP_SPEC_AND_MANAGED_FIELDS).watch('/apis/kubefledged.io/v1alpha2/namespaces/x/no-such-things', {}, () => undefined, resolve);
    });
    expect((err as { statusCode?: number }).statusCode).to.equal(404);
    expect((err as Error).message).to.equal('Not Found');
  });
});
