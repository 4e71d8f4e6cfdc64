import { expect } from 'chai';
import { nextOperation, refreshAllowed, specChanged } from '../../../src/planning/next-operation.js';
import type { ImageCache } from '../../../src/api/imagecache.js';

function cache(status?: Partial<NonNullable<ImageCache['status']>>, annotations: Record<string, string> = {}, generation = 1): ImageCache {
  return {
    metadata: { name: 'c', namespace: 'ns', generation, annotations },
    spec: { cacheSpec: [{ images: ['a.io/x:1'] }] },
    status: status ? { status: '', reason: '', message: '', startTime: '', ...status } : undefined,
  };
}
const noJoin = { full: [], onlyMissing: [] };
const none = { refreshDue: false, joined: noJoin };

describe('nextOperation', () => {
  it('a cache without status is created', () => {
    expect(nextOperation({ cache: cache(), ...none })?.type).to.equal('create');
  });
  it('nothing starts while Processing (triggers wait: they are levels, still true afterwards)', () => {
    const c = cache({ status: 'Processing', observedGeneration: 1 }, { 'kubefledged.io/purge-imagecache': '' }, 3);
    expect(nextOperation({ cache: c, refreshDue: true, joined: { full: ['n1'], onlyMissing: [] } })).to.equal(undefined);
  });
  it('purge annotation first, then a spec change, then the refresh annotation, then the timer, then joined nodes', () => {
    const done = { status: 'Succeeded', reason: 'ImageCacheCreate', observedGeneration: 1 };
    const all = { 'kubefledged.io/purge-imagecache': '', 'kubefledged.io/refresh-imagecache': '' };
    expect(nextOperation({ cache: cache(done, all, 2), ...none })?.type).to.equal('purge');
    expect(nextOperation({ cache: cache(done, { 'kubefledged.io/refresh-imagecache': '' }, 2), ...none })?.type).to.equal('update');
    expect(nextOperation({ cache: cache(done, { 'kubefledged.io/refresh-imagecache': '' }, 1), ...none })?.type).to.equal('refresh');
    expect(nextOperation({ cache: cache(done, {}, 1), refreshDue: true, joined: noJoin })?.type).to.equal('refresh');
    const joined = nextOperation({ cache: cache(done, {}, 1), refreshDue: false, joined: { full: ['n2', 'n1'], onlyMissing: ['n3'] } });
    expect(joined).to.include({ type: 'refresh' });
    expect(joined?.nodes).to.deep.equal(['n1', 'n2']);
    expect(joined?.onlyMissing).to.equal(undefined);
    const back = nextOperation({ cache: cache(done, {}, 1), refreshDue: false, joined: { full: [], onlyMissing: ['n3'] } });
    expect(back).to.include({ type: 'refresh', onlyMissing: true });
    expect(back?.nodes).to.deep.equal(['n3']);
    expect(nextOperation({ cache: cache(done, {}, 1), ...none })).to.equal(undefined);
  });
  it('the timer skips purged caches and CacheSpecValidationFailed, but a purged cache still honours an edit or the annotation', () => {
    const purged = { status: 'Succeeded', reason: 'ImageCachePurge', observedGeneration: 1 };
    expect(refreshAllowed(cache(purged))).to.equal(false);
    expect(nextOperation({ cache: cache(purged), refreshDue: true, joined: { full: ['n1'], onlyMissing: [] } })).to.equal(undefined);
    expect(nextOperation({ cache: cache(purged, { 'kubefledged.io/refresh-imagecache': '' }), ...none })?.type).to.equal('refresh');
    expect(nextOperation({ cache: cache(purged, {}, 2), ...none })?.type).to.equal('update');
    expect(refreshAllowed(cache({ status: 'Failed', reason: 'CacheSpecValidationFailed' }))).to.equal(false);
    expect(refreshAllowed(cache({ status: 'Aborted', reason: 'ImagePullAborted' }))).to.equal(true);
    expect(refreshAllowed(cache({ status: 'NoImagesPulledOrDeleted', reason: 'ImageCacheCreate' }))).to.equal(true);
  });
  it('a status without observedGeneration (written by the original controller) is not a spec change', () => {
    expect(specChanged(cache({ status: 'Succeeded' }, {}, 5))).to.equal(false);
    expect(specChanged(cache({ status: 'Succeeded', observedGeneration: 4 }, {}, 5))).to.equal(true);
  });
  it('a cache being deleted gets nothing', () => {
    const c = cache();
    c.metadata.deletionTimestamp = new Date().toISOString();
    expect(nextOperation({ cache: c, ...none })).to.equal(undefined);
  });
});
