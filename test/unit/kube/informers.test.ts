import { expect } from 'chai';
import { ApiException, KubeConfig, type KubernetesListObject, type V1Node } from '@kubernetes/client-node';
import { MissingPermissionError, restartingInformer } from '../../../src/kube/informers.js';

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
});
