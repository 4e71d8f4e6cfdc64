import { expect } from 'chai';
import type { V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import { DELETE_BACKLOG_MAX_PODS, DELETE_BACKLOG_STUCK_MS, DELETE_DEFER_MAX_MS, DELETE_JOB_CONTROLLER_WAIT_MAX_MS, OperationRunner, inBatches, jobControllerBehind, lingeringJobNames, lingeringPods, type RunnerSettings } from '../../../src/reconcilers/operation-runner.js';
import { ImageCacheReconciler, PendingTriggers } from '../../../src/reconcilers/imagecache-reconciler.js';
import { StatusWriter } from '../../../src/status/status-writer.js';
import type { EventRecorder } from '../../../src/status/event-recorder.js';
import type { ImageCacheApi } from '../../../src/kube/imagecache-api.js';
import type { Logger } from '../../../src/operator/logger.js';
import type { ImageCache, ImageCacheStatus } from '../../../src/api/imagecache.js';

const log = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

function node(name: string, labels: Record<string, string> = {}): V1Node {
  return { metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, status: { nodeInfo: { containerRuntimeVersion: 'containerd://1.7' } as never } };
}

/** The pod the Job controller made for a Job, in this phase. */
function podOf(j: V1Job, phase: string): V1Pod {
  return { metadata: { name: `${j.metadata!.name}-p`, namespace: j.metadata!.namespace, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: j.metadata!.name!, uid: j.metadata!.uid! }] }, status: { phase } };
}

