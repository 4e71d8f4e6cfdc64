import { expect } from 'chai';
import { ownerCoalesceMs } from '../../../src/operator/controller.js';

describe('operator/controller: a Job or pod change waits for others before its cache\'s next pass', () => {
  it('three times the last pass\'s planning time, at least 20 ms and at most 1 s', () => {
    expect(ownerCoalesceMs(0)).to.equal(20); // a small cache: at once, nearly
    expect(ownerCoalesceMs(2.5)).to.equal(20);
    expect(ownerCoalesceMs(40)).to.equal(120); // a 1,000-node pass: the controller stays near a quarter of a core
    expect(ownerCoalesceMs(800)).to.equal(1_000);
  });
});
