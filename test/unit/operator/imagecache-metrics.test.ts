// The per-cache series (kubefledged_imagecache_status, kubefledged_imagecache_operation_start_time_seconds):
// what each cache exports, and that only the exporting term (the leader) has them, removed with the cache.
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import type { ImageCache, ImageCacheStatus } from '../../../src/api/imagecache.js';
import { parseControllerConfig, type ControllerConfig } from '../../../src/config/controller-config.js';
import { Controller } from '../../../src/operator/controller.js';
import { createLogger } from '../../../src/operator/logger.js';
import { CACHE_STATUSES, createControllerMetrics, imageCacheSeries, type ControllerMetrics } from '../../../src/operator/metrics.js';

const START = '2026-01-02T03:04:05Z';
const START_S = Date.parse(START) / 1000;

function cache(namespace: string, name: string, status?: Partial<ImageCacheStatus>): ImageCache {
  return {
    apiVersion: 'kubefledged.io/v1alpha2', kind: 'ImageCache',
    metadata: { namespace, name, uid: `${namespace}-${name}` },
    spec: { cacheSpec: [{ images: ['a:1'] }] },
    ...(status ? { status: { reason: '', message: '', startTime: START, ...status } as ImageCacheStatus } : {}),
  };
}

/** The samples of one metric family as "labels value" lines (sorted), from the registry's text output. */
async function samples(m: ControllerMetrics, family: string): Promise<string[]> {
  const text = await m.registry.metrics();
  return text.split('\n').filter((l) => l.startsWith(`${family}{`) || l.startsWith(`${family} `)).map((l) => l.slice(family.length)).sort();
}

