import { expect } from 'chai';
import type { V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import { planOperation, type PlanInput } from '../../../src/planning/operation-plan.js';
import { createFailureIsFinal, operationProgress, podStarted, PODLESS_GRACE_MS, type JobRequest, type ProgressInput } from '../../../src/planning/operation-progress.js';
import { buildPullJob, type JobSettings } from '../../../src/jobs/job-factory.js';
import type { ImageCache } from '../../../src/api/imagecache.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const cache: ImageCache = { metadata: { name: 'ic', namespace: 'ns', uid: 'u1' }, spec: { cacheSpec: [] } };
const settings: JobSettings = {
  pullPolicy: 'IfNotPresent', serviceAccountName: '', jobPriorityClassName: '', imageDeleteJobHostNetwork: false,
  criSocketPath: '', criClientImage: 'cri', busyboxImage: 'bb', imagePullDeadlineMs: 60_000, deleteJobNamespace: '',
};

function node(name: string, images: string[] = [], labels: Record<string, string> = {}): V1Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    status: { nodeInfo: { containerRuntimeVersion: 'containerd://1.7' } as never, images: images.map((n) => ({ names: [n] })) },
  };
}

function plan(nodes: V1Node[], images: string[], p: Partial<PlanInput> = {}) {
  return planOperation({ type: 'create', cacheSpec: [{ images }], nodes, pullPolicy: 'IfNotPresent', ...p });
}

/** The Job the runner would create for a request, as the watch would show it (created at `at`). */
function jobFor(req: JobRequest, at: number, op = 'op1'): V1Job {
  const job = buildPullJob({ cache, operationId: op, node: req.node, images: req.images }, settings);
  job.metadata!.creationTimestamp = new Date(at);
  job.metadata!.uid = `uid-${job.metadata!.name}`;
  return job;
}

function podOf(job: V1Job, state: 'none' | 'scheduled' | 'unschedulable' | 'pulling' | 'done' | 'backoff'): V1Pod {
  const containers = Object.keys(JSON.parse(job.metadata!.annotations!['kubefledged.io/work']!).containers as object);
  const pod: V1Pod = {
    metadata: { name: `${job.metadata!.name}-x`, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata!.name!, uid: job.metadata!.uid! }], creationTimestamp: job.metadata!.creationTimestamp },
    status: { phase: state === 'done' ? 'Succeeded' : 'Pending' },
  };
  if (state === 'unschedulable') pod.status!.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }];
  if (state === 'pulling') pod.status!.containerStatuses = containers.map((name) => ({ name, image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }));
  if (state === 'backoff') pod.status!.containerStatuses = containers.map((name) => ({ name, image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } }));
  return pod;
}

function input(p: ProgressInput['plan'], over: Partial<ProgressInput> = {}): ProgressInput {
  return {
    plan: p, jobs: [], pods: [], now: T0, pullDeadlineMs: 60_000, startDeadlineMs: 20_000, maxImagesPerJob: 50,
    createBudget: Infinity, createFailures: new Map(), buildable: () => undefined, ...over,
  };
}

/** Runs the pure step as the runner does, creating every requested Job; returns all Jobs created. */
function converge(nodesAt: (round: number) => V1Node[], images: string[], rounds: number, over: Partial<ProgressInput> = {}) {
  const jobs: V1Job[] = [];
  let last;
  for (let r = 0; r < rounds; r++) {
    last = operationProgress(input(plan(nodesAt(r), images), { ...over, jobs, now: T0 + r * 1000 }));
    for (const req of last.create) jobs.push(jobFor(req, T0 + r * 1000));
  }
  return { jobs, last: last! };
}

