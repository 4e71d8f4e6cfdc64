import { expect } from 'chai';
import * as sinon from 'sinon';
import { KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { LeaderElector, type ElectorLog, type LeaseClient } from '../../../src/kube/leader-election.js';

/** An in-memory Lease with API-server semantics: JSON round trip, resourceVersion preconditions, 409s. */
class FakeLeaseStore {
  lease: V1Lease | undefined;
  private rv = 0;
  writes = 0;
  reads = 0;

  private stored(l: V1Lease): V1Lease {
    return JSON.parse(JSON.stringify(l)) as V1Lease;
  }

  /** A client of this store for one candidate; `partitioned` makes its calls fail, `hang` never answer. */
  client(): LeaseClient & { partitioned: boolean; hang: boolean } {
    const conflict = (msg: string) => Object.assign(new Error(msg), { code: 409 });
    const c = {
      partitioned: false,
      hang: false,
      gate: async () => {
        if (c.hang) await new Promise(() => undefined);
        if (c.partitioned) throw Object.assign(new Error('connect ECONNREFUSED'), { code: undefined });
      },
      get: async (_ns: string, _name: string) => {
        await c.gate();
        this.reads++;
        return this.lease ? this.stored(this.lease) : undefined;
      },
      create: async (_ns: string, l: V1Lease) => {
        await c.gate();
        if (this.lease) throw conflict('leases "x" already exists');
        this.writes++;
        this.lease = this.stored({ ...l, metadata: { ...l.metadata, resourceVersion: String(++this.rv) } });
        return this.stored(this.lease);
      },
      replace: async (_ns: string, _name: string, l: V1Lease) => {
        await c.gate();
        if (!this.lease) throw Object.assign(new Error('not found'), { code: 404 });
        if (l.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) throw conflict('the object has been modified');
        this.writes++;
        this.lease = this.stored({ ...l, metadata: { ...l.metadata, resourceVersion: String(++this.rv) } });
        return this.stored(this.lease);
      },
    };
    return c;
  }

  holder(): string | undefined {
    return this.lease?.spec?.holderIdentity;
  }
}

const quietLog: ElectorLog = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

interface Candidate {
  elector: LeaderElector;
  client: ReturnType<FakeLeaseStore['client']>;
  events: string[];
  done: Promise<void>;
}

function candidate(store: FakeLeaseStore, identity: string, overrides: Partial<ConstructorParameters<typeof LeaderElector>[0]> = {}): Candidate {
  const client = store.client();
  const events: string[] = [];
  const elector = new LeaderElector({
    kubeConfig: new KubeConfig(),
    namespace: 'ns',
    name: 'kubefledged-controller',
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    log: quietLog,
    leaseClient: client,
    random: () => 0.5,
    ...overrides,
  });
  const done = elector.run({
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
  });
  return { elector, client, events, done };
}

describe('kube/leader-election (Lease, client-go semantics)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  it('a lone candidate creates the Lease and leads', async () => {
    const store = new FakeLeaseStore();
    const a = candidate(store, 'a');
    await clock.tickAsync(0);
    expect(a.events).to.deep.equal(['started']);
    expect(a.elector.isLeader()).to.equal(true);
    expect(store.lease?.spec).to.deep.include({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(store.lease?.spec?.renewTime).to.equal('2023-11-14T22:13:20.000000Z');
    await a.elector.release();
    await a.done;
  });

  it('renews every retry period, keeping acquireTime', async () => {
    const store = new FakeLeaseStore();
    const a = candidate(store, 'a');
    await clock.tickAsync(0);
    const acquired = store.lease?.spec?.acquireTime;
    const writes = store.writes;
    await clock.tickAsync(2_000);
    expect(store.writes).to.equal(writes + 1);
    expect(store.lease?.spec?.renewTime).to.equal('2023-11-14T22:13:22.000000Z');
    await clock.tickAsync(20_000);
    expect(store.writes).to.equal(writes + 11);
    expect(store.lease?.spec?.acquireTime).to.equal(acquired);
    expect(store.lease?.spec?.leaseTransitions).to.equal(0);
    expect(a.events).to.deep.equal(['started']);
    await a.elector.release();
  });

  it('the leader renews with one write and no read (client-go\'s optimistic renewal); a conflict falls back to read, then write', async () => {
    const store = new FakeLeaseStore();
    const a = candidate(store, 'a');
    await clock.tickAsync(0);
    const reads = store.reads;
    const writes = store.writes;
    await clock.tickAsync(10_000);
    expect(store.writes - writes, 'a renewal every retry period').to.equal(5);
    expect(store.reads - reads, 'no read before a renewal').to.equal(0);
    // someone else wrote the Lease (same holder, e.g. kubectl edit): the optimistic write gets 409
    const other = store.client();
    const l = (await other.get('ns', 'x'))!;
    await other.replace('ns', 'x', { ...l, metadata: { ...l.metadata, labels: { edited: 'yes' } } });
    const readsBefore = store.reads;
    await clock.tickAsync(2_000);
    expect(store.reads - readsBefore, 'one read after the conflict').to.equal(1);
    expect(store.lease?.spec?.renewTime).to.equal('2023-11-14T22:13:32.000000Z');
    expect(a.events).to.deep.equal(['started']);
    await a.elector.release();
  });

  it('of two candidates exactly one leads; release() hands over within one retry', async () => {
    const store = new FakeLeaseStore();
    const a = candidate(store, 'a');
    const b = candidate(store, 'b');
    await clock.tickAsync(30_000);
    expect([a.elector.isLeader(), b.elector.isLeader()]).to.deep.equal([true, false]);
    expect(b.events).to.deep.equal([]);
    expect(b.elector.getLeader()).to.equal('a');

    await a.elector.release();
    await a.done;
    expect(a.events).to.deep.equal(['started', 'stopped']);
    expect(store.holder()).to.equal('');
    expect(store.lease?.spec?.leaseDurationSeconds).to.equal(1);
    // b retries every 2 s * (1 + 0.5 * 1.2) = 3.2 s
    await clock.tickAsync(3_200);
    expect(b.events).to.deep.equal(['started']);
    expect(store.holder()).to.equal('b');
    expect(store.lease?.spec?.leaseTransitions).to.equal(1);
    await b.elector.release();
  });

  it('candidates creating the Lease at the same moment: one create wins, the other gets 409', async () => {
    const store = new FakeLeaseStore();
    const cs = ['a', 'b', 'c'].map((id) => candidate(store, id));
    await clock.tickAsync(10_000);
    expect(cs.filter((c) => c.elector.isLeader()).length).to.equal(1);
    expect(cs.flatMap((c) => c.events)).to.deep.equal(['started']);
    for (const c of cs) await c.elector.release();
  });

  it('a leader that cannot renew gives up after the renew deadline; a standby takes over after the lease duration', async () => {
    const store = new FakeLeaseStore();
    const a = candidate(store, 'a');
    await clock.tickAsync(0);
    const b = candidate(store, 'b');
    await clock.tickAsync(4_000);
    const lastRenewByA = Date.now() - (Date.now() % 2_000);
    a.client.partitioned = true; // a can no longer reach the API server
    await clock.tickAsync(8_000);
    expect(a.events, 'still within the renew deadline').to.deep.equal(['started']);
    await clock.tickAsync(2_000);
    expect(a.events).to.deep.equal(['started', 'stopped']);
    await a.done;
    expect(b.events, 'lease not yet expired for b').to.deep.equal([]);
    // b judges expiry on its own clock: 15 s after it OBSERVED a's last renewal (observation lags by
    // up to one jittered retry of 3.2 s), then it needs one more retry to take over.
    await clock.tickAsync(lastRenewByA + 15_000 - Date.now());
    expect(b.events, 'never before the lease duration').to.deep.equal([]);
    await clock.tickAsync(lastRenewByA + 3_200 + 15_000 + 3_200 - Date.now());
    expect(b.events).to.deep.equal(['started']);
    expect(store.holder()).to.equal('b');
    expect(store.lease?.spec?.leaseTransitions).to.equal(1);
    // a's release after losing never clears b's lease
    a.client.partitioned = false;
    await a.elector.release();
    expect(store.holder()).to.equal('b');
    await b.elector.release();
  });

  it('a hanging API call counts as a failed renewal (bounded by the renew deadline)', async () => {
    const store = new FakeLeaseStore();
    const a = candidate(store, 'a');
    await clock.tickAsync(0);
    a.client.hang = true;
    await clock.tickAsync(12_000);
    expect(a.events).to.deep.equal(['started', 'stopped']);
  });

  it('a leader that sees another holder stops at once', async () => {
    const store = new FakeLeaseStore();
    const a = candidate(store, 'a');
    await clock.tickAsync(0);
    const intruder = store.client();
    const l = (await intruder.get('ns', 'x'))!;
    await intruder.replace('ns', 'x', { ...l, spec: { ...l.spec, holderIdentity: 'z', renewTime: new Date().toISOString() as unknown as Date } });
    await clock.tickAsync(2_000);
    expect(a.events).to.deep.equal(['started', 'stopped']);
    expect(a.elector.isLeader()).to.equal(false);
    await a.done;
    await a.elector.release();
    expect(store.holder(), 'release does not touch a lease held by another').to.equal('z');
  });

  it('release() before winning ends the campaign without callbacks', async () => {
    const store = new FakeLeaseStore();
    const a = candidate(store, 'a');
    await clock.tickAsync(0);
    const b = candidate(store, 'b');
    await clock.tickAsync(1_000);
    await b.elector.release();
    await b.done;
    expect(b.events).to.deep.equal([]);
    expect(store.holder()).to.equal('a');
    await a.elector.release();
  });

  it('run() twice is refused', async () => {
    const store = new FakeLeaseStore();
    const a = candidate(store, 'a');
    expect(() => a.elector.run({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined })).to.throw(/twice/);
    await a.elector.release();
  });

  it('rejects timings client-go rejects', () => {
    const base = { kubeConfig: new KubeConfig(), namespace: 'ns', name: 'n', identity: 'a', log: quietLog, leaseClient: new FakeLeaseStore().client() };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).to.throw(/leaseDuration/);
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).to.throw(/1.2 x retryPeriod/);
    expect(() => new LeaderElector({ ...base, identity: '', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).to.throw(/identity/);
  });
});
