// The watch thread (src/kube/watch-thread.ts, watch-thread-worker.ts) on the real API server: an informer
// of a shape lists and watches through it and caches what it cached before (the projection of each
// object), pods whose containers are in the same states sharing one frozen copy of each status; a main thread blocked for seconds while 25 MB of events arrive leaves the thread's watch open,
// where the API server closes the same watch read by the main thread (the watch cache's budget for
// slow watchers, docs/benchmark.md "A watch thread"); a thread that dies fails its requests and the
// informer goes on with a new one; errors come through as the main thread's requests give them; the
// thread does not keep a process alive once its requests are over. Pods of a namespace of the test's
// own, on no node (nothing runs them).
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, kubeconfigPath, ROOT } from '../../support/cluster.js';
import { INFORMER_SHAPES } from '../../../src/kube/informer-transforms.js';
import { ListRequestError, listPage, restartingInformer } from '../../../src/kube/informers.js';
import { SlimWatch } from '../../../src/kube/slim-watch.js';
import { threadedWatch, WatchThread } from '../../../src/kube/watch-thread.js';

describe('kube/watch-thread: informers read off the main thread, on the real API server', function () {
  this.timeout(180_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never;
  const thread = new WatchThread();
  let ns: string;
  const pod = (name: string, labels: Record<string, string> = { 'kf-thread': 'yes' }, annotations?: Record<string, string>): k8s.V1Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels, annotations },
    // a node name no node has: the scheduler leaves it alone, nothing runs it
    spec: { nodeName: 'kf-thread-no-such-node', containers: Array.from({ length: 5 }, (_, i) => ({ name: `c${i}`, image: `registry.example/app-${i}:v1` })) },
  });

  before(async () => {
    ns = await createNamespace(core, 'kf-thread');
  });
  after(async () => {
    await thread.stop();
    if (ns) await deleteNamespace(core, ns);
  });

  it('an informer of a shape lists and watches through the thread and caches the projection of each object', async () => {
    const path = `/api/v1/namespaces/${ns}/pods`;
    await core.createNamespacedPod({ namespace: ns, body: pod('listed') });
    const rv = (await core.listNamespacedPod({ namespace: ns })).metadata!.resourceVersion!;
    const full: { type: string; obj: k8s.V1Pod }[] = [];
    const fullWatch = await new k8s.Watch(kc).watch(path, { resourceVersion: rv, labelSelector: 'kf-thread=yes' }, (type, obj) => full.push({ type, obj: obj as k8s.V1Pod }), () => undefined);
    const events: { verb: string; obj: k8s.V1Pod }[] = [];
    const inf = restartingInformer<k8s.V1Pod>({
      kc, path, labelSelector: 'kf-thread=yes', log, resource: 'pods', shape: 'pod', thread,
      onChange: (verb, p) => events.push({ verb, obj: p }),
    });
    try {
      await inf.start();
      expect(thread.inFlight()).to.equal(1); // the list came through it; its watch is open
      expect(events.map((e) => `${e.verb} ${e.obj.metadata?.name}`)).to.deep.equal(['add listed']);
      // the listed object is the projection of the API's JSON of it (a list read on this thread)
      const raw = await listPage<k8s.V1Pod>(kc, path, { labelSelector: 'kf-thread=yes' });
      expect(events[0]!.obj).to.deep.equal(INFORMER_SHAPES.pod.transform(raw.items[0]!));
      await core.createNamespacedPod({ namespace: ns, body: pod('watched') });
      await core.patchNamespacedPod({ name: 'listed', namespace: ns, body: { metadata: { labels: { step: 'two' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedPod({ name: 'listed', namespace: ns, gracePeriodSeconds: 0 });
      await eventually('the watch events', async () => events.some((e) => e.verb === 'delete') && full.filter((e) => e.type !== 'BOOKMARK').length >= 4, 30_000);
      expect(events.map((e) => `${e.verb} ${e.obj.metadata?.name}`).slice(0, 3)).to.deep.equal(['add listed', 'add watched', 'update listed']);
      // each watched object is what the main thread's own projection makes of the full event
      const watched = events.slice(1);
      const fullObjects = full.filter((e) => e.type !== 'BOOKMARK').map((e) => e.obj);
      expect(watched.map((e) => e.obj)).to.deep.equal(fullObjects.slice(0, watched.length).map((o) => INFORMER_SHAPES.pod.transform(o)));
      const cached = inf.list().find((p) => p.metadata?.name === 'watched')!;
      expect(cached.spec).to.equal(undefined);
      expect(cached.metadata?.managedFields).to.equal(undefined);
      expect(cached.status?.phase).to.equal('Pending');
      expect(inf.list().map((p) => p.metadata?.name)).to.deep.equal(['watched']);
    } finally {
      fullWatch.abort();
      await inf.stop();
    }
    await eventually('the watch ended in the thread', async () => thread.inFlight() === 0, 10_000);
  });

  it('a main thread blocked while 25 MB of events arrive: the API server closes the watch it reads, not the thread\'s', async () => {
    const path = `/api/v1/namespaces/${ns}/pods`;
    // a node-name selector: the watch cache gives such a watcher a buffer of 10 events (the fewest),
    // so with its socket's buffers about 40 of these events fill it
    const query = { fieldSelector: 'spec.nodeName=kf-thread-no-such-node', labelSelector: 'kf-thread-big=yes' };
    const rv = (await core.listNamespacedPod({ namespace: ns })).metadata!.resourceVersion!;
    const seen = { main: new Set<string>(), thread: new Set<string>() };
    const ended: { main?: unknown; thread?: unknown } = {};
    const onMain = await new SlimWatch(kc, INFORMER_SHAPES.pod.drop).watch(path, { ...query, resourceVersion: rv }, (type, o) => { if (type === 'ADDED') seen.main.add((o as k8s.V1Pod).metadata!.name!); }, (err) => { ended.main ??= err; });
    const onThread = await threadedWatch(kc, 'pod', thread).watch(path, { ...query, resourceVersion: rv }, (type, o) => { if (type === 'ADDED') seen.thread.add((o as k8s.V1Pod).metadata!.name!); }, (err) => { ended.thread ??= err; });
    const count = 100;
    try {
      // both watches connected (their TLS handshakes need this thread's event loop) before it blocks
      await core.createNamespacedPod({ namespace: ns, body: pod('probe', { 'kf-thread-big': 'yes' }) });
      await eventually('both watches see the probe', async () => seen.main.has('probe') && seen.thread.has('probe'), 30_000);
      // 100 pods of 250 KB (the most annotations a pod may carry), created by kubectl while this
      // thread waits for it (spawnSync: no event of this thread runs meanwhile)
      const big = 'x'.repeat(250_000);
      const list = { apiVersion: 'v1', kind: 'List', items: Array.from({ length: count }, (_, i) => pod(`big-${i}`, { 'kf-thread-big': 'yes' }, { 'kf-thread/ballast': big })) };
      const made = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath(), 'create', '-n', ns, '-f', '-', '-o', 'name'], { input: JSON.stringify(list), encoding: 'utf8', maxBuffer: 1 << 20, timeout: 120_000 });
      expect(made.status, made.stderr).to.equal(0);
      expect(made.stdout.trim().split('\n')).to.have.length(count);
      await eventually('the thread\'s watch saw every pod', async () => seen.thread.size === count + 1, 60_000);
      // the watch this thread read fell behind while it was blocked, and the API server closed it
      await eventually('the main thread\'s watch was closed by the server', async () => 'main' in ended, 30_000);
      expect(ended.main).to.equal(null);
      expect(seen.main.size).to.be.below(count + 1);
      expect(ended).to.not.have.property('thread');
    } finally {
      onMain.abort();
      onThread.abort();
      await core.deleteCollectionNamespacedPod({ namespace: ns, labelSelector: 'kf-thread-big=yes', gracePeriodSeconds: 0 });
    }
  });

  it('a thread that dies fails its requests; the informer restarts them on a new thread and goes on', async () => {
    const own = new WatchThread();
    const path = `/api/v1/namespaces/${ns}/pods`;
    const names = new Set<string>();
    let restarts = 0;
    const inf = restartingInformer<k8s.V1Pod>({
      kc, path, labelSelector: 'kf-thread-crash=yes', log, resource: 'pods', shape: 'pod', thread: own,
      timings: { initialDelayMs: 100 }, onRestart: () => { restarts++; },
      onChange: (verb, p) => { if (verb === 'add') names.add(p.metadata!.name!); },
    });
    try {
      await inf.start();
      const first = own.threadId();
      expect(first).to.be.a('number');
      await own.stop();
      await eventually('the informer restarted', async () => restarts >= 1 && own.threadId() !== undefined, 20_000);
      expect(own.threadId()).to.not.equal(first);
      await core.createNamespacedPod({ namespace: ns, body: pod('after-crash', { 'kf-thread-crash': 'yes' }) });
      await eventually('the new thread\'s watch sees the pod', async () => names.has('after-crash'), 30_000);
    } finally {
      await inf.stop();
      await own.stop();
    }
  });

  it('pods whose containers are in the same states share one frozen copy of each status in the cache, listed or watched', async () => {
    const path = `/api/v1/namespaces/${ns}/pods`;
    const labels = { 'kf-thread-share': 'yes' };
    // what a kubelet would write: the last container exited with `exit`, the others with 0
    const setStatus = async (name: string, exit: number) => {
      const p = await core.readNamespacedPod({ name, namespace: ns });
      p.status = {
        ...p.status,
        phase: 'Running',
        containerStatuses: Array.from({ length: 5 }, (_, i) => ({
          name: `c${i}`, image: `registry.example/app-${i}:v1`, imageID: '', ready: false, restartCount: 0,
          state: { terminated: i === 4 && exit ? { exitCode: exit, reason: 'Error' } : { exitCode: 0, reason: 'Completed' } },
        })),
      };
      await core.replaceNamespacedPodStatus({ name, namespace: ns, body: p });
    };
    await core.createNamespacedPod({ namespace: ns, body: pod('share-a', labels) });
    await setStatus('share-a', 0);
    const inf = restartingInformer<k8s.V1Pod>({ kc, path, labelSelector: 'kf-thread-share=yes', log, resource: 'pods', shape: 'pod', thread, onChange: () => undefined });
    try {
      await inf.start(); // share-a comes in the list
      for (const [name, exit] of [['share-b', 0], ['share-c', 3]] as const) {
        await core.createNamespacedPod({ namespace: ns, body: pod(name, labels) });
        await setStatus(name, exit);
      }
      const statuses = (name: string) => inf.list().find((p) => p.metadata?.name === name)?.status?.containerStatuses ?? [];
      await eventually('the statuses watched', async () => statuses('share-b').length === 5 && statuses('share-c').length === 5, 30_000);
      const [a, b, c] = ['share-a', 'share-b', 'share-c'].map(statuses);
      for (let i = 0; i < 5; i++) {
        expect(b![i], `c${i} of share-b`).to.equal(a![i]); // the same object: one copy for both pods
        expect(Object.isFrozen(a![i]) && Object.isFrozen(a![i]!.state!.terminated)).to.equal(true);
        if (i < 4) expect(c![i]).to.equal(a![i]);
      }
      expect(c![4]).to.not.equal(a![4]);
      expect(c![4]!.state!.terminated).to.include({ exitCode: 3, reason: 'Error' });
      expect(a![4]!.state!.terminated).to.include({ exitCode: 0, reason: 'Completed' });
    } finally {
      await inf.stop();
    }
  });

  it('errors come as on the main thread: a list not served is a ListRequestError with its status, a watch not served an error with statusCode', async () => {
    const missing = '/apis/kubefledged.io/v1alpha2/namespaces/x/no-such-things';
    const err = await listPage(kc, missing, { limit: 5 }, { shape: 'pod', thread }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ListRequestError);
    expect((err as ListRequestError).code).to.equal(404);
    expect((err as ListRequestError).body).to.contain('404');
    const done = await new Promise<unknown>((resolve) => { void threadedWatch(kc, 'pod', thread).watch(missing, {}, () => undefined, resolve); });
    expect((done as { statusCode?: number }).statusCode).to.equal(404);
    expect((done as Error).message).to.equal('Not Found');
    // the server's end of an answer is done(null), as client-node's
    const ended = await new Promise<unknown>((resolve) => { void threadedWatch(kc, 'pod', thread).watch(`/api/v1/namespaces/${ns}/pods`, { timeoutSeconds: 1 }, () => undefined, resolve); });
    expect(ended).to.equal(null);
  });

  it('the thread keeps a process alive while a watch is open, and not once it is over', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-thread-'));
    try {
      const script = path.join(dir, 'watch-once.mts');
      fs.writeFileSync(script, [
        `import { adminKubeConfig } from ${JSON.stringify(path.join(ROOT, 'test/support/cluster.ts'))};`,
        `import { threadedWatch } from ${JSON.stringify(path.join(ROOT, 'src/kube/watch-thread.ts'))};`,
        `const kc = adminKubeConfig();`,
        // a watch the server ends after 2 s: nothing else keeps this process alive meanwhile
        `await threadedWatch(kc, 'pod').watch('/api/v1/namespaces/${ns}/pods', { timeoutSeconds: 2 }, () => undefined, (err) => console.log('done', err));`,
        '',
      ].join('\n'));
      const started = Date.now();
      const out = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
        let stdout = '';
        child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('error', reject);
        child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout }); });
      });
      expect(out.stdout.trim()).to.equal('done null');
      expect(out.code).to.equal(0);
      expect(Date.now() - started).to.be.above(2_000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
