import { expect } from 'chai';
import { compareText } from '../../../src/util/compare.js';

describe('util/compare: code-unit order for names', () => {
  it('orders node names and image references as plain strings, with no collation', () => {
    expect(['node-b', 'node-10', 'node-a', 'node-1', 'node-2'].sort(compareText)).to.deep.equal(['node-1', 'node-10', 'node-2', 'node-a', 'node-b']);
    expect(compareText('a', 'a')).to.equal(0);
    expect(compareText('a', 'b')).to.equal(-1);
    expect(compareText('b', 'a')).to.equal(1);
    expect(['x.io/b:1', 'x.io/a:2', 'docker.io/library/busybox:1.36'].sort(compareText)).to.deep.equal(['docker.io/library/busybox:1.36', 'x.io/a:2', 'x.io/b:1']);
  });
});
