import { expect } from 'chai';
import { ApiException, KubeConfig, Watch, type KubernetesListObject, type V1Node } from '@kubernetes/client-node';
import { ListRequestError, MissingPermissionError, pagedList, restartingInformer, transformingWatch, type PageQuery } from '../../../src/kube/informers.js';
import { classifyApiError, apiErrorText } from '../../../src/kube/api-errors.js';

/** A KubeConfig whose watch requests never connect (no network in unit tests). */
class NoWatchKubeConfig extends KubeConfig {
  constructor() {
    super();
    this.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
    });
  }
  override applyToFetchOptions(): never {
    return new Promise(() => undefined) as never;
  }
}

const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never;
const nodeList = (...names: string[]): KubernetesListObject<V1Node> => ({
  apiVersion: 'v1', kind: 'NodeList', metadata: { resourceVersion: '10' },
  items: names.map((name) => ({ metadata: { name, resourceVersion: '5' } })),
});
const status429 = () => new ApiException(429, 'Unknown API Status Code!', JSON.stringify({ reason: 'TooManyRequests', message: 'storage is (re)initializing' }), { 'retry-after': '0' });

describe('kube/informers: restartingInformer', () => {
  it('a failed list is not a sync: start() resolves and synced() turns true only after a list succeeded', async () => {
    const answers: (Error | KubernetesListObject<V1Node>)[] = [status429(), status429(), nodeList('a', 'b')];
    let lists = 0;
    const added: string[] = [];
    const inf = restartingInformer<V1Node>({
      kc: new NoWatchKubeConfig(), path: '/api/v1/nodes', log, resource: 'nodes',
      list: async () => {
        const a = answers[lists++]!;
        if (a instanceof Error) throw a;
        return a;
      },
      onChange: (verb, n) => added.push(`${verb} ${n.metadata?.name}`),
      timings: { initialDelayMs: 5, maxDelayMs: 10 },
    });
    let resolved = false;
    const started = inf.start().then(() => { resolved = true; });
    await new Promise((r) => setTimeout(r, 3));
    expect(lists).to.equal(1);
    expect(inf.synced()).to.equal(false);
    expect(resolved).to.equal(false);
    await started;
    expect(lists).to.equal(3);
    expect(inf.synced()).to.equal(true);
    expect(inf.list().map((n) => n.metadata?.name).sort()).to.deep.equal(['a', 'b']);
    expect(added.sort()).to.deep.equal(['add a', 'add b']);
    await inf.stop();
  });

  it('a lasting 403 at start-up rejects start() with a message naming the resource and the fix', async () => {
    const inf = restartingInformer<V1Node>({
      kc: new NoWatchKubeConfig(), path: '/api/v1/nodes', log, resource: 'nodes',
      list: async () => { throw new ApiException(403, 'x', JSON.stringify({ reason: 'Forbidden', message: 'nodes is forbidden: User "system:serviceaccount:kf:c" cannot list resource "nodes"' }), {}); },
      onChange: () => undefined,
      timings: { initialDelayMs: 5, maxDelayMs: 5, permissionGraceMs: 20 },
    });
    const err = await inf.start().then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(MissingPermissionError);
    expect((err as Error).message).to.match(/^missing permission: the controller may not list\/watch nodes \(403 Forbidden\): 403 Forbidden: nodes is forbidden/);
    expect((err as Error).message).to.contain('ClusterRole');
    expect(inf.synced()).to.equal(false);
    await inf.stop();
  });

  it('a 403 that goes away within the grace (RBAC propagating) syncs normally', async () => {
    let lists = 0;
    const inf = restartingInformer<V1Node>({
      kc: new NoWatchKubeConfig(), path: '/api/v1/nodes', log, resource: 'nodes',
      list: async () => {
        if (lists++ < 2) throw new ApiException(403, 'x', '', {});
        return nodeList('a');
      },
      onChange: () => undefined,
      timings: { initialDelayMs: 5, maxDelayMs: 5, permissionGraceMs: 10_000 },
    });
    await inf.start();
    expect(inf.synced()).to.equal(true);
    await inf.stop();
  });

  it('stop() ends the retries and settles start()', async () => {
    let lists = 0;
    const inf = restartingInformer<V1Node>({
      kc: new NoWatchKubeConfig(), path: '/api/v1/nodes', log, resource: 'nodes',
      list: async () => { lists++; throw status429(); },
      onChange: () => undefined,
      timings: { initialDelayMs: 5, maxDelayMs: 5 },
    });
    const started = inf.start();
    await new Promise((r) => setTimeout(r, 20));
    await inf.stop();
    await started;
    const after = lists;
    await new Promise((r) => setTimeout(r, 20));
    expect(lists).to.equal(after);
    expect(inf.synced()).to.equal(false);
  });

  it('caches and reports the transformed list items (transform), not the objects the API sent', async () => {
    const changed: V1Node[] = [];
    const inf = restartingInformer<V1Node>({
      kc: new NoWatchKubeConfig(), path: '/api/v1/nodes', log, resource: 'nodes',
      list: async () => {
        const l = nodeList('a', 'b');
        for (const n of l.items) n.metadata!.managedFields = [{ manager: 'kubelet' }];
        return l;
      },
      transform: (n) => ({ metadata: { name: n.metadata?.name, resourceVersion: n.metadata?.resourceVersion } }),
      onChange: (_verb, n) => changed.push(n),
    });
    await inf.start();
    expect(inf.list().map((n) => n.metadata)).to.deep.equal([{ name: 'a', resourceVersion: '5' }, { name: 'b', resourceVersion: '5' }]);
    expect(changed.map((n) => n.metadata)).to.deep.equal([{ name: 'a', resourceVersion: '5' }, { name: 'b', resourceVersion: '5' }]);
    await inf.stop();
  });

  it('transformingWatch hands ADDED/MODIFIED/DELETED objects through the transform, ERROR and BOOKMARK unchanged', async () => {
    const events: [string, unknown][] = [];
    const kc = new NoWatchKubeConfig();
    const inner = new Watch(kc);
    const sent: { path: string; query: unknown } = { path: '', query: undefined };
    inner.watch = async (path, query, callback, done) => {
      sent.path = path;
      sent.query = query;
      callback('ADDED', { metadata: { name: 'a', managedFields: [{}] } }, {});
      callback('MODIFIED', { metadata: { name: 'a', managedFields: [{}] } }, {});
      callback('DELETED', { metadata: { name: 'a', managedFields: [{}] } }, {});
      callback('BOOKMARK', { metadata: { resourceVersion: '9' } }, {});
      callback('ERROR', { code: 410 }, {});
      done(null);
      return new AbortController();
    };
    const w = transformingWatch<V1Node>(inner, (n) => ({ metadata: { name: `slim-${n.metadata?.name}` } }));
    let finished = false;
    await w.watch('/api/v1/nodes', { resourceVersion: '5' }, (phase, obj) => events.push([phase, obj]), () => { finished = true; });
    expect(sent).to.deep.equal({ path: '/api/v1/nodes', query: { resourceVersion: '5' } });
    expect(events).to.deep.equal([
      ['ADDED', { metadata: { name: 'slim-a' } }],
      ['MODIFIED', { metadata: { name: 'slim-a' } }],
      ['DELETED', { metadata: { name: 'slim-a' } }],
      ['BOOKMARK', { metadata: { resourceVersion: '9' } }],
      ['ERROR', { code: 410 }],
    ]);
    expect(finished).to.equal(true);
    expect(w.config).to.equal(kc);
  });
});

