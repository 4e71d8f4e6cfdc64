import { expect } from 'chai';
import sinon from 'sinon';
import { boundFailures, cacheStatusFields, carriedFailures, type CacheScope, type PairResult } from '../../../src/planning/status-computation.js';
import { Message } from '../../../src/api/constants.js';
import { PendingTriggers } from '../../../src/reconcilers/pending-triggers.js';
import { becameTrue, cacheConditions } from '../../../src/planning/cache-conditions.js';
import { StatusConflict, StatusWriter, compactStatus } from '../../../src/status/status-writer.js';
import type { ImageCacheApi } from '../../../src/kube/imagecache-api.js';
import type { ImageCache, ImageCacheStatus } from '../../../src/api/imagecache.js';

const pair = (image: string, host: string, state: PairResult['state'], action: PairResult['action'] = 'pull', reason = '', message = ''): PairResult =>
  ({ node: host, hostname: host, action, specImages: [image], state, reason, message });
const scopeOf = (pairs: [string, string][]): CacheScope => {
  const s = new Set(pairs.map(([img, host]) => `${host}\n${img}`));
  return { desired: pairs.length, wants: (img, host) => s.has(`${host}\n${img}`) };
};

describe('whole-cache status (pure)', () => {
  it('a no-op update (nothing to do) on a healthy cache is Succeeded with the pulled wording, counts of the whole cache', () => {
    const f = cacheStatusFields('update', [], scopeOf([['a', 'h1'], ['a', 'h2']]), undefined);
    expect(f).to.include({ status: 'Succeeded', message: Message.ImagesPulledSuccessfully });
    expect(f.counts).to.deep.equal({ desired: 2, succeeded: 2, failed: 0, pending: 0 });
  });
  it('NoImagesPulledOrDeleted only when the spec selects no node and nothing was done', () => {
    expect(cacheStatusFields('update', [], scopeOf([]), undefined).status).to.equal('NoImagesPulledOrDeleted');
    expect(cacheStatusFields('update', [pair('gone', 'h1', 'succeeded', 'delete')], scopeOf([]), undefined).message).to.equal(Message.ImagesDeletedSuccessfully);
  });
  it('an update keeps the earlier failures of pairs it leaves alone, drops those no longer wanted or evaluated again', () => {
    const previous = {
      a: [{ node: 'h1', reason: 'ErrImagePull', message: 'x' }, { node: 'h9', reason: 'ErrImagePull', message: 'gone node' }],
      b: [{ node: 'h1', reason: 'ErrImagePull', message: 'evaluated again' }],
    };
    const results = [pair('b', 'h1', 'succeeded'), pair('c', 'h1', 'succeeded')];
    const scope = scopeOf([['a', 'h1'], ['b', 'h1'], ['c', 'h1']]);
    expect(carriedFailures(previous, results, scope)).to.deep.equal({ a: [{ node: 'h1', reason: 'ErrImagePull', message: 'x' }] });
    const f = cacheStatusFields('update', results, scope, previous);
    expect(f).to.include({ status: 'Failed', message: Message.ImagePullFailedForSomeImages });
    expect(f.counts).to.deep.equal({ desired: 3, succeeded: 2, failed: 1, pending: 0 });
  });
  it('a node-join refresh that succeeds on a healthy cache reads Succeeded for the whole cache', () => {
    const f = cacheStatusFields('refresh', [pair('a', 'new', 'succeeded')], scopeOf([['a', 'h1'], ['a', 'h2'], ['a', 'new']]), undefined);
    expect(f).to.include({ status: 'Succeeded' });
    expect(f.counts).to.deep.equal({ desired: 3, succeeded: 3, failed: 0, pending: 0 });
  });
  it('purge reports its own results with the delete wording', () => {
    expect(cacheStatusFields('purge', [pair('a', 'h1', 'succeeded', 'delete')], undefined, undefined).message).to.equal(Message.ImagesDeletedSuccessfully);
  });
  it('failures are bounded: 1,000 failing nodes x 50 images stay under 256 KiB of status', () => {
    const results: PairResult[] = [];
    const long = 'Back-off pulling image "registry.example/some/long/path/image:1.0": '.padEnd(2000, 'x');
    for (let i = 0; i < 50; i++) for (let n = 0; n < 1000; n++) results.push(pair(`registry.example/team/app-${i}:1.2.3`, `node-${String(n).padStart(4, '0')}.pool-a.cluster.example`, 'failed', 'pull', 'ImagePullBackOff', long));
    const f = cacheStatusFields('create', results, { desired: 50_000, wants: () => false }, undefined);
    const status: ImageCacheStatus = { ...f, startTime: new Date().toISOString() };
    const bytes = Buffer.byteLength(JSON.stringify(status));
    expect(bytes).to.be.below(256 * 1024);
    expect(f.failures!['registry.example/team/app-0:1.2.3']).to.have.length(10);
    expect(f.failuresOmitted!['registry.example/team/app-0:1.2.3']).to.equal(990);
    expect(f.failures!['registry.example/team/app-0:1.2.3']![0]!.message.length).to.be.at.most(256);
    expect(f.counts).to.deep.equal({ desired: 50_000, succeeded: 0, failed: 50_000, pending: 0 });
  });
  it('boundFailures keeps the first nodes in order', () => {
    const b = boundFailures({ a: [{ node: 'c', reason: 'r', message: 'm' }, { node: 'a', reason: 'r', message: 'm' }, { node: 'b', reason: 'r', message: 'm' }] }, { maxNodesPerImage: 2, maxMessageLength: 10 });
    expect(b.failures.a!.map((f) => f.node)).to.deep.equal(['a', 'b']);
    expect(b.omitted).to.deep.equal({ a: 1 });
  });
});