/** An in-memory API server for one cache: resourceVersions, conditional writes, Jobs, annotations. */
class FakeApi {
  rv = 1;
  cache: ImageCache;
  jobs: V1Job[] = [];
  created: string[] = [];
  deleted: string[] = [];
  events: string[] = [];
  failCreate?: { code: number; message: string };
  constructor(spec: ImageCache['spec'], annotations: Record<string, string> = {}) {
    this.cache = { metadata: { name: 'ic', namespace: 'ns', uid: 'u1', generation: 1, resourceVersion: '1', annotations }, spec };
  }
  private bump(): ImageCache {
    this.rv += 1;
    this.cache = { ...this.cache, metadata: { ...this.cache.metadata, resourceVersion: String(this.rv) } };
    return structuredClone(this.cache);
  }
  private check(rv?: string) {
    if (rv && rv !== this.cache.metadata.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
  }
  async get() { return structuredClone(this.cache); }
  async replaceStatus(_ns: string, _n: string, status: ImageCacheStatus, rv?: string) { this.check(rv); this.cache.status = structuredClone(status); return this.bump(); }
  async mergeStatus(_ns: string, _n: string, fields: Partial<ImageCacheStatus>, rv?: string) { this.check(rv); this.cache.status = { ...this.cache.status!, ...fields }; return this.bump(); }
  async removeAnnotations(_ns: string, _n: string, keys: string[]) {
    const a = { ...(this.cache.metadata.annotations ?? {}) };
    for (const k of keys) delete a[k];
    this.cache.metadata.annotations = a;
    return this.bump();
  }
  async createJob(job: V1Job) {
    if (this.failCreate) throw Object.assign(new Error('x'), { code: this.failCreate.code, body: JSON.stringify({ message: this.failCreate.message }) });
    if (this.jobs.some((j) => j.metadata!.name === job.metadata!.name)) return 'exists';
    this.jobs.push({ ...job, metadata: { ...job.metadata, uid: `j-${this.jobs.length}`, creationTimestamp: new Date() } });
    this.created.push(job.metadata!.name!);
    return 'created';
  }
  async getJob(_ns: string, name: string) { return this.jobs.find((j) => j.metadata!.name === name); }
  async deleteJob(_ns: string, name: string) { this.deleted.push(name); this.jobs = this.jobs.filter((j) => j.metadata!.name !== name); }
  /** FailedCreate Events of the Job controller (involvedObject.name, message). */
  createFailureEvents: { involvedObject: { name: string }; message: string }[] = [];
  async jobCreateFailures() { return this.createFailureEvents; }
  async createEvent() {}
}

const settings: RunnerSettings = {
  pullPolicy: 'IfNotPresent', serviceAccountName: '', jobPriorityClassName: '', imageDeleteJobHostNetwork: false,
  criSocketPath: '', criClientImage: 'cri', busyboxImage: 'bb', imagePullDeadlineMs: 60_000, deleteJobNamespace: '',
  maxImagesPerJob: 50, jobRetentionPolicy: 'delete', jobsMaxSurge: 0, podStartDeadlineMs: 20_000,
};

function setup(api: FakeApi, nodes: V1Node[], over: Partial<RunnerSettings> = {}) {
  let watched: V1Job[] = [];
  const pods: V1Pod[] = [];
  const index = new Map<string, ImageCache>();
  const events: string[] = [];
  const runner = new OperationRunner({
    api: api as unknown as ImageCacheApi,
    status: new StatusWriter(api as unknown as ImageCacheApi, { baseDelayMs: 1 }),
    events: { record: async (_c: ImageCache, _t: string, reason: string) => { events.push(reason); } } as unknown as EventRecorder,
    log, settings: { ...settings, ...over },
    listNodes: () => nodes, listJobs: () => watched, listPods: () => pods, now: () => new Date(),
    remember: (c) => index.set('ns/ic', c),
  });
  const markComplete = () => {
    const complete = (j: V1Job): V1Job => ({ ...j, status: { ...j.status, succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } });
    api.jobs = api.jobs.map(complete);
    watched = watched.map(complete);
  };
  const triggers = new PendingTriggers(0);
  const reconciler = new ImageCacheReconciler(api as unknown as ImageCacheApi, runner, triggers, log, false, {
    read: (k) => index.get(k), remember: (c) => index.set('ns/ic', c),
  });
  return {
    runner, reconciler, triggers, events, index, pods,
    /** the watch catches up with the API server */
    sync: () => { watched = structuredClone(api.jobs); index.set('ns/ic', structuredClone(api.cache)); },
    /** every pod of every Job completes, and the Job controller marks each Job Complete (objects replaced, as the watch does) */
    completeAll: (jobController = true) => {
      for (const j of api.jobs) pods.push(podOf(j, 'Succeeded'));
      if (jobController) markComplete();
    },
    /** the Job controller marks every Job Complete */
    markComplete: () => markComplete(),
  };
}

describe('OperationRunner and ImageCacheReconciler (fake API)', () => {
  it('create: Processing with an operation record, one Job per node, then Succeeded, annotation-free, Jobs deleted', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1', 'x.io/b:1'] }] });
    const t = setup(api, [node('n1'), node('n2')]);
    t.sync();
    let r = await t.reconciler.reconcile('ns/ic');
    expect(r.operation).to.equal('create');
    expect(api.cache.status).to.include({ status: 'Processing', reason: 'ImageCacheCreate' });
    expect(api.created).to.have.length(2);
    // the watch has not shown the Jobs yet: a second pass must not create them again
    await t.reconciler.reconcile('ns/ic');
    expect(api.created).to.have.length(2);
    // meanwhile the runner keeps what the watch would show of them, not the Jobs it sent (pod template and all)
    const kept = t.runner.tracker.view([]);
    expect(kept.map((j) => j.metadata!.name).sort()).to.deep.equal([...api.created].sort());
    for (const j of kept) {
      expect(j.spec).to.equal(undefined);
      expect(j.metadata!.annotations!['kubefledged.io/work']).to.be.a('string');
    }
    t.sync(); t.completeAll();
    r = await t.reconciler.reconcile('ns/ic');
    expect(r.requeueAfterMs).to.equal(0);
    expect(api.cache.status).to.include({ status: 'Succeeded', message: 'All requested images pulled succesfully to respective nodes' });
    expect(api.cache.status!.operation!.cacheSpec).to.equal(undefined); // stored once: lastAppliedSpec
    expect(api.cache.status!.lastAppliedSpec!.cacheSpec).to.deep.equal([{ images: ['x.io/a:1', 'x.io/b:1'] }]);
    expect(api.deleted).to.have.length(2);
    expect(t.events).to.deep.equal(['ImageCacheCreate']);
    // finished Jobs the watch still lists are not deleted again (no 404s)
    await t.reconciler.reconcile('ns/ic');
    expect(api.deleted).to.have.length(2);
  });

  it('finished Jobs are deleted in the background: the reconcile does not wait for the deletes, a Job is never deleted twice, a failed delete is retried', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const nodes = [node('n1'), node('n2'), node('n3')];
    const requeued: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let calls = 0;
    const plainDelete = api.deleteJob.bind(api);
    api.deleteJob = async (ns: string, name: string) => {
      calls += 1;
      await held; // the client's budget is taken by others: the deletes wait
      if (name.endsWith(api.jobs[0]!.metadata!.name!.slice(-5)) && calls <= 3) throw Object.assign(new Error('reset'), { code: 503 });
      await plainDelete(ns, name);
    };
    const t = setup(api, nodes);
    (t.runner as unknown as { deps: { requeue: (k: string, ms: number) => void } }).deps.requeue = (k) => requeued.push(k);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    t.sync(); t.completeAll();
    const first = api.jobs[0]!.metadata!.name!;
    const r = await t.reconciler.reconcile('ns/ic'); // finishes although no delete has been answered
    expect(api.cache.status).to.include({ status: 'Succeeded' });
    expect(r.requeueAfterMs).to.equal(0);
    expect(api.deleted).to.deep.equal([]);
    expect(t.runner.jobsOf(api.cache)).to.deep.equal([]); // out of the controller's view at once
    await t.reconciler.reconcile('ns/ic'); // a later pass while the deletes still wait: nothing taken on twice
    await new Promise((r) => setImmediate(r));
    expect(calls).to.equal(3);
    release();
    await t.runner.deletesSettled();
    expect(api.deleted).to.have.length(2);
    expect(api.deleted).not.to.include(first);
    expect(requeued).to.deep.equal(['ns/ic']);
    expect(t.runner.jobsOf(api.cache).map((j) => j.metadata!.name)).to.deep.equal([first]); // back in view
    await t.reconciler.reconcile('ns/ic'); // the requeued pass deletes it
    await t.runner.deletesSettled();
    expect(api.deleted).to.have.length(3);
    expect(api.deleted).to.include(first);
  });

