import { expect } from 'chai';
import type { CriImage } from '../../../src/cri/cri-api-proto.js';
import { formatImageTable, humanSize, imageRows, shortImageId, splitRepoTag } from '../../../src/cri/image-listing.js';

function img(partial: Partial<CriImage>): CriImage {
  return { id: 'sha256:' + '0'.repeat(64), repoTags: [], repoDigests: [], size: 0, username: '', pinned: false, ...partial };
}

describe('cri/image-listing', () => {
  it('shortImageId keeps 13 hex digits', () => {
    expect(shortImageId('sha256:0123456789abcdef0123')).to.equal('0123456789abc');
    expect(shortImageId('0123456789abcdef')).to.equal('0123456789abc');
  });

  it('humanSize uses decimal units with three significant digits', () => {
    expect(humanSize(839)).to.equal('839B');
    expect(humanSize(1_982_256)).to.equal('1.98MB');
    expect(humanSize(1000)).to.equal('1kB');
    expect(humanSize(123_456_789_012)).to.equal('123GB');
  });

  it('splitRepoTag handles ports and digests', () => {
    expect(splitRepoTag('127.0.0.1:5000/a/b:v1')).to.deep.equal(['127.0.0.1:5000/a/b', 'v1']);
    expect(splitRepoTag('127.0.0.1:5000/a/b')).to.deep.equal(['127.0.0.1:5000/a/b', '<none>']);
    expect(splitRepoTag('docker.io/library/x@sha256:abc')).to.deep.equal(['docker.io/library/x', '<none>']);
  });

  it('one row per tag; untagged images by digest repository; sorted', () => {
    const rows = imageRows([
      img({ id: 'sha256:' + 'b'.repeat(64), repoTags: ['z/app:2', 'a/app:1'], size: 2000 }),
      img({ id: 'sha256:' + 'c'.repeat(64), repoDigests: ['m/x@sha256:1', 'm/x@sha256:2'] }),
      img({ id: 'sha256:' + 'd'.repeat(64) }),
    ]);
    expect(rows).to.deep.equal([
      { image: '<none>', tag: '<none>', imageId: 'ddddddddddddd', size: '0B' },
      { image: 'a/app', tag: '1', imageId: 'bbbbbbbbbbbbb', size: '2kB' },
      { image: 'm/x', tag: '<none>', imageId: 'ccccccccccccc', size: '0B' },
      { image: 'z/app', tag: '2', imageId: 'bbbbbbbbbbbbb', size: '2kB' },
    ]);
  });

  it('formats an aligned table with crictl headers', () => {
    const table = formatImageTable([img({ repoTags: ['nginx:1.27'], size: 5 })]).split('\n');
    expect(table[0]).to.match(/^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/);
    expect(table[1]).to.match(/^nginx\s+1\.27\s+0000000000000\s+5B$/);
    expect(table[0]!.indexOf('TAG')).to.equal(table[1]!.indexOf('1.27'));
  });
});
