// The informers' paged list (src/kube/informers.ts: limit/continue, plain JSON) on the real API server:
// an informer over more objects than one page holds sees every one of them and then the watch events;
// objects created and deleted while the pages are read do not tear the list (it is the first page's
// snapshot) and arrive through the watch that follows it. ConfigMaps in a namespace of the test's own.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually } from '../../support/cluster.js';
import { listPage, pagedList, restartingInformer, type PageQuery } from '../../../src/kube/informers.js';

describe('kube/informers: paged lists on the real API server', function () {
  this.timeout(120_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never;
  const selector = 'kf-paged=yes';
  let ns: string;
  const names = Array.from({ length: 23 }, (_, i) => `cm-${String(i).padStart(2, '0')}`);
  const create = (name: string) => core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels: { 'kf-paged': 'yes' } }, data: { n: name } } });

  before(async () => {
    ns = await createNamespace(core, 'kf-paged');
    for (const n of names) await create(n);
    // not labelled: the selector is sent with every page
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'other' } } });
  });
  after(async () => {
    if (ns) await deleteNamespace(core, ns);
  });

  it('an informer over 5 pages sees every object (plain JSON, as watch events), then the watch events', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const asked: PageQuery[] = [];
    const events: string[] = [];
    const inf = restartingInformer<k8s.V1ConfigMap>({
      kc, path, labelSelector: selector, log, resource: 'configmaps',
      // the informer's own list (pagedList over listPage, as without `list`), counting its pages
      list: () => pagedList<k8s.V1ConfigMap>((q) => { asked.push(q); return listPage(kc, path, { ...q, labelSelector: selector }); }, { pageSize: 5 }),
      onChange: (verb, cm) => events.push(`${verb} ${cm.metadata?.name}`),
    });
    try {
      await inf.start();
      expect(asked.length).to.equal(5);
      expect(asked[0]).to.deep.equal({ limit: 5 });
      expect(asked.slice(1).every((q) => q.limit === 5 && typeof q.continue === 'string')).to.equal(true);
      expect(inf.list().map((c) => c.metadata!.name).sort()).to.deep.equal(names);
      // the API's JSON, not client-node's deserialized copy (which makes Dates of timestamps)
      expect(typeof inf.list()[0]!.metadata!.creationTimestamp).to.equal('string');
      expect(events.filter((e) => e.startsWith('add ')).length).to.equal(23);

      events.length = 0;
      await create('cm-new');
      await core.patchNamespacedConfigMap({ name: 'cm-03', namespace: ns, body: { data: { n: 'changed' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedConfigMap({ name: 'cm-17', namespace: ns });
      await eventually('the watch events', async () => events.length >= 3 && events, 30_000);
      expect(events).to.deep.equal(['add cm-new', 'update cm-03', 'delete cm-17']);
      expect(inf.list().find((c) => c.metadata?.name === 'cm-03')?.data).to.deep.equal({ n: 'changed' });
    } finally {
      await inf.stop();
    }
  });

  it('the pages are one snapshot: changes made between pages are not in the list, and the watch from its resourceVersion brings them', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const current = (await core.listNamespacedConfigMap({ namespace: ns, labelSelector: selector })).items.map((c) => c.metadata!.name!).sort();
    const last = current[current.length - 1]!;
    let pages = 0;
    const events: string[] = [];
    const inf = restartingInformer<k8s.V1ConfigMap>({
      kc, path, labelSelector: selector, log, resource: 'configmaps',
      list: () => pagedList<k8s.V1ConfigMap>(async (q) => {
        const page = await listPage<k8s.V1ConfigMap>(kc, path, { ...q, labelSelector: selector });
        if (++pages === 1) {
          // after the first page: one object created (it sorts last) and one of a later page deleted
          await create('zz-between');
          await core.deleteNamespacedConfigMap({ name: last, namespace: ns });
        }
        return page;
      }, { pageSize: 4 }),
      onChange: (verb, cm) => events.push(`${verb} ${cm.metadata?.name}`),
    });
    try {
      await inf.start();
      expect(pages).to.be.greaterThan(2);
      // the list as it was at the first page
      expect(events.filter((e) => e.startsWith('add ')).map((e) => e.slice(4)).sort()).to.deep.equal(current);
      await eventually('the watch events of the changes made between pages', async () => events.length >= current.length + 2 && events, 30_000);
      expect(events.slice(current.length)).to.deep.equal(['add zz-between', `delete ${last}`]);
      expect(inf.list().map((c) => c.metadata!.name).sort()).to.deep.equal([...current.filter((n) => n !== last), 'zz-between'].sort());
    } finally {
      await inf.stop();
    }
  });

  it('a page the API server refuses is an error with its status (400 for a malformed continue token)', async () => {
    const err = await listPage(kc, `/api/v1/namespaces/${ns}/configmaps`, { limit: 5, continue: 'not-a-token' }).catch((e: unknown) => e);
    expect((err as { code?: number }).code).to.equal(400);
    expect(String((err as { body?: string }).body)).to.match(/continue/i);
  });
});
