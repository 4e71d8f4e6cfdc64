import { expect } from 'chai';
import * as sinon from 'sinon';
import { WorkQueue, runWorkers, type WorkerLog } from '../../../src/queue/work-queue.js';

/** Resolves after pending promise callbacks have run. */
const flush = () => new Promise<void>((r) => setImmediate(r));

describe('queue/work-queue', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  describe('add / get / done', () => {
    it('hands out keys in FIFO order and de-duplicates pending keys', async () => {
      const q = new WorkQueue();
      q.add('ns/a');
      q.add('ns/b');
      q.add('ns/a');
      expect(q.len()).to.equal(2);
      expect(await q.get()).to.equal('ns/a');
      expect(await q.get()).to.equal('ns/b');
      expect(q.len()).to.equal(0);
      expect(q.inFlight()).to.equal(2);
    });

    it('a blocked get() receives the next key added', async () => {
      const q = new WorkQueue();
      const p = q.get();
      q.add('k');
      expect(await p).to.equal('k');
    });

    it('never hands one key to two workers: an add during processing is queued again at done()', async () => {
      const q = new WorkQueue();
      q.add('k');
      const first = await q.get();
      expect(first).to.equal('k');
      q.add('k');
      q.add('k');
      expect(q.len(), 'not queued while processing').to.equal(0);
      let second: string | undefined;
      void q.get().then((k) => (second = k));
      await flush();
      expect(second, 'second worker is still waiting').to.equal(undefined);
      q.done('k');
      await flush();
      expect(second).to.equal('k');
      q.done('k');
      expect(q.len(), 'the two adds during processing gave one re-queue').to.equal(0);
    });

    it('done() of a key that was not re-added does not queue it', async () => {
      const q = new WorkQueue();
      q.add('k');
      await q.get();
      q.done('k');
      expect(q.len()).to.equal(0);
      q.done('k'); // a second done is harmless
      expect(q.len()).to.equal(0);
    });

    it('reports the depth through onDepthChange', async () => {
      const depths: number[] = [];
      const q = new WorkQueue({ onDepthChange: (d) => depths.push(d) });
      q.add('a');
      q.add('b');
      q.add('a');
      await q.get();
      q.add('c');
      const waiting = q.get(); // takes b
      await waiting;
      await q.get(); // takes c
      void q.get(); // blocks
      q.add('d'); // handed straight to the blocked getter
      q.shutDown();
      expect(depths).to.deep.equal([1, 2, 1, 2, 1, 0]);
      expect(q.len()).to.equal(0);
    });
  });

  describe('addRateLimited: per-key exponential backoff', () => {
    it('waits base * 2^n, capped at max, and counts requeues', async () => {
      const delays: number[] = [];
      const q = new WorkQueue({ baseDelayMs: 1000, maxDelayMs: 10_000, onRetry: (_k, d) => delays.push(d) });
      for (let i = 0; i < 6; i++) q.addRateLimited('k');
      expect(delays).to.deep.equal([1000, 2000, 4000, 8000, 10_000, 10_000]);
      expect(q.numRequeues('k')).to.equal(6);
      expect(q.numRequeues('other')).to.equal(0);
    });

    it('defaults to 1 s doubling up to 5 min', () => {
      const delays: number[] = [];
      const q = new WorkQueue({ onRetry: (_k, d) => delays.push(d) });
      for (let i = 0; i < 10; i++) q.addRateLimited('k');
      expect(delays).to.deep.equal([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000]);
    });

    it('the key becomes ready exactly after its delay', async () => {
      const q = new WorkQueue({ baseDelayMs: 1000 });
      q.addRateLimited('k');
      await clock.tickAsync(999);
      expect(q.len()).to.equal(0);
      await clock.tickAsync(1);
      expect(q.len()).to.equal(1);
      expect(await q.get()).to.equal('k');
      q.done('k');
      q.addRateLimited('k');
      await clock.tickAsync(1999);
      expect(q.len()).to.equal(0);
      await clock.tickAsync(1);
      expect(q.len()).to.equal(1);
    });

    it('keys back off independently and forget() resets one', () => {
      const delays: [string, number][] = [];
      const q = new WorkQueue({ baseDelayMs: 5, onRetry: (k, d) => delays.push([k, d]) });
      q.addRateLimited('a');
      q.addRateLimited('a');
      q.addRateLimited('b');
      q.forget('a');
      q.addRateLimited('a');
      expect(delays).to.deep.equal([
        ['a', 5],
        ['a', 10],
        ['b', 5],
        ['a', 5],
      ]);
      expect(q.numRequeues('a')).to.equal(1);
    });

    it('rejects nonsensical delays', () => {
      expect(() => new WorkQueue({ baseDelayMs: 0 })).to.throw(/baseDelayMs/);
      expect(() => new WorkQueue({ baseDelayMs: 10, maxDelayMs: 5 })).to.throw(/maxDelayMs/);
    });
  });

  describe('addAfter', () => {
    it('adds the key after the delay', async () => {
      const q = new WorkQueue();
      q.addAfter('k', 5000);
      await clock.tickAsync(4999);
      expect(q.len()).to.equal(0);
      await clock.tickAsync(1);
      expect(q.len()).to.equal(1);
    });

    it('keeps the earliest of several delayed adds of one key, and adds it once', async () => {
      const q = new WorkQueue();
      q.addAfter('k', 5000);
      q.addAfter('k', 1000);
      q.addAfter('k', 3000);
      await clock.tickAsync(1000);
      expect(q.len()).to.equal(1);
      expect(await q.get()).to.equal('k');
      q.done('k');
      await clock.tickAsync(10_000);
      expect(q.len(), 'the later timers were dropped').to.equal(0);
    });

    it('a delay <= 0 adds at once', () => {
      const q = new WorkQueue();
      q.addAfter('a', 0);
      q.addAfter('b', -5);
      expect(q.len()).to.equal(2);
    });

    it('a delayed add of a key already pending stays a single entry', async () => {
      const q = new WorkQueue();
      q.add('k');
      q.addAfter('k', 100);
      await clock.tickAsync(100);
      expect(q.len()).to.equal(1);
    });
  });

  describe('oldestInFlight (liveness of the work loop)', () => {
    it('names the key held longest by a worker, and for how long', async () => {
      const q = new WorkQueue();
      expect(q.oldestInFlight()).to.equal(undefined);
      q.add('a');
      q.add('b');
      await q.get();
      clock.tick(5000);
      await q.get();
      clock.tick(1000);
      expect(q.oldestInFlight()).to.deep.equal({ key: 'a', ms: 6000 });
      q.done('a');
      expect(q.oldestInFlight()).to.deep.equal({ key: 'b', ms: 1000 });
      q.done('b');
      expect(q.oldestInFlight()).to.equal(undefined);
    });
  });

  describe('shutdown', () => {
    it('shutDown(): blocked and later get() resolve undefined; adds are ignored; queued and delayed keys dropped', async () => {
      const q = new WorkQueue();
      const blocked = q.get();
      q.shutDown();
      expect(await blocked).to.equal(undefined);
      const q2 = new WorkQueue();
      q2.add('queued');
      q2.addAfter('delayed', 1000);
      q2.shutDown();
      expect(q2.isShuttingDown()).to.equal(true);
      expect(await q2.get()).to.equal(undefined);
      q2.add('late');
      q2.addRateLimited('late');
      await clock.tickAsync(5000);
      expect(q2.len()).to.equal(0);
      expect(clock.countTimers()).to.equal(0);
    });

    it('shutDownWithDrain() resolves once every handed-out key is done', async () => {
      const q = new WorkQueue();
      q.add('a');
      q.add('b');
      const a = await q.get();
      const b = await q.get();
      let drained = false;
      const drain = q.shutDownWithDrain().then(() => (drained = true));
      q.add('a'); // ignored: a is not re-queued at done()
      q.done(a as string);
      await flush();
      expect(drained).to.equal(false);
      q.done(b as string);
      await drain;
      expect(drained).to.equal(true);
      expect(q.len()).to.equal(0);
    });

    it('shutDownWithDrain() with nothing in flight resolves at once', async () => {
      const q = new WorkQueue();
      await q.shutDownWithDrain();
    });
  });

  describe('runWorkers', () => {
    function recordingLog(): WorkerLog & { calls: [string, Record<string, unknown>][] } {
      const calls: [string, Record<string, unknown>][] = [];
      return { calls, error: (m, meta) => calls.push([m, meta]) };
    }

    it('runs n keys in parallel but never one key twice at once', async () => {
      const q = new WorkQueue();
      const active = new Set<string>();
      let maxParallel = 0;
      let overlap = false;
      const seen: string[] = [];
      const handler = async (key: string) => {
        if (active.has(key)) overlap = true;
        active.add(key);
        maxParallel = Math.max(maxParallel, active.size);
        seen.push(key);
        await new Promise((r) => setTimeout(r, 100));
        active.delete(key);
      };
      const log = recordingLog();
      const workers = runWorkers(q, 3, handler, log);
      for (const k of ['a', 'b', 'c', 'd']) q.add(k);
      await flush();
      q.add('a'); // while a is processing
      await clock.tickAsync(100);
      await clock.tickAsync(100);
      await clock.tickAsync(100);
      expect(overlap).to.equal(false);
      expect(maxParallel).to.equal(3);
      expect(seen.sort()).to.deep.equal(['a', 'a', 'b', 'c', 'd']);
      await q.shutDownWithDrain();
      await workers;
      expect(log.calls).to.deep.equal([]);
    });

    it('a reconcile refused because the controller is stopping (NotLeadingError) is not retried or logged as a failure', async () => {
      const q = new WorkQueue();
      const infos: string[] = [];
      const log = { ...recordingLog(), info: (m: string) => infos.push(m) };
      const workers = runWorkers(q, 1, async () => {
        q.shutDown();
        throw Object.assign(new Error('request not sent: this controller no longer leads'), { name: 'NotLeadingError' });
      }, log);
      q.add('a');
      await workers;
      expect(log.calls).to.deep.equal([]);
      expect(infos).to.deep.equal(['reconcile stopped: the controller is stopping']);
      expect(q.numRequeues('a')).to.equal(0);
    });

    it('logs a failure with the fields describeError gives', async () => {
      const q = new WorkQueue();
      const log = recordingLog();
      const workers = runWorkers(q, 1, async () => { throw new Error('boom'); }, log, () => ({ error: 'E', code: 409 }));
      q.add('a');
      await flush();
      q.shutDown();
      await workers;
      expect(log.calls[0]?.[1]).to.include({ key: 'a', error: 'E', code: 409 });
    });

    it('retries a failing key with growing backoff, logs key and error, forgets it on success', async () => {
      const q = new WorkQueue({ baseDelayMs: 1000 });
      const times: number[] = [];
      let failuresLeft = 3;
      const handler = async (_key: string) => {
        times.push(Date.now());
        if (failuresLeft-- > 0) throw new Error('API said no');
      };
      const log = recordingLog();
      const start = Date.now();
      const workers = runWorkers(q, 2, handler, log);
      q.add('ns/cache');
      await clock.tickAsync(1000 + 2000 + 4000);
      expect(times.map((t) => t - start)).to.deep.equal([0, 1000, 3000, 7000]);
      expect(log.calls.length).to.equal(3);
      expect(log.calls[0]?.[1]).to.include({ key: 'ns/cache', error: 'API said no', retries: 1 });
      expect(log.calls[2]?.[1]).to.include({ retries: 3 });
      expect(q.numRequeues('ns/cache'), 'forgotten after success').to.equal(0);
      q.shutDown();
      await workers;
    });

    it('a handler may ask to be called again after a delay', async () => {
      const q = new WorkQueue();
      let calls = 0;
      const workers = runWorkers(q, 1, async () => (++calls === 1 ? { requeueAfterMs: 30_000 } : undefined), recordingLog());
      q.add('k');
      await clock.tickAsync(29_999);
      expect(calls).to.equal(1);
      await clock.tickAsync(1);
      expect(calls).to.equal(2);
      q.shutDown();
      await workers;
    });

    it('refuses a worker count below 1', async () => {
      let err: unknown;
      await runWorkers(new WorkQueue(), 0, async () => undefined, recordingLog()).catch((e) => (err = e));
      expect(String(err)).to.match(/integer >= 1/);
    });
  });
});
