import { expect } from 'chai';
import { memoByString, sharedCopies } from '../../../src/util/memo.js';

describe('util/memo: memoByString', () => {
  it('computes each input once, undefined results too, and starts over past its size', () => {
    const calls: string[] = [];
    const f = memoByString((s: string) => { calls.push(s); return s === 'none' ? undefined : s.length; }, 2);
    expect([f('ab'), f('ab'), f('none'), f('none')]).to.deep.equal([2, 2, undefined, undefined]);
    expect(calls).to.deep.equal(['ab', 'none']);
    expect(f('xyz')).to.equal(3); // a third input: the memory starts over
    expect(f('ab')).to.equal(2);
    expect(calls).to.deep.equal(['ab', 'none', 'xyz', 'ab']);
  });
});

describe('util/memo: sharedCopies', () => {
  it('gives the first value kept of each key, as keep made it, and starts over past its size', () => {
    const share = sharedCopies((v: { k: string }) => v.k, (v) => Object.freeze(v), 2);
    const a = { k: 'a' };
    expect(share(a)).to.equal(a);
    expect(Object.isFrozen(a)).to.equal(true);
    expect(share({ k: 'a' })).to.equal(a);
    const b = { k: 'b' };
    expect(share(b)).to.equal(b);
    const c = { k: 'c' }; // a third key: the memory starts over
    expect(share(c)).to.equal(c);
    const a2 = { k: 'a' };
    expect(share(a2)).to.equal(a2);
  });
});
