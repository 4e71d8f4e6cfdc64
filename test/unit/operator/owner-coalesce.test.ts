import { expect } from 'chai';
import { nodeChangeDelayMs, ownerCoalesceMs } from '../../../src/operator/controller.js';

describe('operator/controller: a Job or pod change waits for others before its cache\'s next pass', () => {
  it('ten times the last pass\'s planning time, at least 20 ms and at most 1 s', () => {
    expect(ownerCoalesceMs(0)).to.equal(20); // a small cache: at once, nearly
    expect(ownerCoalesceMs(1.5)).to.equal(20);
    expect(ownerCoalesceMs(3)).to.equal(30);
    expect(ownerCoalesceMs(60)).to.equal(600); // a 1,000-node pass: the passes take under a tenth of a core
    expect(ownerCoalesceMs(800)).to.equal(1_000);
  });
});

describe('operator/controller: a node change reaches its cache', () => {
  it('at once when the cache is idle; coalesced like a Job change while its operation runs', () => {
    expect(nodeChangeDelayMs(false, 60)).to.equal(0);
    expect(nodeChangeDelayMs(true, 0)).to.equal(20);
    expect(nodeChangeDelayMs(true, 30)).to.equal(300);
  });
});
