import { expect } from 'chai';
import { memoByString } from '../../../src/util/memo.js';

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