  it('a stale read costs one conflict and a fresh look, never a wrong write', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const t = setup(api, [node('n1')]);
    t.sync();
    api.cache.metadata.annotations = { other: 'edit' };
    api.rv += 1; api.cache.metadata.resourceVersion = String(api.rv); // someone wrote after our read
    const r = await t.reconciler.reconcile('ns/ic');
    expect(r.requeueAfterMs).to.equal(0);
    expect(api.cache.status).to.equal(undefined);
    expect(api.created).to.have.length(0);
    await t.reconciler.reconcile('ns/ic'); // fetched fresh on the conflict
    expect(api.cache.status!.status).to.equal('Processing');
  });

  it('a Job create refused for good (403/422) fails its images at once with the API message', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    api.failCreate = { code: 403, message: 'jobs.batch is forbidden: exceeded quota' };
    const t = setup(api, [node('n1')]);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status).to.include({ status: 'Failed' });
    const f = api.cache.status!.failures!['x.io/a:1']![0]!;
    expect(f.reason).to.equal('FailedCreate');
    expect(f.message).to.contain('exceeded quota');
  });

  it('a FailedCreate the Job controller retries (API server unreachable) does not fail the node; one that says why does', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const t = setup(api, [node('n1')]);
    let clock = Date.now();
    (t.runner as unknown as { deps: { now: () => Date } }).deps.now = () => new Date(clock);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    t.sync();
    const job = api.jobs[0]!.metadata!.name!;
    api.createFailureEvents = [{ involvedObject: { name: job }, message: 'Error creating: Post "https://127.0.0.1:6443/api/v1/namespaces/ns/pods": dial tcp 127.0.0.1:6443: connect: connection refused' }];
    clock += 3_000;
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status).to.include({ status: 'Processing' });
    api.createFailureEvents.push({ involvedObject: { name: job }, message: 'Error creating: pods "p" is forbidden: violates PodSecurity "restricted:latest"' });
    clock += 6_000;
    await t.reconciler.reconcile('ns/ic'); // finds the reason
    await t.reconciler.reconcile('ns/ic'); // and fails the node with it
    expect(api.cache.status).to.include({ status: 'Failed' });
    expect(api.cache.status!.failures!['x.io/a:1']![0]!.message).to.contain('violates PodSecurity');
  });

  it('purge with a refresh asked for together: both annotations removed, no refresh afterwards', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] }, { 'kubefledged.io/purge-imagecache': '', 'kubefledged.io/refresh-imagecache': '' });
    api.cache.status = { status: 'Succeeded', reason: 'ImageCacheCreate', message: '', startTime: '', observedGeneration: 1, lastAppliedSpec: { cacheSpec: [{ images: ['x.io/a:1'] }] } };
    const t = setup(api, [node('n1')]);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status!.reason).to.equal('ImageCachePurge');
    t.sync(); t.completeAll();
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status).to.include({ status: 'Succeeded', reason: 'ImageCachePurge' });
    expect(api.cache.metadata.annotations).to.deep.equal({});
    t.sync();
    const r = await t.reconciler.reconcile('ns/ic');
    expect(r.operation).to.equal(undefined);
    expect(api.cache.status!.reason).to.equal('ImageCachePurge');
  });

  it('an update consumes no joined node: the node gets its full refresh after the update', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1', 'x.io/b:1'] }] });
    api.cache.metadata.generation = 2;
    api.cache.status = { status: 'Succeeded', reason: 'ImageCacheCreate', message: '', startTime: '', observedGeneration: 1, lastAppliedSpec: { cacheSpec: [{ images: ['x.io/a:1'] }] } };
    const t = setup(api, [node('n1'), node('new')]);
    t.triggers.addJoinedNode('ns/ic', 'new');
    t.sync();
    const r1 = await t.reconciler.reconcile('ns/ic');
    expect(r1.operation).to.equal('update');
    t.sync(); t.completeAll();
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status).to.include({ status: 'Succeeded', reason: 'ImageCacheUpdate' });
    t.sync();
    const r2 = await t.reconciler.reconcile('ns/ic');
    expect(r2.operation).to.equal('refresh');
    expect(api.cache.status!.operation!.nodes).to.deep.equal(['new']);
  });

  it('work redone after its Job was deleted by hand gets a Job at once under a new name, the next time another (the Job controller keeps its expectations by name)', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const t = setup(api, [node('n1'), node('n2')]);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    expect(api.created).to.have.length(2);
    t.sync();
    // both Jobs' pods are running; then one Job is deleted by hand (background propagation: its pod goes a bit later)
    for (const j of api.jobs) t.pods.push(podOf(j, 'Running'));
    const [gone, kept] = [api.jobs[0]!, api.jobs[1]!];
    const work = gone.metadata!.annotations!['kubefledged.io/work'];
    api.jobs = [kept];
    t.runner.tracker.gone(gone);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    expect(api.created, 'made again at once, though its pod remains').to.have.length(3);
    const again = api.jobs.find((j) => j.metadata!.name === api.created[2])!;
    expect(again.metadata!.name).to.not.equal(gone.metadata!.name);
    expect(again.metadata!.name).to.match(/^ic-[a-z0-9]{6}-[0-9a-f]{10}$/);
    expect(again.metadata!.annotations!['kubefledged.io/work'], 'the same work').to.equal(work);
    // deleted by hand again: a third name, never an earlier one
    api.jobs = [kept];
    t.runner.tracker.gone(again);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    expect(api.created).to.have.length(4);
    expect(new Set(api.created).size, 'every name once').to.equal(4);
    // the work's pods complete: the operation ends Succeeded
    t.sync(); t.completeAll();
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status).to.include({ status: 'Succeeded' });
  });

  it('a restarted controller (attempts start at 0) that finds the pods of a gone Job under the name waits until they are gone, then gets its Job', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const first = setup(api, [node('n1'), node('n2')]);
    first.sync();
    await first.reconciler.reconcile('ns/ic');
    expect(api.created).to.have.length(2);
    // the Jobs' pods are running; one Job is deleted by hand; then the controller restarts
    const pods = api.jobs.map((j) => podOf(j, 'Running'));
    const [gone, kept] = [api.jobs[0]!, api.jobs[1]!];
    api.jobs = [kept];
    const t = setup(api, [node('n1'), node('n2')]);
    t.pods.push(...pods);
    t.sync();
    const r = await t.reconciler.reconcile('ns/ic');
    expect(api.created, 'not re-created while its pod remains').to.have.length(2);
    expect(r.requeueAfterMs).to.be.within(1, 5_000);
    // the old pod goes: the work gets its Job, under the first name (nothing else knows of one)
    t.pods.splice(t.pods.findIndex((p) => p.metadata!.name === `${gone.metadata!.name}-p`), 1);
    await t.reconciler.reconcile('ns/ic');
    expect(api.created).to.deep.equal([...api.created.slice(0, 2), gone.metadata!.name]);
  });

  it('work whose pods were deleted (its Job lost) is deleted and made again under a new name at once', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const t = setup(api, [node('n1')]);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    t.sync();
    const lost = api.jobs[0]!;
    // its pod deleted before it ended: the Job controller counts it failed (backoffLimit 0), no pod left
    const failed = { ...lost, status: { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } };
    api.jobs = [failed];
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    expect(api.deleted, 'the lost Job is deleted').to.deep.equal([lost.metadata!.name]);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    expect(api.created).to.have.length(2);
    expect(api.created[1]).to.not.equal(lost.metadata!.name);
    t.sync(); t.completeAll();
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status).to.include({ status: 'Succeeded' });
  });

  it('progress counts are written at most once a second while Processing; the final status at once', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const nodes = [node('n1'), node('n2'), node('n3')];
    const t = setup(api, nodes);
    let clock = Date.parse('2026-12-01T10:00:00Z');
    (t.runner as unknown as { deps: { now: () => Date } }).deps.now = () => new Date(clock);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    t.sync();
    const done = (i: number) => {
      const j = api.jobs[i]!;
      t.pods.push({ metadata: { name: `${j.metadata!.name}-p`, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: j.metadata!.name!, uid: j.metadata!.uid! }] }, status: { phase: 'Succeeded' } });
    };
    const writes = () => api.rv;
    clock += 1_000;
    done(0);
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status!.counts).to.include({ succeeded: 1 });
    const after1 = writes();
    clock += 100;
    done(1);
    let r = await t.reconciler.reconcile('ns/ic');
    expect(writes(), 'no write 0.1 s after the last').to.equal(after1);
    expect(api.cache.status!.counts).to.include({ succeeded: 1 });
    expect(r.requeueAfterMs, 'looked at again when the write is due').to.be.within(1, 900);
    clock += 950;
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status!.counts).to.include({ succeeded: 2 });
    clock += 10;
    done(2);
    r = await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status).to.include({ status: 'Succeeded' }); // the final status is never held back
    expect(r.requeueAfterMs).to.equal(0);
    // the Job controller marks the Jobs ended: the clean-up (waiting for it on this frozen clock) ends
    t.markComplete();
    await t.runner.deletesSettled();
    expect(api.deleted).to.have.length(3);
  });

  it('each pass records the Jobs it found running (what brings the next pass forward); the end forgets them', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const t = setup(api, [node('n1'), node('n2'), node('n3')]);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    expect(t.runner.awaited.runningOf('ns/ic'), 'the first pass created the Jobs: none was running when it planned').to.equal(0);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    expect(t.runner.awaited.runningOf('ns/ic')).to.equal(3);
    const [j0, j1] = api.jobs;
    const ended = (j: V1Job): V1Pod => ({ metadata: { name: `${j.metadata!.name}-p`, namespace: 'ns', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: j.metadata!.name!, uid: j.metadata!.uid! }] }, status: { phase: 'Succeeded' } });
    t.pods.push(ended(j0!));
    expect(t.runner.awaited.urgency('ns/ic', 'update', 'pod', ended(j0!)), 'one of three ended: it waits').to.equal('later');
    await t.reconciler.reconcile('ns/ic');
    expect(t.runner.awaited.runningOf('ns/ic')).to.equal(2);
    t.completeAll();
    expect(t.runner.awaited.urgency('ns/ic', 'update', 'pod', ended(j1!))).to.equal('later');
    expect(t.runner.awaited.urgency('ns/ic', 'update', 'pod', ended(api.jobs[2]!)), 'the last one ended').to.equal('now');
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status).to.include({ status: 'Succeeded' });
    expect(t.runner.awaited.runningOf('ns/ic')).to.equal(undefined);
  });

  it('a finished operation\'s Jobs are deleted once no other cache\'s operation is in progress (at most DELETE_DEFER_MAX_MS later)', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const t = setup(api, [node('n1'), node('n2')]);
    let clock = Date.parse('2026-12-01T10:00:00Z');
    (t.runner as unknown as { deps: { now: () => Date } }).deps.now = () => new Date(clock);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    t.sync(); t.completeAll();
    t.runner.awaited.record('ns/other', ['ns/other-job'], false); // another cache's operation is running
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status).to.include({ status: 'Succeeded' });
    await new Promise((r) => setTimeout(r, 600));
    expect(api.deleted, 'held back while the other operation runs').to.have.length(0);
    t.runner.awaited.forget('ns/other');
    await t.runner.deletesSettled();
    expect(api.deleted).to.have.length(2);

    // an operation that never ends (its cache deleted mid-way, say) holds the deletes back for at most DELETE_DEFER_MAX_MS
    const api2 = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const t2 = setup(api2, [node('n1')]);
    (t2.runner as unknown as { deps: { now: () => Date } }).deps.now = () => new Date(clock);
    t2.sync();
    await t2.reconciler.reconcile('ns/ic');
    t2.sync(); t2.completeAll();
    t2.runner.awaited.record('ns/stale', ['ns/s'], false);
    await t2.reconciler.reconcile('ns/ic');
    await new Promise((r) => setTimeout(r, 300));
    expect(api2.deleted).to.have.length(0);
    clock += DELETE_DEFER_MAX_MS;
    await t2.runner.deletesSettled();
    expect(api2.deleted).to.have.length(1);
  });

  it('the background deletes pause while an operation starts meanwhile (this cache\'s next one too), and go on when it ends', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const nodes = Array.from({ length: 20 }, (_, i) => node(`n${i}`));
    const t = setup(api, nodes);
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    t.sync(); t.completeAll();
    // the first deletes are slow to answer: the cache's next operation (a joined node, say) starts meanwhile
    let release!: () => void;
    const slow = new Promise<void>((r) => { release = r; });
    const fast = api.deleteJob.bind(api);
    let sent = 0;
    api.deleteJob = async (ns: string, name: string) => { sent += 1; await slow; return fast(ns, name); };
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status).to.include({ status: 'Succeeded' });
    await new Promise((r) => setTimeout(r, 50));
    expect(sent, 'eight at a time').to.equal(8);
    t.runner.awaited.record('ns/ic', ['ns/next-job'], false);
    release();
    await new Promise((r) => setTimeout(r, 600));
    expect(api.deleted, 'the 8 deletes in flight ended; the other 12 wait').to.have.length(8);
    t.runner.awaited.forget('ns/ic');
    await t.runner.deletesSettled();
    expect(api.deleted).to.have.length(20);
  });

  it('an operation that starts later in the clean-up (a node joined) pauses it for DELETE_DEFER_MAX_MS from its own start', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const t = setup(api, Array.from({ length: 20 }, (_, i) => node(`n${i}`)));
    let clock = Date.parse('2026-12-01T10:00:00Z');
    (t.runner as unknown as { deps: { now: () => Date } }).deps.now = () => new Date(clock);
    t.sync(); await t.reconciler.reconcile('ns/ic');
    t.sync(); t.completeAll();
    let release!: () => void;
    const slow = new Promise<void>((r) => { release = r; });
    const fast = api.deleteJob.bind(api);
    api.deleteJob = async (ns: string, name: string) => { await slow; return fast(ns, name); };
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status).to.include({ status: 'Succeeded' });
    // the first deletes take the clean-up past DELETE_DEFER_MAX_MS from its start; then a node joins
    clock += DELETE_DEFER_MAX_MS + 5_000;
    t.runner.awaited.record('ns/ic', ['ns/joined-node-job'], false);
    release();
    await new Promise((r) => setTimeout(r, 600));
    expect(api.deleted, 'the 8 in flight ended; the others wait for the new operation').to.have.length(8);
    clock += DELETE_DEFER_MAX_MS - 1_000;
    await new Promise((r) => setTimeout(r, 400));
    expect(api.deleted, 'still within DELETE_DEFER_MAX_MS of the operation\'s start').to.have.length(8);
    clock += 2_000;
    await t.runner.deletesSettled();
    expect(api.deleted).to.have.length(20);
  });

  it('the clean-up waits while the Job controller has not marked ended the Jobs whose pods ended (at most DELETE_JOB_CONTROLLER_WAIT_MAX_MS)', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const t = setup(api, [node('n1'), node('n2')]);
    let clock = Date.parse('2026-12-01T10:00:00Z');
    (t.runner as unknown as { deps: { now: () => Date } }).deps.now = () => new Date(clock);
    t.sync(); await t.reconciler.reconcile('ns/ic');
    t.sync(); t.completeAll(false); // the pods ended; the Job controller has not caught up yet
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status, 'the images are pulled: the operation ends without waiting').to.include({ status: 'Succeeded' });
    await new Promise((r) => setTimeout(r, 600));
    expect(api.deleted, 'held back while the Job controller is behind').to.have.length(0);
    t.markComplete();
    await t.runner.deletesSettled();
    expect(api.deleted).to.have.length(2);

    // a Job controller that never catches up (not running) holds the deletes back for at most DELETE_JOB_CONTROLLER_WAIT_MAX_MS
    const api2 = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const t2 = setup(api2, [node('n1')]);
    (t2.runner as unknown as { deps: { now: () => Date } }).deps.now = () => new Date(clock);
    t2.sync(); await t2.reconciler.reconcile('ns/ic');
    t2.sync(); t2.completeAll(false);
    await t2.reconciler.reconcile('ns/ic');
    clock += DELETE_DEFER_MAX_MS;
    await new Promise((r) => setTimeout(r, 400));
    expect(api2.deleted, 'the wait for the Job controller is not bound by DELETE_DEFER_MAX_MS').to.have.length(0);
    clock += DELETE_JOB_CONTROLLER_WAIT_MAX_MS - DELETE_DEFER_MAX_MS;
    await t2.runner.deletesSettled();
    expect(api2.deleted).to.have.length(1);
  });

  it('jobControllerBehind: a Job not marked ended though every pod of it ended; not a Job with a pod going, with no pod, or marked', () => {
    const job = (uid: string, cond?: string): V1Job => ({ metadata: { name: uid, namespace: 'ns', uid }, status: cond ? { conditions: [{ type: cond, status: 'True' }] } : {} });
    const pod = (job: string, phase: string): V1Pod => ({ metadata: { name: `${job}-${phase}`, namespace: 'ns', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job, uid: job }] }, status: { phase } });
    expect(jobControllerBehind([job('a')], [pod('a', 'Succeeded')])).to.equal(true);
    expect(jobControllerBehind([job('a')], [pod('a', 'Failed')])).to.equal(true);
    expect(jobControllerBehind([job('a', 'Complete')], [pod('a', 'Succeeded')])).to.equal(false);
    expect(jobControllerBehind([job('a', 'Failed')], [pod('a', 'Failed')])).to.equal(false);
    expect(jobControllerBehind([job('a')], [pod('a', 'Running')])).to.equal(false);
    expect(jobControllerBehind([job('a')], [pod('a', 'Failed'), pod('a', 'Pending')]), 'a replacement pod is going').to.equal(false);
    expect(jobControllerBehind([job('a')], [])).to.equal(false);
    expect(jobControllerBehind([job('a'), job('b')], [pod('a', 'Running'), pod('b', 'Succeeded')])).to.equal(true);
  });

  it('the clean-up keeps at most DELETE_BACKLOG_MAX_PODS pods of deleted Jobs going: it deletes at the pace their pods go', async () => {
    const api = new FakeApi({ cacheSpec: [{ images: ['x.io/a:1'] }] });
    const t = setup(api, Array.from({ length: 30 }, (_, i) => node(`n${i}`)));
    t.sync();
    await t.reconciler.reconcile('ns/ic');
    t.sync(); t.completeAll();
    // the watch shows each delete at once; the pods stay until the test removes them (the garbage collector)
    const fast = api.deleteJob.bind(api);
    api.deleteJob = async (ns: string, name: string) => { await fast(ns, name); t.sync(); };
    await t.reconciler.reconcile('ns/ic');
    expect(api.cache.status).to.include({ status: 'Succeeded' });
    await new Promise((r) => setTimeout(r, 600));
    expect(api.deleted, 'held at the backlog bound').to.have.length(DELETE_BACKLOG_MAX_PODS);
    t.pods.splice(0, t.pods.length, ...t.pods.filter((p) => !api.deleted.includes(p.metadata!.ownerReferences![0]!.name)));
    await t.runner.deletesSettled();
    expect(api.deleted).to.have.length(30);
    const now = Date.now();
    expect(lingeringPods(t.pods, api.jobs, now)).to.equal(30 - DELETE_BACKLOG_MAX_PODS);
    // a pod marked for deletion long ago is stuck (its node gone): not a backlog
    t.pods[0]!.metadata!.deletionTimestamp = new Date(now - DELETE_BACKLOG_STUCK_MS - 1);
    t.pods[1]!.metadata!.deletionTimestamp = new Date(now - 1_000);
    expect(lingeringPods(t.pods, api.jobs, now)).to.equal(30 - DELETE_BACKLOG_MAX_PODS - 1);
  });

  it('lingeringJobNames: the names of gone Jobs (or Jobs of another uid) whose pods remain', () => {
    const pod = (name: string, job: string, uid: string, ns = 'ns'): V1Pod => ({ metadata: { name, namespace: ns, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job, uid }] } });
    const job = (name: string, uid: string): V1Job => ({ metadata: { name, namespace: 'ns', uid } });
    const pods = [pod('a-p', 'a', 'ua'), pod('b-p', 'b', 'ub-old'), pod('c-p', 'c', 'uc'), pod('d-p', 'd', 'ud', 'other'),
      { metadata: { name: 'rs-p', namespace: 'ns', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'e', uid: 'ue' }] } }];
    expect([...lingeringJobNames(pods, [job('a', 'ua'), job('b', 'ub-new')])].sort()).to.deep.equal(['ns/b', 'ns/c', 'other/d']);
  });

  it('inBatches never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    await inBatches(Array.from({ length: 50 }, (_, i) => i), 8, async () => {
      running += 1; peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 1));
      running -= 1;
    });
    expect(peak).to.equal(8);
  });
});
