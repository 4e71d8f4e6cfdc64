import { expect } from 'chai';
import { countResults, finalStatusFields, operationFromReason, processingStatus, type PairResult } from '../../../src/planning/status-computation.js';
import { Message } from '../../../src/api/constants.js';

const ok = (image: string, action: 'pull' | 'delete' = 'pull', host = 'h1'): PairResult =>
  ({ hostname: host, action, specImages: [image], state: 'succeeded', reason: '', message: '' });
const bad = (image: string, action: 'pull' | 'delete' = 'pull', host = 'h1', reason = 'ErrImagePull', message = 'm'): PairResult =>
  ({ hostname: host, action, specImages: [image], state: 'failed', reason, message });

describe('status computation', () => {
  it('Processing: reason and message by operation, failures reset, startTime now', () => {
    const now = new Date('2026-01-02T03:04:05Z');
    const s = processingStatus({ id: 'abc', type: 'refresh', generation: 2, cacheSpec: [] }, now,
      { status: 'Failed', reason: 'x', message: 'y', startTime: 'old', failures: { a: [] }, observedGeneration: 2 });
    expect(s).to.include({ status: 'Processing', reason: 'ImageCacheRefresh', message: Message.RefreshingCache, startTime: '2026-01-02T03:04:05.000Z', observedGeneration: 2 });
    expect(s.failures).to.deep.equal({});
    expect(processingStatus({ id: 'a', type: 'create', generation: 1, cacheSpec: [] }, now).message)
      .to.equal('Images are being pulled on to the nodes. Please view the status after some time');
    expect(processingStatus({ id: 'a', type: 'purge', generation: 1, cacheSpec: [] }, now).message)
      .to.equal('Image cache is being purged. Please view the status after some time');
  });
  it('no pair at all: NoImagesPulledOrDeleted with the original message', () => {
    const f = finalStatusFields('create', []);
    expect(f).to.include({ status: 'NoImagesPulledOrDeleted', reason: 'ImageCacheCreate',
      message: 'No images were pulled or deleted because nodeSelector specified did not match any nodes' });
  });
  it('all pulled: Succeeded, pulled wording (typo kept)', () => {
    const f = finalStatusFields('create', [ok('a'), ok('b')]);
    expect(f).to.include({ status: 'Succeeded', message: 'All requested images pulled succesfully to respective nodes' });
    expect(f.counts).to.deep.equal({ desired: 2, succeeded: 2, failed: 0, pending: 0 });
  });
  it('purge or delete-only update: deleted wording', () => {
    expect(finalStatusFields('purge', [ok('a', 'delete')]).message).to.equal('All cached images succesfully deleted from respective nodes');
    expect(finalStatusFields('update', [ok('a', 'delete')]).message).to.equal(Message.ImagesDeletedSuccessfully);
    expect(finalStatusFields('update', [ok('a', 'delete'), ok('b')]).message).to.equal(Message.ImagesPulledSuccessfully);
  });
  it('failures: Failed with failures keyed by the spec image, node = hostname, sorted', () => {
    const f = finalStatusFields('refresh', [ok('a'), bad('b', 'pull', 'h2'), bad('b', 'pull', 'h1', 'ImagePullBackOff', 'Back-off')]);
    expect(f).to.include({ status: 'Failed', reason: 'ImageCacheRefresh', message: 'Image pull failed for some images. Please see "failures" section' });
    expect(f.failures).to.deep.equal({ b: [
      { node: 'h1', reason: 'ImagePullBackOff', message: 'Back-off' },
      { node: 'h2', reason: 'ErrImagePull', message: 'm' },
    ] });
    expect(finalStatusFields('purge', [bad('a', 'delete')]).message).to.equal('Image deletion failed for some images. Please see "failures" section');
  });
  it('counts and reason lookup', () => {
    expect(countResults([ok('a'), bad('b'), { ...ok('c'), state: 'pending' }])).to.deep.equal({ desired: 3, succeeded: 1, failed: 1, pending: 1 });
    expect(operationFromReason('ImageCachePurge')).to.equal('purge');
    expect(operationFromReason('ImagePullAborted')).to.equal(undefined);
  });
});