describe('operationProgress (pure)', () => {
  it('one Job per node, chunked at maxImagesPerJob; every pair pending with a Job being created', () => {
    const p = operationProgress(input(plan([node('a'), node('b')], ['x.io/1:1', 'x.io/2:1', 'x.io/3:1']), { maxImagesPerJob: 2 }));
    expect(p.create.map((c) => [c.node.node, c.images.map((w) => w.image)])).to.deep.equal([
      ['a', ['x.io/1:1', 'x.io/2:1']], ['a', ['x.io/3:1']], ['b', ['x.io/1:1', 'x.io/2:1']], ['b', ['x.io/3:1']],
    ]);
    expect(p.results).to.have.length(6);
    expect(p.results.every((r) => r.state === 'pending' && r.reason === 'JobPending')).to.equal(true);
  });

  it('--jobs-max-surge=1 with 3 images at 2 per Job: the second Job gets a name of its own and the operation ends', () => {
    const { jobs, last } = converge(() => [node('a')], ['x.io/1:1', 'x.io/2:1', 'x.io/3:1'], 3, { maxImagesPerJob: 2, createBudget: 1 });
    expect(jobs).to.have.length(2);
    expect(new Set(jobs.map((j) => j.metadata!.name)).size).to.equal(2);
    expect(last.create).to.have.length(0);
    expect(last.deferred).to.equal(0);
  });

  it('budget 0: the work is deferred (pending, with its own reason), nothing created', () => {
    const p = operationProgress(input(plan([node('a')], ['x.io/1:1']), { createBudget: 0 }));
    expect(p.create).to.have.length(0);
    expect(p.deferred).to.equal(1);
    expect(p.results[0]).to.include({ state: 'pending', reason: 'JobDeferred' });
  });

  it('a node labelled into the selector mid-operation gets a Job of its own', () => {
    const { jobs, last } = converge((r) => (r === 0 ? [node('a')] : [node('a'), node('b')]), ['x.io/1:1'], 3);
    expect(jobs.map((j) => j.spec!.template.spec!.nodeSelector!['kubernetes.io/hostname'])).to.deep.equal(['a', 'b']);
    expect(new Set(jobs.map((j) => j.metadata!.name)).size).to.equal(2);
    expect(last.create).to.have.length(0);
  });

  it('an image that drops out of node.status.images mid-operation (image GC) gets a Job with a new name', () => {
    const { jobs, last } = converge((r) => [node('a', r === 0 ? ['x.io/2:1'] : [])], ['x.io/1:1', 'x.io/2:1'], 3);
    expect(jobs).to.have.length(2);
    expect(new Set(jobs.map((j) => j.metadata!.name)).size).to.equal(2);
    const covered = jobs.flatMap((j) => j.spec!.template.spec!.containers.map((c) => c.image));
    expect(covered.sort()).to.deep.equal(['x.io/1:1', 'x.io/2:1']);
    expect(last.results.every((r) => r.state === 'pending')).to.equal(true);
    expect(last.nextDeadline).to.be.a('number');
  });

  it('the same work always gets the same Job name (a restarted controller adopts instead of duplicating)', () => {
    const a = converge(() => [node('a')], ['x.io/1:1', 'x.io/2:1'], 1).jobs;
    const b = converge(() => [node('a')], ['x.io/2:1', 'x.io/1:1'], 1).jobs;
    expect(a.map((j) => j.metadata!.name)).to.deep.equal(b.map((j) => j.metadata!.name));
  });

  it('pods deleted by hand (the Job failed BackoffLimitExceeded, no pod left): the Job is redone, not a failure', () => {
    const p = plan([node('n1'), node('n2')], ['x.io/1:1']);
    const jobs = operationProgress(input(p)).create.map((r) => jobFor(r, T0));
    // the Job controller counts a deleted unfinished pod as failed; with backoffLimit 0 the Job fails
    const lost = { ...jobs[0]!, status: { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } };
    const failedPod = podOf(jobs[1]!, 'backoff');
    failedPod.status!.phase = 'Failed';
    const really = { ...jobs[1]!, status: lost.status };
    const step = operationProgress(input(p, { jobs: [lost, really], pods: [failedPod], now: T0 + 5_000, redoLostUntil: T0 + 60_000 }));
    expect(step.lostJobs.map((j) => j.metadata?.name)).to.deep.equal([lost.metadata!.name]);
    expect(step.results[0]).to.include({ hostname: 'n1', state: 'pending', reason: 'PodsDeleted' });
    expect(step.results[1], 'a pod that failed is a failure').to.include({ hostname: 'n2', state: 'failed' });
    expect(step.create, 'not re-created while the lost Job exists').to.deep.equal([]);
    expect(step.settledJobs).to.not.include(`ns/${lost.metadata!.name}`);
    // once the runner deleted it, the work gets a Job again (the same work, the same name)
    const again = operationProgress(input(p, { jobs: [really], pods: [failedPod], now: T0 + 6_000, redoLostUntil: T0 + 60_000 }));
    expect(again.create.map((r) => r.node.node)).to.deep.equal(['n1']);
    expect(jobFor(again.create[0]!, T0 + 6_000).metadata!.name).to.equal(lost.metadata!.name);
    // past the operation's pull deadline it is a failure with that reason
    const late = operationProgress(input(p, { jobs: [lost, really], pods: [failedPod], now: T0 + 60_000, redoLostUntil: T0 + 60_000 }));
    expect(late.lostJobs).to.deep.equal([]);
    expect(late.results[0]).to.include({ state: 'failed', reason: 'PodsDeleted' });
    expect(late.results[0]!.message).to.contain(lost.metadata!.name);
  });

  it('a pod that never starts fails for its node at the start deadline, with the reason; other nodes go on', () => {
    const p0 = operationProgress(input(plan([node('bad'), node('good')], ['x.io/1:1'])));
    const jobs = p0.create.map((r) => jobFor(r, T0));
    const pods = [podOf(jobs[0]!, 'scheduled'), podOf(jobs[1]!, 'pulling')];
    const before = operationProgress(input(plan([node('bad'), node('good')], ['x.io/1:1']), { jobs, pods, now: T0 + 19_000 }));
    expect(before.results.map((r) => r.state)).to.deep.equal(['pending', 'pending']);
    expect(before.nextDeadline).to.equal(T0 + 20_000);
    const after = operationProgress(input(plan([node('bad'), node('good')], ['x.io/1:1']), { jobs, pods, now: T0 + 20_000 }));
    expect(after.results[0]).to.include({ hostname: 'bad', state: 'failed', reason: 'Pending', message: 'Check if node is ready' });
    expect(after.results[1]).to.include({ hostname: 'good', state: 'pending' });
    expect(after.nextDeadline).to.equal(T0 + 60_000);
    expect(after.settledJobs).to.deep.equal([`ns/${jobs[0]!.metadata!.name}`]);
  });

  it('unschedulable pods fail with the scheduler\'s reason; pod-less Jobs are reported for a FailedCreate look-up', () => {
    const p0 = operationProgress(input(plan([node('a'), node('b')], ['x.io/1:1'])));
    const jobs = p0.create.map((r) => jobFor(r, T0));
    const pods = [podOf(jobs[0]!, 'unschedulable')];
    const early = operationProgress(input(plan([node('a'), node('b')], ['x.io/1:1']), { jobs, pods, now: T0 + PODLESS_GRACE_MS }));
    expect(early.podlessJobs).to.deep.equal([jobs[1]!.metadata!.name]);
    const late = operationProgress(input(plan([node('a'), node('b')], ['x.io/1:1']), { jobs, pods, now: T0 + 20_000 }));
    expect(late.results[0]).to.include({ state: 'failed', reason: 'Unschedulable', message: '0/3 nodes are available' });
    // no pod and no FailedCreate: the Job controller may be behind (hundreds of Jobs at once); it waits for the pull deadline
    expect(late.results[1]).to.include({ state: 'pending' });
    expect(late.nextDeadline).to.equal(T0 + 60_000);
    const end = operationProgress(input(plan([node('a'), node('b')], ['x.io/1:1']), { jobs, pods, now: T0 + 60_000 }));
    expect(end.results[1]).to.include({ state: 'failed', reason: `No pods matched job ${jobs[1]!.metadata!.name}` });
  });

  it('the start deadline runs from the pod\'s creation: a pod the Job controller created late gets all of it', () => {
    const p0 = operationProgress(input(plan([node('late')], ['x.io/1:1'])));
    const jobs = p0.create.map((r) => jobFor(r, T0));
    const pod = podOf(jobs[0]!, 'scheduled');
    pod.metadata!.creationTimestamp = new Date(T0 + 15_000);
    const at20 = operationProgress(input(plan([node('late')], ['x.io/1:1']), { jobs, pods: [pod], now: T0 + 20_000 }));
    expect(at20.results[0]).to.include({ state: 'pending' });
    expect(at20.nextDeadline).to.equal(T0 + 35_000);
    const at35 = operationProgress(input(plan([node('late')], ['x.io/1:1']), { jobs, pods: [pod], now: T0 + 35_000 }));
    expect(at35.results[0]).to.include({ state: 'failed', reason: 'Pending', message: 'Check if node is ready' });
    // never past the pull deadline, counted from the Job's creation
    // (the informer replaces an object on every change; the planner keeps what it read beside the object)
    const later = { ...pod, metadata: { ...pod.metadata, creationTimestamp: new Date(T0 + 50_000) } };
    const atPull = operationProgress(input(plan([node('late')], ['x.io/1:1']), { jobs, pods: [later], now: T0 + 60_000 }));
    expect(atPull.results[0]).to.include({ state: 'failed', reason: 'Pending' });
  });

  it('a known FailedCreate fails the Job\'s images at once, with the Job controller\'s message', () => {
    const p0 = operationProgress(input(plan([node('a')], ['x.io/1:1'])));
    const jobs = p0.create.map((r) => jobFor(r, T0));
    const createFailures = new Map([[jobs[0]!.metadata!.name!, { reason: 'FailedCreate', message: 'violates PodSecurity "restricted:latest"' }]]);
    const p = operationProgress(input(plan([node('a')], ['x.io/1:1']), { jobs, createFailures, now: T0 + 3000 }));
    expect(p.results[0]).to.include({ state: 'failed', reason: 'FailedCreate', message: 'violates PodSecurity "restricted:latest"' });
  });

  it('a started pull fails at the pull deadline with the waiting reason; a finished pod succeeds', () => {
    const p0 = operationProgress(input(plan([node('a'), node('b')], ['x.io/1:1'])));
    const jobs = p0.create.map((r) => jobFor(r, T0));
    const pods = [podOf(jobs[0]!, 'backoff'), podOf(jobs[1]!, 'done')];
    const p = operationProgress(input(plan([node('a'), node('b')], ['x.io/1:1']), { jobs, pods, now: T0 + 60_000 }));
    expect(p.results[0]).to.include({ state: 'failed', reason: 'ImagePullBackOff', message: 'Back-off pulling image' });
    expect(p.results[1]).to.include({ state: 'succeeded' });
    expect(p.nextDeadline).to.equal(undefined);
  });

  it('images already present need no Job; invalid references fail; an unbuildable delete fails with its reason', () => {
    const n = node('a', ['docker.io/library/nginx:1.27']);
    const p = operationProgress(input(plan([n], ['nginx:1.27', 'bad image!'])));
    expect(p.create).to.have.length(0);
    expect(p.results.map((r) => [r.specImages[0], r.state])).to.deep.equal([['bad image!', 'failed'], ['nginx:1.27', 'succeeded']]);
    const purge = planOperation({ type: 'purge', cacheSpec: [{ images: ['x.io/1:1'] }], nodes: [n], pullPolicy: 'IfNotPresent' });
    const d = operationProgress(input(purge, { buildable: (_n, action) => (action === 'delete' ? { reason: 'UnknownRuntime', message: 'no socket' } : undefined) }));
    expect(d.create).to.have.length(0);
    expect(d.results[0]).to.include({ action: 'delete', state: 'failed', reason: 'UnknownRuntime' });
  });

  it('invariant on random plans: every pending pair has a Job (with a deadline), a create, or a deferral', () => {
    let seed = 7;
    const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    for (let run = 0; run < 200; run++) {
      const images = Array.from({ length: 1 + rnd(6) }, (_, i) => `x.io/img${i}:1`);
      const jobs: V1Job[] = [];
      const names = new Set<string>();
      const budget = rnd(3) === 0 ? Infinity : 1 + rnd(3);
      for (let r = 0; r < 8; r++) {
        const nodes = Array.from({ length: 1 + rnd(4) }, (_, i) => node(`n${i}`, images.filter(() => rnd(3) === 0)));
        const now = T0 + r * 5000;
        const running = jobs.length; // nothing finishes in this test: budget counts every Job
        const p = operationProgress(input(plan(nodes, images), { jobs, now, maxImagesPerJob: 1 + rnd(3), createBudget: Math.max(0, budget - running) }));
        const creating = new Set(p.create.flatMap((c) => c.images.map((w) => `${c.node.node}|${w.image}`)));
        for (const res of p.results.filter((x) => x.state === 'pending')) {
          const key = `${res.node}|${res.specImages[0]}`;
          const hasJob = jobs.some((j) => j.spec!.template.spec!.nodeSelector!['kubernetes.io/hostname'] === res.node
            && j.spec!.template.spec!.containers.some((c) => c.image === res.specImages[0]));
          expect(hasJob || creating.has(key) || res.reason === 'JobDeferred', `run ${run} round ${r}: ${key}`).to.equal(true);
          if (hasJob) expect(p.nextDeadline).to.be.a('number');
        }
        for (const req of p.create) {
          const job = jobFor(req, now);
          expect(names.has(job.metadata!.name!), `duplicate Job name in run ${run}`).to.equal(false);
          names.add(job.metadata!.name!);
          jobs.push(job);
        }
      }
    }
  });

  it('a pass over the same Job and pod objects takes the same results; a replaced pod, or a later time, is read anew', () => {
    const nodes = [node('a'), node('b')];
    const images = ['x.io/1:1', 'x.io/2:1'];
    const jobs = operationProgress(input(plan(nodes, images))).create.map((r) => jobFor(r, T0));
    const pods = [podOf(jobs[0]!, 'pulling'), podOf(jobs[1]!, 'done')];
    const pass = (now: number, p = pods) => operationProgress(input(plan(nodes, images), { jobs, pods: p, now }));
    const first = pass(T0 + 1000);
    const second = pass(T0 + 2000);
    expect(second.results.map((r) => r.state)).to.deep.equal(['pending', 'pending', 'succeeded', 'succeeded']);
    // the same objects: the very same results, not results built again
    second.results.forEach((r, i) => expect(r, `result ${i}`).to.equal(first.results[i]));
    expect(second.nextDeadline).to.equal(T0 + 60_000);
    // the time still counts: the pull deadline fails the pending pulls of the unchanged objects
    const late = pass(T0 + 60_000);
    expect(late.results.slice(0, 2).map((r) => [r.state, r.reason])).to.deep.equal([['failed', 'ContainerCreating'], ['failed', 'ContainerCreating']]);
    expect(late.results[2]).to.equal(first.results[2]);
    // a pod the informer replaced is read again
    const done = pass(T0 + 3000, [podOf(jobs[0]!, 'done'), pods[1]!]);
    expect(done.results.map((r) => r.state)).to.deep.equal(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(done.settledJobs).to.have.length(2);
  });

  it('a Job known only from its create (no creationTimestamp) is born at each pass: no deadline and no FailedCreate look-up yet', () => {
    const nodes = [node('a')];
    const job = jobFor(operationProgress(input(plan(nodes, ['x.io/1:1']))).create[0]!, T0);
    delete job.metadata!.creationTimestamp;
    delete job.metadata!.uid;
    for (const now of [T0 + 5_000, T0 + 120_000]) {
      const p = operationProgress(input(plan(nodes, ['x.io/1:1']), { jobs: [job], now }));
      expect(p.results[0], `at +${now - T0} ms`).to.include({ state: 'pending' });
      expect(p.podlessJobs).to.deep.equal([]);
      expect(p.create).to.deep.equal([]);
    }
  });

  it('createFailureIsFinal: Pod Security, quota, invalid pods are; an unreachable or overloaded API server is not', () => {
    expect(createFailureIsFinal('Error creating: pods "p" is forbidden: violates PodSecurity "restricted:latest"')).to.equal(true);
    expect(createFailureIsFinal('Error creating: pods "p" is forbidden: exceeded quota: q, requested: pods=1')).to.equal(true);
    expect(createFailureIsFinal('Error creating: Post "https://10.0.0.1:6443/api/v1/namespaces/ns/pods": dial tcp 10.0.0.1:6443: connect: connection refused')).to.equal(false);
    expect(createFailureIsFinal('Error creating: Timeout: request did not complete within requested timeout - context deadline exceeded')).to.equal(false);
    expect(createFailureIsFinal('Error creating: the server is currently unable to handle the request (post pods)')).to.equal(false);
  });

  it('podStarted: a phase past Pending or any container status', () => {
    expect(podStarted({ status: { phase: 'Pending' } })).to.equal(false);
    expect(podStarted({ status: { phase: 'Running' } })).to.equal(true);
    expect(podStarted({ status: { phase: 'Pending', initContainerStatuses: [{ name: 'i', image: '', imageID: '', ready: false, restartCount: 0 }] } })).to.equal(true);
  });
});