describe('kube/informers: pagedList', () => {
  const node = (name: string): V1Node => ({ metadata: { name, managedFields: [{ manager: 'x' }] } });
  // the API's JSON (listPage): the token is metadata.continue (client-node's deserialized lists call it _continue)
  const page = (names: string[], cont?: string, rv = '100'): KubernetesListObject<V1Node> => ({
    apiVersion: 'v1', kind: 'NodeList', metadata: { resourceVersion: rv, ...(cont ? { continue: cont, remainingItemCount: 3 } : {}) } as never, items: names.map(node),
  });
  const slim = (n: V1Node): V1Node => ({ metadata: { name: n.metadata?.name } });
  const gone = () => new ListRequestError(410, JSON.stringify({ kind: 'Status', reason: 'Expired', message: 'The provided continue parameter is too old' }), {}, '/api/v1/nodes');

  it('reads every page (limit, then each continue token) and returns one list at the first page\'s resourceVersion', async () => {
    const asked: PageQuery[] = [];
    const log: string[] = [];
    const pages: Record<string, KubernetesListObject<V1Node>> = { '': page(['a', 'b'], 't1'), t1: page(['c', 'd'], 't2', '100'), t2: page(['e'], undefined, '100') };
    const list = await pagedList<V1Node>(async (q) => { asked.push(q); log.push(`get ${q.continue ?? ''}`); return pages[q.continue ?? '']!; },
      { pageSize: 2, transform: (n) => { log.push(`transform ${n.metadata?.name}`); return slim(n); } });
    expect(asked).to.deep.equal([{ limit: 2 }, { limit: 2, continue: 't1' }, { limit: 2, continue: 't2' }]);
    expect(list.items).to.deep.equal(['a', 'b', 'c', 'd', 'e'].map((name) => ({ metadata: { name } })));
    expect(list.metadata).to.deep.equal({ resourceVersion: '100' });
    expect(list.kind).to.equal('NodeList');
    // each page is transformed as it arrives, before the next is asked for
    expect(log).to.deep.equal(['get ', 'transform a', 'transform b', 'get t1', 'transform c', 'transform d', 'get t2', 'transform e']);
  });

  it('reads client-node\'s deserialized pages too (metadata._continue)', async () => {
    const asked: PageQuery[] = [];
    const typed = (names: string[], cont?: string): KubernetesListObject<V1Node> => ({ metadata: { resourceVersion: '7', ...(cont ? { _continue: cont } : {}) }, items: names.map(node) });
    const list = await pagedList<V1Node>(async (q) => { asked.push(q); return q.continue ? typed(['b']) : typed(['a'], 'x'); }, { pageSize: 1 });
    expect(asked).to.deep.equal([{ limit: 1 }, { limit: 1, continue: 'x' }]);
    expect(list.items.map((n) => n.metadata?.name)).to.deep.equal(['a', 'b']);
    expect(list.metadata).to.deep.equal({ resourceVersion: '7' });
  });

  it('a continue token that expired (410) reads the list again whole, without a limit', async () => {
    const asked: PageQuery[] = [];
    const list = await pagedList<V1Node>(async (q) => {
      asked.push(q);
      if (q.continue) throw gone();
      return q.limit ? page(['a', 'b'], 't1', '100') : page(['a', 'b', 'c'], undefined, '140');
    }, { pageSize: 2, transform: slim });
    expect(asked).to.deep.equal([{ limit: 2 }, { limit: 2, continue: 't1' }, {}]);
    expect(list.metadata).to.deep.equal({ resourceVersion: '140' });
    expect(list.items.map((n) => n.metadata?.name)).to.deep.equal(['a', 'b', 'c']);
    expect(list.items[0]).to.deep.equal({ metadata: { name: 'a' } });
    expect(list.metadata?.resourceVersion).to.equal('140');
  });

  it('any other failure, or a 410 of the first page, is the caller\'s (the informer restarts with backoff)', async () => {
    const boom = new ListRequestError(500, '{"reason":"InternalError","message":"etcd"}', { 'retry-after': '2' }, '/api/v1/nodes');
    let n = 0;
    const err = await pagedList<V1Node>(async () => { if (n++ === 0) return page(['a'], 't1'); throw boom; }, { pageSize: 1 }).catch((e: unknown) => e);
    expect(err).to.equal(boom);
    expect(classifyApiError(boom)).to.deep.equal({ kind: 'transient', retryAfterMs: 2000 });
    expect(apiErrorText(boom)).to.equal('500 InternalError: etcd');
    const first = await pagedList<V1Node>(async () => { throw gone(); }, { pageSize: 1 }).catch((e: unknown) => e);
    expect(first).to.be.instanceOf(ListRequestError);
    expect((first as ListRequestError).code).to.equal(410);
  });
});
