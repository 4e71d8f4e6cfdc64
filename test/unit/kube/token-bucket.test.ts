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

  /** A clock whose sleeps resolve when the test advances time (concurrent waiters, as in the controller). */
  const manualClock = () => {
    let t = 0;
    const sleepers: { until: number; wake: () => void }[] = [];
    const flush = () => new Promise((r) => setImmediate(r));
    return {
      now: () => t,
      sleep: (ms: number) => new Promise<void>((wake) => { sleepers.push({ until: t + ms, wake }); }),
      /** advances in 1 ms steps, waking each sleeper when its time comes */
      async run(ms: number) {
        for (let i = 0; i < ms; i++) {
          t += 1;
          for (const s of sleepers.filter((x) => x.until <= t)) { sleepers.splice(sleepers.indexOf(s), 1); s.wake(); }
          await flush();
        }
      },
    };
  };

  it('low priority: waits while normal requests are queued, and takes the tokens they leave', async () => {
    const c = manualClock();
    const b = new TokenBucket(10, 2, c);
    const done: string[] = [];
    const go = (name: string, p: 'normal' | 'low') => b.acquire(p).then(() => done.push(`${name}@${c.now()}`));
    // the burst is used up by two creates; then deletes and more creates queue at once
    await go('c1', 'normal'); await go('c2', 'normal');
    const all = [go('d1', 'low'), go('c3', 'normal'), go('d2', 'low'), go('c4', 'normal'), go('c5', 'normal')];
    await c.run(700);
    await Promise.all(all);
    const order = done.map((d) => d.split('@')[0]);
    expect(order).to.deep.equal(['c1', 'c2', 'c3', 'c4', 'c5', 'd1', 'd2']); // every create before any delete
    const at = Object.fromEntries(done.map((d) => d.split('@') as [string, string]).map(([n, t]) => [n, Number(t)]));
    expect([at.c3, at.c4, at.c5]).to.deep.equal([100, 200, 300]); // the creates keep the full rate
    expect(at.d1).to.be.within(400, 420); // then the deletes get the next tokens, still at qps
    expect(at.d2).to.be.within(at.d1! + 90, at.d1! + 120);
  });

  it('low priority: passes at once when no normal request waits and a token is there', async () => {
    const c = clock();
    const b = new TokenBucket(10, 3, c);
    await b.acquire('low');
    await b.acquire('low');
    expect(c.slept).to.deep.equal([]);
    expect(b.waiting()).to.equal(0);
    await b.acquire('normal');
    await b.acquire('low'); // empty bucket: waits for the next token
    expect(c.slept.length).to.be.greaterThan(0);
    expect(c.slept.reduce((a, x) => a + x, 0)).to.be.within(99, 101);
  });

  it('unlimited: normal requests never wait; low ones are still paced at qps and burst; limited again, no debt', async () => {
    const c = clock();
    const b = new TokenBucket(10, 2, c);
    b.setUnlimited(true);
    expect(b.isUnlimited()).to.equal(true);
    for (let i = 0; i < 500; i++) await b.acquire('normal');
    expect(c.slept).to.deep.equal([]); // 500 creates at once
    await b.acquire('low'); await b.acquire('low'); // the burst
    await b.acquire('low'); // then 1/qps
    expect(c.slept.reduce((a, x) => a + x, 0)).to.be.within(99, 101);
    b.setUnlimited(false);
    c.slept.length = 0;
    c.advance(1_000);
    await b.acquire('normal'); await b.acquire('normal'); // the unlimited 500 are not owed: a full burst
    expect(c.slept).to.deep.equal([]);
    await b.acquire('normal');
    expect(c.slept.map(Math.round)).to.deep.equal([100]);
  });
});
