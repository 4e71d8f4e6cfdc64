// Lease-based leader election against the real API server, with the candidates authenticated as a
// ServiceAccount bound to the leader-election Role shipped in deploy/ (so a missing verb fails here).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { ROOT, adminKubeConfig, createNamespace, deleteNamespace, eventually } from '../../support/cluster.js';
import { LeaderElector, kubeLeaseClient, type ElectorLog, type LeaseClient } from '../../../src/kube/leader-election.js';

const LEASE = 'kubefledged-controller'; // the only name the Role of deploy/ lets us get/update
const TIMINGS = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };

interface Candidate {
  identity: string;
  elector: LeaderElector;
  /** Set to true to cut this candidate off from the API server. */
  partition: { on: boolean };
  events: { what: 'started' | 'stopped'; at: number }[];
  done: Promise<void>;
}

describe('leader election on a real Lease (coordination.k8s.io/v1)', function () {
  this.timeout(120_000);
  const admin = adminKubeConfig();
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  const leases = admin.makeApiClient(k8s.CoordinationV1Api);
  let ns: string;
  let saKc: k8s.KubeConfig;
  const candidates: Candidate[] = [];
  const logs: string[] = [];
  const log: ElectorLog = {
    info: (m, meta) => logs.push(`info ${m} ${JSON.stringify(meta ?? {})}`),
    warn: (m, meta) => logs.push(`warn ${m} ${JSON.stringify(meta ?? {})}`),
    error: (m, meta) => logs.push(`error ${m} ${JSON.stringify(meta ?? {})}`),
    debug: () => undefined,
  };

  before(async () => {
    ns = await createNamespace(core, 'kf-le');
    const role = parseYaml(fs.readFileSync(path.join(ROOT, 'deploy', 'kubefledged-role-controller.yaml'), 'utf8')) as k8s.V1Role;
    role.metadata = { ...role.metadata, namespace: ns };
    await rbac.createNamespacedRole({ namespace: ns, body: role });
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'kubefledged-controller' } } });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'kubefledged-controller', namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name! },
        subjects: [{ kind: 'ServiceAccount', name: 'kubefledged-controller', namespace: ns }],
      },
    });
    const token = await core.createNamespacedServiceAccountToken({
      name: 'kubefledged-controller',
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const cluster = admin.getCurrentCluster()!;
    saKc = new k8s.KubeConfig();
    saKc.loadFromOptions({
      clusters: [{ name: 'local', server: cluster.server, caData: cluster.caData, caFile: cluster.caFile, skipTLSVerify: false }],
      users: [{ name: 'sa', token: token.status!.token }],
      contexts: [{ name: 'sa', cluster: 'local', user: 'sa', namespace: ns }],
      currentContext: 'sa',
    });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(logs.join('\n'));
    logs.length = 0;
    for (const c of candidates.splice(0)) {
      c.partition.on = false;
      await c.elector.release();
      await c.done;
    }
    await leases.deleteNamespacedLease({ name: LEASE, namespace: ns }).catch(() => undefined);
  });

  after(async () => {
    await deleteNamespace(core, ns);
  });

  function start(identity: string): Candidate {
    const partition = { on: false };
    const real = kubeLeaseClient(saKc);
    const cut = async () => {
      if (partition.on) throw new Error(`network partition (test): ${identity} cannot reach the API server`);
    };
    const client: LeaseClient = {
      get: async (n, name) => (await cut(), real.get(n, name)),
      create: async (n, l) => (await cut(), real.create(n, l)),
      replace: async (n, name, l) => (await cut(), real.replace(n, name, l)),
    };
    const elector = new LeaderElector({ kubeConfig: saKc, namespace: ns, name: LEASE, identity, ...TIMINGS, log, leaseClient: client });
    const events: Candidate['events'] = [];
    const done = elector.run({
      onStartedLeading: () => events.push({ what: 'started', at: Date.now() }),
      onStoppedLeading: () => events.push({ what: 'stopped', at: Date.now() }),
    });
    const c = { identity, elector, partition, events, done };
    candidates.push(c);
    return c;
  }

  async function lease(): Promise<k8s.V1Lease> {
    return leases.readNamespacedLease({ name: LEASE, namespace: ns });
  }
  const time = (t: unknown) => new Date(t as string).getTime();

  it('two candidates: exactly one leads, and the Lease names it', async () => {
    const a = start('candidate-a');
    const b = start('candidate-b');
    const leader = await eventually('a leader', async () => [a, b].find((c) => c.events.length > 0), 20_000, 100);
    await new Promise((r) => setTimeout(r, 3 * TIMINGS.retryPeriodMs * 2.2)); // several more rounds of both
    const leaders = [a, b].filter((c) => c.elector.isLeader());
    expect(leaders.map((c) => c.identity)).to.deep.equal([leader.identity]);
    expect([a, b].flatMap((c) => c.events.map((e) => `${c.identity}:${e.what}`))).to.deep.equal([`${leader.identity}:started`]);
    const l = await lease();
    expect(l.spec?.holderIdentity).to.equal(leader.identity);
    expect(l.spec?.leaseDurationSeconds).to.equal(4);
    expect(time(l.spec?.renewTime)).to.be.greaterThan(time(l.spec?.acquireTime), 'the leader renews');
  });

  it('release() on shutdown clears the holder and the standby takes over within a few seconds', async () => {
    const a = start('candidate-a');
    await eventually('a leads', async () => a.elector.isLeader(), 20_000, 100);
    const b = start('candidate-b');
    await eventually('b has seen a', async () => b.elector.getLeader() === 'candidate-a', 20_000, 100);

    const releasedAt = Date.now();
    await a.elector.release();
    await a.done;
    expect(a.events.map((e) => e.what)).to.deep.equal(['started', 'stopped']);
    await eventually('b leads', async () => b.elector.isLeader(), 10_000, 50);
    const tookOverAfterMs = (b.events[0]?.at ?? Infinity) - releasedAt;
    // at most one jittered retry (500 ms * 2.2) plus API latency, far less than the 4 s lease
    expect(tookOverAfterMs).to.be.lessThan(TIMINGS.leaseDurationMs);
    const l = await lease();
    expect(l.spec?.holderIdentity).to.equal('candidate-b');
    expect(l.spec?.leaseTransitions).to.equal(1);
  });

  it('a leader cut off from the API server steps down after the renew deadline; the standby waits for expiry, then leads', async () => {
    const a = start('candidate-a');
    await eventually('a leads', async () => a.elector.isLeader(), 20_000, 100);
    const b = start('candidate-b');
    await eventually('b has seen a', async () => b.elector.getLeader() === 'candidate-a', 20_000, 100);

    a.partition.on = true;
    const lastRenewByA = time((await lease()).spec?.renewTime);
    await eventually('a steps down', async () => a.events.some((e) => e.what === 'stopped'), 20_000, 100);
    await a.done;
    await eventually('b leads', async () => b.elector.isLeader(), 30_000, 100);
    const l = await lease();
    expect(l.spec?.holderIdentity).to.equal('candidate-b');
    expect(l.spec?.leaseTransitions).to.equal(1);
    // b never took a lease that was still valid: its acquisition is >= leaseDuration after a's last renewal
    expect(time(l.spec?.acquireTime) - lastRenewByA).to.be.at.least(TIMINGS.leaseDurationMs);
    // a's release after losing leaves b's lease alone
    a.partition.on = false;
    await a.elector.release();
    expect((await lease()).spec?.holderIdentity).to.equal('candidate-b');
  });

  it('a crashed holder (Lease never renewed again) is replaced only after its lease duration', async () => {
    const now = new k8s.V1MicroTime(Date.now());
    await leases.createNamespacedLease({
      namespace: ns,
      body: {
        metadata: { name: LEASE, namespace: ns },
        spec: { holderIdentity: 'crashed-pod', leaseDurationSeconds: 4, acquireTime: now, renewTime: now, leaseTransitions: 3 },
      },
    });
    const createdAt = Date.now();
    const c = start('candidate-c');
    await eventually('c leads', async () => c.elector.isLeader(), 30_000, 100);
    expect((c.events[0]?.at ?? 0) - createdAt).to.be.at.least(4_000);
    const l = await lease();
    expect(l.spec?.holderIdentity).to.equal('candidate-c');
    expect(l.spec?.leaseTransitions).to.equal(4);
    expect(logs.some((m) => m.startsWith('info successfully acquired lease'))).to.equal(true);
  });

  it('the Role of deploy/ lets the ServiceAccount read only the controller\'s Lease', async () => {
    let err: unknown;
    await kubeLeaseClient(saKc).get(ns, 'someone-else').catch((e) => (err = e));
    expect((err as { code?: number }).code).to.equal(403);
  });
});