describe('operator/metrics: per-cache series', () => {
  describe('imageCacheSeries (pure)', () => {
    it('one series per status for each cache: 1 for the current status, 0 for the others', () => {
      const { status } = imageCacheSeries([cache('a', 'ok', { status: 'Succeeded' }), cache('b', 'bad', { status: 'Failed' })]);
      expect(status).to.have.length(2 * CACHE_STATUSES.length);
      expect(status.filter((s) => s.value === 1).map((s) => s.labels)).to.deep.equal([
        { imagecache_namespace: 'a', imagecache: 'ok', status: 'Succeeded' },
        { imagecache_namespace: 'b', imagecache: 'bad', status: 'Failed' },
      ]);
      expect(status.filter((s) => s.labels.imagecache === 'bad').map((s) => `${s.labels.status}=${s.value}`)).to.deep.equal([
        'Processing=0', 'Succeeded=0', 'Failed=1', 'Aborted=0', 'NoImagesPulledOrDeleted=0',
      ]);
    });

    it('uses the exact status strings of the original, and a status outside them gets its own series', () => {
      expect(CACHE_STATUSES).to.deep.equal(['Processing', 'Succeeded', 'Failed', 'Aborted', 'NoImagesPulledOrDeleted']);
      const { status } = imageCacheSeries([cache('a', 'x', { status: 'Unknown' })]);
      expect(status.filter((s) => s.value === 1).map((s) => s.labels.status)).to.deep.equal(['Unknown']);
      expect(status).to.have.length(CACHE_STATUSES.length + 1);
    });

    it('a cache without status yet has every status series at 0 and no start time', () => {
      const { status, started } = imageCacheSeries([cache('a', 'new')]);
      expect(status.map((s) => s.value)).to.deep.equal(CACHE_STATUSES.map(() => 0));
      expect(started).to.deep.equal([]);
    });

    it('a Processing cache has its start time in Unix seconds, labelled with its operation', () => {
      const { started } = imageCacheSeries([
        cache('a', 'refreshing', { status: 'Processing', reason: 'ImageCacheRefresh', operation: { id: 'x', type: 'refresh', generation: 1 } }),
        cache('a', 'legacy', { status: 'Processing', reason: 'ImageCachePurge' }), // no operation record: from the reason
        cache('a', 'odd', { status: 'Processing', reason: 'Something' }),
        cache('a', 'done', { status: 'Succeeded', reason: 'ImageCacheCreate' }),
      ]);
      expect(started).to.deep.equal([
        { labels: { imagecache_namespace: 'a', imagecache: 'refreshing', operation: 'refresh' }, value: START_S },
        { labels: { imagecache_namespace: 'a', imagecache: 'legacy', operation: 'purge' }, value: START_S },
        { labels: { imagecache_namespace: 'a', imagecache: 'odd', operation: 'unknown' }, value: START_S },
      ]);
    });

    it('a Processing cache with an unreadable startTime has no start-time series (rather than a wrong one)', () => {
      expect(imageCacheSeries([cache('a', 'x', { status: 'Processing', startTime: 'not a time' })]).started).to.deep.equal([]);
    });
  });

  describe('the registry', () => {
    it('exports nothing per cache without a source (a standby replica), and the pull deadline as set', async () => {
      const m = createControllerMetrics({ defaultMetrics: false });
      m.imagePullDeadline.set(300);
      expect(await samples(m, 'kubefledged_imagecache_status')).to.deep.equal([]);
      expect(await samples(m, 'kubefledged_imagecache_operation_start_time_seconds')).to.deep.equal([]);
      expect(await samples(m, 'kubefledged_image_pull_deadline_seconds')).to.deep.equal([' 300']);
    });

    it('follows the source at every scrape: a status change moves the 1, a deleted cache loses its series', async () => {
      const m = createControllerMetrics({ defaultMetrics: false });
      let caches = [cache('a', 'one', { status: 'Processing', reason: 'ImageCacheCreate' }), cache('b', 'two', { status: 'Failed' })];
      m.exportCaches(() => caches);
      expect((await samples(m, 'kubefledged_imagecache_status')).filter((l) => l.endsWith(' 1'))).to.deep.equal([
        '{imagecache_namespace="a",imagecache="one",status="Processing"} 1',
        '{imagecache_namespace="b",imagecache="two",status="Failed"} 1',
      ]);
      expect(await samples(m, 'kubefledged_imagecache_operation_start_time_seconds')).to.deep.equal([
        `{imagecache_namespace="a",imagecache="one",operation="create"} ${START_S}`,
      ]);
      caches = [cache('a', 'one', { status: 'Succeeded', reason: 'ImageCacheCreate' })];
      expect((await samples(m, 'kubefledged_imagecache_status')).filter((l) => l.endsWith(' 1'))).to.deep.equal([
        '{imagecache_namespace="a",imagecache="one",status="Succeeded"} 1',
      ]);
      expect(await samples(m, 'kubefledged_imagecache_status')).to.have.length(CACHE_STATUSES.length);
      expect(await samples(m, 'kubefledged_imagecache_operation_start_time_seconds')).to.deep.equal([]);
    });

    it('withdrawing a source removes its series; a stale withdraw does not remove a newer term\'s', async () => {
      const m = createControllerMetrics({ defaultMetrics: false });
      const withdrawOld = m.exportCaches(() => [cache('a', 'old', { status: 'Failed' })]);
      withdrawOld();
      expect(await samples(m, 'kubefledged_imagecache_status')).to.deep.equal([]);
      m.exportCaches(() => [cache('a', 'new', { status: 'Failed' })]);
      withdrawOld();
      expect((await samples(m, 'kubefledged_imagecache_status')).filter((l) => l.endsWith(' 1'))).to.deep.equal([
        '{imagecache_namespace="a",imagecache="new",status="Failed"} 1',
      ]);
    });
  });

  it('a Controller term exports its index from start() until stop(), then nothing', async () => {
    const kc = new KubeConfig();
    // nothing listens on port 1: the watches keep retrying in the background; the term is stopped below
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const config = (parseControllerConfig([], {}) as { config: ControllerConfig }).config;
    const m = createControllerMetrics({ defaultMetrics: false });
    const term = new Controller(config, kc, createLogger('error'), m);
    term.index.set(cache('a', 'one', { status: 'Failed' }));
    expect(await samples(m, 'kubefledged_imagecache_status')).to.deep.equal([]);
    const started = term.start().catch(() => undefined);
    try {
      expect((await samples(m, 'kubefledged_imagecache_status')).filter((l) => l.endsWith(' 1'))).to.deep.equal([
        '{imagecache_namespace="a",imagecache="one",status="Failed"} 1',
      ]);
      term.index.delete(cache('a', 'one'));
      expect(await samples(m, 'kubefledged_imagecache_status')).to.deep.equal([]);
      term.index.set(cache('a', 'two', { status: 'Succeeded' }));
      expect(await samples(m, 'kubefledged_imagecache_status')).to.have.length(CACHE_STATUSES.length);
    } finally {
      await term.stop(0); // its watches stop retrying, whatever the assertions said
      await started;
    }
    expect(await samples(m, 'kubefledged_imagecache_status')).to.deep.equal([]);
  });
});