describe('PendingTriggers', () => {
  const op = (type: 'create' | 'update' | 'refresh' | 'purge', nodes?: string[]) => ({ type, cause: 't', ...(nodes ? { nodes } : {}) });
  it('only the operation that does the work consumes its trigger', () => {
    const t = new PendingTriggers(0);
    t.addJoinedNode('k', 'n1');
    t.markRefreshDue('k');
    t.consume('k', op('update'));
    t.consume('k', op('purge'));
    expect(t.joined('k').full).to.deep.equal(['n1']);
    expect(t.isRefreshDue('k')).to.equal(true);
    t.consume('k', op('refresh', ['n1']));
    expect(t.joined('k').full).to.deep.equal([]);
    expect(t.isRefreshDue('k')).to.equal(true);
    t.consume('k', op('create'));
    expect(t.isRefreshDue('k')).to.equal(false);
  });
  it('a full pull wins over "only what is missing"; node-triggered work is rate-limited per cache', () => {
    let now = 1000;
    const t = new PendingTriggers(5000, () => now);
    t.addJoinedNode('k', 'n1', { onlyMissing: true });
    t.addJoinedNode('k', 'n2', { onlyMissing: true });
    t.addJoinedNode('k', 'n2');
    t.addJoinedNode('k', 'n2', { onlyMissing: true });
    expect(t.joined('k')).to.deep.equal({ full: ['n2'], onlyMissing: ['n1'] });
    expect(t.nodeWorkDelay('k')).to.equal(0);
    t.consume('k', op('refresh', ['n2']));
    now += 1000;
    expect(t.nodeWorkDelay('k')).to.equal(4000);
    t.consumeNodes('k', ['n1']);
    expect(t.joined('k')).to.deep.equal({ full: [], onlyMissing: [] });
  });
});

describe('StatusWriter', () => {
  const cache: ImageCache = { metadata: { name: 'c', namespace: 'ns', resourceVersion: '42' }, spec: { cacheSpec: [] } };
  const status: ImageCacheStatus = { status: 'Failed', reason: 'ImageCacheCreate', message: 'm', startTime: 't', failures: { a: [{ node: 'n', reason: 'r', message: 'm' }] } };
  it('sends the resourceVersion as a precondition and turns a 409 into a StatusConflict (no blind retry)', async () => {
    const replaceStatus = sinon.stub().rejects(Object.assign(new Error('conflict'), { code: 409 }));
    const w = new StatusWriter({ replaceStatus } as unknown as ImageCacheApi, { baseDelayMs: 1 });
    let err: unknown;
    try { await w.write(cache, status); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(StatusConflict);
    expect(replaceStatus.callCount).to.equal(1);
    expect(replaceStatus.firstCall.args[3]).to.equal('42');
  });
  it('retries 5xx; a 413/422 is written once more without failure details, then never again', async () => {
    const replaceStatus = sinon.stub();
    replaceStatus.onCall(0).rejects(Object.assign(new Error('busy'), { code: 503 }));
    replaceStatus.onCall(1).rejects(Object.assign(new Error('too large'), { code: 413 }));
    replaceStatus.onCall(2).resolves(cache);
    const w = new StatusWriter({ replaceStatus } as unknown as ImageCacheApi, { baseDelayMs: 1 });
    await w.write(cache, status);
    expect(replaceStatus.callCount).to.equal(3);
    expect(replaceStatus.thirdCall.args[2]).to.deep.include({ failures: {}, failuresOmitted: { a: 1 } });
    const always = sinon.stub().rejects(Object.assign(new Error('invalid'), { code: 422 }));
    let err: unknown;
    try { await new StatusWriter({ replaceStatus: always } as unknown as ImageCacheApi, { baseDelayMs: 1 }).write(cache, status); } catch (e) { err = e; }
    expect((err as { code?: number }).code).to.equal(422);
    expect(always.callCount).to.equal(2);
    expect(compactStatus(status).failures).to.deep.equal({});
  });
});

describe('cache conditions (pure)', () => {
  const base: ImageCache = { metadata: { name: 'c', namespace: 'ns' }, spec: { cacheSpec: [], imagePullSecrets: [{ name: 'regcred' }] } };
  it('pull Secrets: PullSecretsExposeImages=True; a missing Secret: PullSecretsFound=False with the kubelet message and the fix', () => {
    const t1 = new Date('2026-01-01T00:00:00Z');
    const c1 = cacheConditions(base, t1);
    expect(c1).to.deep.equal([{ type: 'PullSecretsExposeImages', status: 'True', reason: 'ImagesPulledWithSecrets', message: c1[0]!.message, lastTransitionTime: t1.toISOString() }]);
    const c2 = cacheConditions({ ...base, status: { status: '', reason: '', message: '', startTime: '', conditions: c1 } }, new Date('2026-01-02T00:00:00Z'), 'Unable to retrieve some image pull secrets (regcred)');
    expect(c2[0]!.lastTransitionTime).to.equal(t1.toISOString()); // unchanged status keeps its time
    expect(c2[1]).to.include({ type: 'PullSecretsFound', status: 'False', reason: 'SecretNotFound' });
    expect(c2[1]!.message).to.contain('create the Secret in namespace ns or remove the entry');
    expect(becameTrue(c1, c2, 'PullSecretsFound', 'False')).to.equal(true);
    expect(becameTrue(c1, c2, 'PullSecretsExposeImages')).to.equal(false);
    expect(cacheConditions({ ...base, spec: { cacheSpec: [] } }, t1)).to.deep.equal([]);
  });
});
