import { expect } from 'chai';
import { effectiveSpec, labelSelectorMatches, retiringAfter, sameRetiring, sameSpec, workloadImages, type WorkloadImages } from '../../../src/planning/workload-images.js';
import type { ImageCache, RetiringImage } from '../../../src/api/imagecache.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const w = (name: string, images: string[], labels: Record<string, string> = { app: 'shop' }, namespace = 'ns'): WorkloadImages => ({ kind: 'Deployment', namespace, name, labels, images });
function cache(applied?: string[], retiring?: RetiringImage[]): ImageCache {
  return {
    metadata: { name: 'c', namespace: 'ns' },
    spec: { cacheSpec: [{ images: ['x.io/base:1'], workloadSelector: { matchLabels: { app: 'shop' } } }] },
    ...(applied ? { status: { status: 'Succeeded', reason: 'ImageCacheCreate', message: '', startTime: '', lastAppliedSpec: { cacheSpec: [{ images: applied, workloadSelector: { matchLabels: { app: 'shop' } } }] }, retiringImages: retiring } } : {}),
  };
}

describe('images that follow workloads (pure)', () => {
  it('reads containers and init containers of Deployments, StatefulSets, DaemonSets and CronJobs', () => {
    const pod = { initContainers: [{ image: 'x.io/init:1' }], containers: [{ image: 'x.io/app:1' }, { image: 'x.io/app:1' }] };
    expect(workloadImages('Deployment', { metadata: { name: 'd', namespace: 'ns' }, spec: { template: { spec: pod } } }).images).to.deep.equal(['x.io/init:1', 'x.io/app:1']);
    expect(workloadImages('CronJob', { metadata: { name: 'j', namespace: 'ns' }, spec: { jobTemplate: { spec: { template: { spec: pod } } } } }).images).to.deep.equal(['x.io/init:1', 'x.io/app:1']);
  });
  it('label selectors: matchLabels and matchExpressions ANDed', () => {
    expect(labelSelectorMatches({ app: 'shop', tier: 'web' }, { matchLabels: { app: 'shop' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] })).to.equal(true);
    expect(labelSelectorMatches({ app: 'shop' }, { matchExpressions: [{ key: 'tier', operator: 'Exists' }] })).to.equal(false);
    expect(labelSelectorMatches({}, {})).to.equal(true);
  });
  it('the spec to apply: own images, then the matching workloads\' images of the cache\'s namespace', () => {
    const e = effectiveSpec(cache(), [w('a', ['x.io/app:2', 'x.io/base:1']), w('b', ['x.io/other:1'], { app: 'blog' }), w('c', ['x.io/elsewhere:1'], { app: 'shop' }, 'other-ns')], T0, 60_000);
    expect(e.cacheSpec[0]!.images).to.deep.equal(['x.io/base:1', 'x.io/app:2']);
    expect(e.retiring).to.deep.equal([]);
  });
  it('an image no workload uses stays for the grace period, then leaves; another workload using it keeps it', () => {
    const applied = ['x.io/base:1', 'x.io/app:1'];
    const during = effectiveSpec(cache(applied), [w('a', ['x.io/app:2'])], T0, 60_000);
    expect(during.cacheSpec[0]!.images).to.deep.equal(['x.io/base:1', 'x.io/app:2', 'x.io/app:1']);
    expect(during.retiring).to.deep.equal([{ entry: 0, image: 'x.io/app:1', since: new Date(T0).toISOString() }]);
    expect(during.nextExpiryMs).to.equal(T0 + 60_000);
    const after = effectiveSpec(cache(applied, during.retiring), [w('a', ['x.io/app:2'])], T0 + 60_000, 60_000);
    expect(after.cacheSpec[0]!.images).to.deep.equal(['x.io/base:1', 'x.io/app:2']);
    // still recorded (the grace does not start again) until the update that deletes it ends
    expect(after.retiring).to.deep.equal(during.retiring);
    expect(after.nextExpiryMs).to.equal(undefined);
    expect(retiringAfter(after.retiring, after.cacheSpec)).to.deep.equal([]);
    expect(retiringAfter(during.retiring, during.cacheSpec)).to.deep.equal(during.retiring);
    expect(sameRetiring([{ entry: 0, image: 'a', since: '2026-01-01T00:00:00Z' }], [{ since: '2026-01-01T00:00:00.000Z', image: 'a', entry: 0 }])).to.equal(true);
    const kept = effectiveSpec(cache(applied), [w('a', ['x.io/app:2']), w('b', ['x.io/app:1'])], T0, 60_000);
    expect(kept.retiring).to.deep.equal([]);
    expect(sameSpec(kept.cacheSpec, cache(applied).status!.lastAppliedSpec!.cacheSpec)).to.equal(false);
    expect(sameSpec([{ images: ['a', 'b'], nodeSelector: { x: '1' } }], [{ nodeSelector: { x: '1' }, images: ['b', 'a'] }])).to.equal(true);
  });
});
