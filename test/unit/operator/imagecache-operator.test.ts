import { expect } from 'chai';
import { createRequire } from 'node:module';
import { KubeConfig } from '@kubernetes/client-node';
import { ImageCacheIndex, ImageCacheOperator } from '../../../src/operator/imagecache-operator.js';
import { createLogger } from '../../../src/operator/logger.js';

describe('operator/imagecache-operator', () => {
  const kcFor = (server: string) => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server }], users: [{ name: 'u', token: 'secret-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
    });
    return kc;
  };

  it('the SDK\'s own client gets the controller\'s configuration (--kubeconfig / --master), not the default locations', () => {
    const keys: string[] = [];
    const op = new ImageCacheOperator({ index: new ImageCacheIndex(), enqueue: (k) => keys.push(k), log: createLogger('error'), kc: kcFor('https://10.1.2.3:6443') });
    const sdk = op as unknown as { kubeConfig: { getCurrentCluster(): { server: string } | null; getCurrentUser(): { token?: string } | null } };
    expect(sdk.kubeConfig.getCurrentCluster()?.server).to.equal('https://10.1.2.3:6443');
    expect(sdk.kubeConfig.getCurrentUser()?.token).to.equal('secret-token');
  });

  it('the SDK runs on the project\'s client-node (package.json "overrides"), not a second, older copy of its own', () => {
    // one client in the process: the SDK's nested client-node 0.20.0 (and the request stack under it)
    // cost the controller about 10 MiB of RSS (docs/benchmark.md, Memory)
    const fromProject = createRequire(import.meta.url);
    const fromSdk = createRequire(fromProject.resolve('@dot-i/k8s-operator'));
    expect(fromSdk.resolve('@kubernetes/client-node/package.json')).to.equal(fromProject.resolve('@kubernetes/client-node/package.json'));
    // (under plain node the SDK's KubeConfig is then the very class of the controller's; tsx, which these
    // tests run under, loads the ES module a second time for the SDK's require())
    const op = new ImageCacheOperator({ index: new ImageCacheIndex(), enqueue: () => undefined, log: createLogger('error'), kc: kcFor('https://127.0.0.1:1') });
    expect((op as unknown as { kubeConfig: object }).kubeConfig).to.respondTo('applyToFetchOptions'); // 1.x's; 0.20 has applyToRequest
  });

  it('onEvent records the object (or forgets it on DELETED) and enqueues its key; a malformed event is dropped', () => {
    const keys: string[] = [];
    const index = new ImageCacheIndex();
    const op = new ImageCacheOperator({ index, enqueue: (k) => keys.push(k), log: createLogger('error'), kc: kcFor('https://127.0.0.1:1') });
    const obj = { apiVersion: 'kubefledged.io/v1alpha2', kind: 'ImageCache', metadata: { name: 'c1', namespace: 'ns', uid: 'u1', resourceVersion: '1' } };
    op.onEvent({ type: 'ADDED', object: obj, meta: {} } as never);
    expect(index.keyOfUid('u1')).to.equal('ns/c1');
    op.onEvent({ type: 'DELETED', object: obj, meta: {} } as never);
    expect(index.keyOfUid('u1')).to.equal(undefined);
    expect(() => op.onEvent({ type: 'ADDED', object: undefined, meta: {} } as never)).not.to.throw();
    expect(keys).to.deep.equal(['ns/c1', 'ns/c1']);
  });

  it('the echo of the controller\'s own write (a MODIFIED event of the version the index holds) is not enqueued', () => {
    const keys: string[] = [];
    const index = new ImageCacheIndex();
    const op = new ImageCacheOperator({ index, enqueue: (k) => keys.push(k), log: createLogger('error'), kc: kcFor('https://127.0.0.1:1') });
    const obj = (rv: string, uid = 'u1') => ({ apiVersion: 'kubefledged.io/v1alpha2', kind: 'ImageCache', metadata: { name: 'c1', namespace: 'ns', uid, resourceVersion: rv } });
    op.onEvent({ type: 'ADDED', object: obj('1'), meta: {} } as never);
    index.setIfNewer(obj('2') as never); // a status write's answer, remembered
    op.onEvent({ type: 'MODIFIED', object: obj('2'), meta: {} } as never);
    expect(keys, 'the echo').to.deep.equal(['ns/c1']);
    op.onEvent({ type: 'MODIFIED', object: obj('3'), meta: {} } as never);
    op.onEvent({ type: 'MODIFIED', object: obj('3', 'u2'), meta: {} } as never); // another object of that name
    op.onEvent({ type: 'ADDED', object: obj('3', 'u2'), meta: {} } as never); // a relist's ADDED is never taken for an echo
    expect(keys).to.deep.equal(['ns/c1', 'ns/c1', 'ns/c1', 'ns/c1']);
  });

  it('a write\'s answer that arrives after the DELETED event does not bring the cache back; a new object of the same name does come in', () => {
    const index = new ImageCacheIndex();
    const meta = (uid: string, rv: string) => ({ apiVersion: 'kubefledged.io/v1alpha2', kind: 'ImageCache', metadata: { name: 'c1', namespace: 'ns', uid, resourceVersion: rv } }) as never;
    index.setIfNewer(meta('u1', '5'));
    index.delete(meta('u1', '7'));
    index.setIfNewer(meta('u1', '6')); // the status write's answer, late
    expect(index.get('ns/c1')).to.equal(undefined);
    expect(index.all()).to.deep.equal([]);
    index.setIfNewer(meta('u2', '9')); // re-created under the same name
    expect(index.get('ns/c1')?.metadata.uid).to.equal('u2');
    index.delete(meta('u1', '7')); // a repeated delete of the old object leaves the new one
    expect(index.get('ns/c1')?.metadata.uid).to.equal('u2');
  });

  it('is not synced before its watch has listed', () => {
    const op = new ImageCacheOperator({ index: new ImageCacheIndex(), enqueue: () => undefined, log: createLogger('error'), kc: kcFor('https://127.0.0.1:1') });
    expect(op.synced()).to.equal(false);
  });
});
