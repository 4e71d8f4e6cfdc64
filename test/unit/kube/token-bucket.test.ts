import { expect } from 'chai';
import { TokenBucket } from '../../../src/kube/token-bucket.js';

describe('kube/token-bucket', () => {
  const clock = () => {
    let t = 0;
    const slept: number[] = [];
    return { slept, advance: (ms: number) => { t += ms; }, now: () => t, sleep: async (ms: number) => { slept.push(ms); t += ms; } };
  };

  it('a burst passes at once, then requests wait 1/qps each, in order', async () => {
    const c = clock();
    const b = new TokenBucket(10, 3, c);
    for (let i = 0; i < 3; i++) await b.acquire();
    expect(c.slept).to.deep.equal([]);
    await b.acquire();
    await b.acquire();
    expect(c.slept.map(Math.round)).to.deep.equal([100, 100]);
  });

  it('reservations queue: n requests made at once wait 1/qps more each', () => {
    const c = clock();
    const b = new TokenBucket(5, 1, c);
    expect([b.reserve(), b.reserve(), b.reserve()].map(Math.round)).to.deep.equal([0, 200, 400]);
  });

  it('refills at qps up to burst while idle', () => {
    const c = clock();
    const b = new TokenBucket(2, 4, c);
    for (let i = 0; i < 4; i++) b.reserve();
    c.advance(60_000);
    expect([b.reserve(), b.reserve(), b.reserve(), b.reserve()]).to.deep.equal([0, 0, 0, 0]);
    expect(b.reserve()).to.equal(500);
  });

  it('refuses a qps <= 0 and a burst < 1', () => {
    expect(() => new TokenBucket(0, 1)).to.throw(/qps must be a number > 0/);
    expect(() => new TokenBucket(1, 0)).to.throw(/burst must be an integer >= 1/);
  });
});
