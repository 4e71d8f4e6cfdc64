import { expect } from 'chai';
import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import { expire, indexPodsByJob, jobOutcomes, podsLost, podsOfJob } from '../../../src/jobs/job-results.js';
import { readJobWork, type JobWork } from '../../../src/jobs/job-labels.js';

const job: V1Job = { metadata: { name: 'ic-abc-1234', uid: 'job-uid' } };
const work: JobWork = { node: 'n1', hostname: 'h1', action: 'pull', containers: { 'imagepuller-0': ['a.io/x:1'], 'imagepuller-1': ['a.io/y:1'] } };

function pod(phase: string, statuses: V1ContainerStatus[] | undefined, created = '2026-01-01T00:00:00Z', extra: Partial<V1Pod['status']> = {}): V1Pod {
  return {
    metadata: { name: `p-${created}`, creationTimestamp: new Date(created), ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'ic-abc-1234', uid: 'job-uid' }] },
    status: { phase, containerStatuses: statuses, ...extra },
  };
}
const cs = (name: string, state: V1ContainerStatus['state']): V1ContainerStatus => ({ name, image: 'i', imageID: '', ready: false, restartCount: 0, state });

describe('jobOutcomes', () => {
  it('a Succeeded pod: every image succeeded', () => {
    const o = jobOutcomes(job, work, [pod('Succeeded', [])]);
    expect(o.map((x) => x.state)).to.deep.equal(['succeeded', 'succeeded']);
    expect(o[0]!.specImages).to.deep.equal(['a.io/x:1']);
  });
  it('the Jobs of other nodes that pulled the same images share each frozen "succeeded" outcome; other outcomes are their own', () => {
    const annotation = (node: string) => ({ 'kubefledged.io/work': JSON.stringify({ ...work, node, hostname: node }) });
    const [w1, w2] = [readJobWork(annotation('n1'))!, readJobWork(annotation('n2'))!];
    expect(w2.containers['imagepuller-0']).to.equal(w1.containers['imagepuller-0']); // one copy of the spec images
    const done = jobOutcomes(job, w1, [pod('Pending', [cs('imagepuller-0', { terminated: { exitCode: 0, reason: 'Completed' } }), cs('imagepuller-1', { waiting: { reason: 'ErrImagePull', message: 'x' } })])]);
    const again = jobOutcomes(job, w2, [pod('Succeeded', [])]);
    expect(again[0]).to.equal(done[0]);
    expect(Object.isFrozen(done[0])).to.equal(true);
    expect(done[0]).to.deep.equal({ container: 'imagepuller-0', specImages: ['a.io/x:1'], state: 'succeeded', reason: '', message: '' });
    expect(done[1]).to.include({ state: 'pending', reason: 'ErrImagePull' });
    expect(again[1]).to.include({ state: 'succeeded' }).and.not.equal(done[1]);
  });
  it('per container: one completed, one waiting with ErrImagePull (pod Pending)', () => {
    const o = jobOutcomes(job, work, [pod('Pending', [
      cs('imagepuller-0', { terminated: { exitCode: 0, reason: 'Completed' } }),
      cs('imagepuller-1', { waiting: { reason: 'ErrImagePull', message: 'failed to pull' } }),
    ])]);
    expect(o[0]).to.include({ state: 'succeeded' });
    expect(o[1]).to.include({ state: 'pending', reason: 'ErrImagePull', message: 'failed to pull' });
    expect(expire(o[1]!)).to.include({ state: 'failed', reason: 'ErrImagePull', message: 'failed to pull' });
  });
  it('an image the registry does not have fails at once (containerd\'s and the CRI\'s NotFound), not at the deadline', () => {
    const containerd = 'rpc error: code = NotFound desc = failed to pull and unpack image "r:5000/a:nope": failed to resolve reference "r:5000/a:nope": r:5000/a:nope: not found';
    const o = jobOutcomes(job, work, [pod('Pending', [
      cs('imagepuller-0', { waiting: { reason: 'ErrImagePull', message: containerd } }),
      cs('imagepuller-1', { waiting: { reason: 'ErrImagePull', message: 'failed to resolve reference "fail.invalid/a:1": lookup fail.invalid: no such host' } }),
    ])]);
    expect(o[0]).to.include({ state: 'failed', reason: 'ErrImagePull', message: containerd });
    expect(o[1]).to.include({ state: 'pending' }); // a network error may pass: wait for the deadline
  });
  it('a non-zero exit is a failure carrying the termination message', () => {
    const o = jobOutcomes(job, work, [pod('Failed', [
      cs('imagepuller-0', { terminated: { exitCode: 1, reason: 'Error', message: 'exec format error\n' } }),
      cs('imagepuller-1', { terminated: { exitCode: 0 } }),
    ])]);
    expect(o[0]).to.include({ state: 'failed', reason: 'Error', message: 'exec format error' });
    expect(o[1]).to.include({ state: 'succeeded' });
  });
  it('a running pull container means the image is on the node', () => {
    const o = jobOutcomes(job, work, [pod('Running', [cs('imagepuller-0', { running: {} }), cs('imagepuller-1', { running: {} })])]);
    expect(o.map((x) => x.state)).to.deep.equal(['succeeded', 'succeeded']);
  });
  it('a pod that never started: Pending / "Check if node is ready" at the deadline', () => {
    const o = jobOutcomes(job, work, [pod('Pending', undefined)]);
    expect(o[0]).to.include({ state: 'pending', reason: 'Pending', message: 'Check if node is ready' });
    expect(expire(o[0]!)).to.include({ state: 'failed', reason: 'Pending', message: 'Check if node is ready' });
  });
  it('no pod: "No pods matched job" (spec §3.6), or the Job Failed condition', () => {
    const o = jobOutcomes(job, work, []);
    expect(o[0]).to.include({ state: 'pending', reason: 'No pods matched job ic-abc-1234' });
    const failed: V1Job = { ...job, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }] } };
    expect(jobOutcomes(failed, work, [])[0]).to.include({ state: 'failed', reason: 'DeadlineExceeded' });
  });
  it('no pod left but the Job Complete (its pod succeeded, then was deleted by hand): every image succeeded', () => {
    const complete: V1Job = { ...job, status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True', reason: 'CompletionsReached' }] } };
    expect(jobOutcomes(complete, work, []).map((o) => o.state)).to.deep.equal(['succeeded', 'succeeded']);
  });
  it('podsLost: Failed BackoffLimitExceeded with no pod left (deleted before it ended), not with its failed pod', () => {
    const failed: V1Job = { ...job, status: { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] } };
    expect(podsLost(failed, [])).to.equal(true);
    expect(podsLost(failed, [pod('Failed', [cs('imagepuller-0', { terminated: { exitCode: 1 } })])])).to.equal(false);
    expect(podsLost({ ...job, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] } }, []), 'the pull deadline').to.equal(false);
    expect(podsLost(job, []), 'not failed (pods not created yet)').to.equal(false);
  });
  it('the newest pod wins, unless an older attempt already succeeded for that container', () => {
    const old = pod('Failed', [cs('imagepuller-0', { terminated: { exitCode: 0 } }), cs('imagepuller-1', { terminated: { exitCode: 2, reason: 'Error' } })], '2026-01-01T00:00:00Z');
    const newer = pod('Pending', [cs('imagepuller-0', { waiting: { reason: 'ContainerCreating' } }), cs('imagepuller-1', { waiting: { reason: 'ContainerCreating' } })], '2026-01-01T00:01:00Z');
    const o = jobOutcomes(job, work, [old, newer]);
    expect(o[0]).to.include({ state: 'succeeded' });
    expect(o[1]).to.include({ state: 'pending', reason: 'ContainerCreating' });
  });
  it('pods of other Jobs are ignored', () => {
    const other = pod('Succeeded', []);
    other.metadata!.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name: 'x', uid: 'other' }];
    expect(jobOutcomes(job, work, [other])[0]!.state).to.equal('pending');
  });

  describe('indexPodsByJob', () => {
    const job = (name: string, uid?: string): V1Job => ({ metadata: { name, namespace: 'kf', ...(uid ? { uid } : {}) } });
    const pod = (name: string, owners: { kind: string; name: string; uid: string }[], created: string): V1Pod => ({
      metadata: { name, namespace: 'kf', creationTimestamp: new Date(created), ownerReferences: owners.map((o) => ({ apiVersion: 'batch/v1', controller: true, ...o })) },
    });
    it('gives each Job the pods podsOfJob finds among all pods (by uid; by name for a Job without one)', () => {
      const pods = [
        pod('a-1', [{ kind: 'Job', name: 'a', uid: 'ua' }], '2026-01-01T00:00:01Z'),
        pod('a-2', [{ kind: 'Job', name: 'a', uid: 'ua' }], '2026-01-01T00:00:02Z'),
        pod('b-1', [{ kind: 'Job', name: 'b', uid: 'ub' }], '2026-01-01T00:00:01Z'),
        pod('old-a', [{ kind: 'Job', name: 'a', uid: 'ua-old' }], '2026-01-01T00:00:00Z'), // a Job "a" deleted and created again
        pod('rs-1', [{ kind: 'ReplicaSet', name: 'a', uid: 'ua' }], '2026-01-01T00:00:00Z'),
        pod('bare', [], '2026-01-01T00:00:00Z'),
      ];
      const candidates = indexPodsByJob(pods);
      for (const j of [job('a', 'ua'), job('b', 'ub'), job('a', 'ua-old'), job('c', 'uc'), job('a'), job('b')]) {
        const all = podsOfJob(j, pods).map((p) => p.metadata?.name);
        expect(podsOfJob(j, candidates(j)).map((p) => p.metadata?.name), `${j.metadata?.name} ${j.metadata?.uid ?? '(no uid)'}`).to.deep.equal(all);
        expect(podsLost(j, candidates(j))).to.equal(podsLost(j, pods));
      }
      expect(candidates(job('a', 'ua')).map((p) => p.metadata?.name)).to.deep.equal(['a-1', 'a-2']);
      expect(candidates(job('a')).map((p) => p.metadata?.name)).to.deep.equal(['a-1', 'a-2', 'old-a']);
      expect(candidates(job('c', 'uc'))).to.deep.equal([]);
    });
  });
});
