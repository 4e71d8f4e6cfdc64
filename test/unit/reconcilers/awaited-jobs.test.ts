import { expect } from 'chai';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { AwaitedJobs, jobKeyOf, settles } from '../../../src/reconcilers/awaited-jobs.js';

const job = (name: string, conditions: { type: string; status: string }[] = []): V1Job =>
  ({ metadata: { name, namespace: 'ns' }, status: { conditions } } as V1Job);
const pod = (jobName: string, status: V1Pod['status']): V1Pod =>
  ({ metadata: { name: `${jobName}-x`, namespace: 'ns', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: 'u' }] }, status });
const running = { running: { startedAt: new Date() } };
const waiting = { waiting: { reason: 'ContainerCreating' } };
const exited = { terminated: { exitCode: 0 } };

describe('AwaitedJobs: which Job and pod changes bring the next pass forward', () => {
  it('settles: a Job Complete or Failed; a pod Succeeded or Failed, or every container running or ended', () => {
    expect(settles('job', job('a'))).to.equal(false);
    expect(settles('job', job('a', [{ type: 'Complete', status: 'True' }]))).to.equal(true);
    expect(settles('job', job('a', [{ type: 'Failed', status: 'True' }]))).to.equal(true);
    expect(settles('job', job('a', [{ type: 'Complete', status: 'False' }, { type: 'Suspended', status: 'True' }]))).to.equal(false);
    expect(settles('pod', pod('a', { phase: 'Pending' }))).to.equal(false);
    expect(settles('pod', pod('a', { phase: 'Pending', containerStatuses: [] }))).to.equal(false);
    expect(settles('pod', pod('a', { phase: 'Succeeded' }))).to.equal(true);
    expect(settles('pod', pod('a', { phase: 'Failed' }))).to.equal(true);
    const cs = (states: object[]) => states.map((state, i) => ({ name: `c${i}`, image: 'x', imageID: '', ready: false, restartCount: 0, state }));
    expect(settles('pod', pod('a', { phase: 'Running', containerStatuses: cs([running, exited]) }))).to.equal(true);
    expect(settles('pod', pod('a', { phase: 'Running', containerStatuses: cs([running, waiting]) }))).to.equal(false);
  });

  it('jobKeyOf: the Job itself, or a pod\'s owner Job, as namespace/name', () => {
    expect(jobKeyOf('job', job('a'))).to.equal('ns/a');
    expect(jobKeyOf('pod', pod('b', {}))).to.equal('ns/b');
    expect(jobKeyOf('pod', { metadata: { name: 'p', namespace: 'ns' } })).to.equal(undefined);
  });

  it('the change that ends the last running Job is worth a pass now; the others wait', () => {
    const a = new AwaitedJobs();
    a.record('ns/ic', ['ns/a', 'ns/b'], false);
    expect(a.urgency('ns/ic', 'update', 'pod', pod('a', { phase: 'Pending' })), 'a pod moving along').to.equal('later');
    expect(a.urgency('ns/ic', 'update', 'pod', pod('a', { phase: 'Succeeded' })), 'one of two ended').to.equal('later');
    expect(a.runningOf('ns/ic')).to.equal(1);
    expect(a.urgency('ns/ic', 'update', 'job', job('a', [{ type: 'Complete', status: 'True' }])), 'the same Job again').to.equal('later');
    expect(a.urgency('ns/ic', 'update', 'job', job('b', [{ type: 'Failed', status: 'True' }])), 'the last one ended').to.equal('now');
    expect(a.runningOf('ns/ic')).to.equal(0);
  });

  it('while work waits for a slot (or creates to retry), any Job that ends is worth a pass soon', () => {
    const a = new AwaitedJobs();
    a.record('ns/ic', ['ns/a', 'ns/b'], true);
    expect(a.urgency('ns/ic', 'update', 'pod', pod('a', { phase: 'Running', containerStatuses: [] }))).to.equal('later');
    expect(a.urgency('ns/ic', 'update', 'pod', pod('a', { phase: 'Succeeded' }))).to.equal('soon');
    expect(a.urgency('ns/ic', 'update', 'pod', pod('b', { phase: 'Succeeded' })), 'the last one').to.equal('now');
    a.record('ns/ic', ['ns/a', 'ns/b'], false);
    a.markCreating('ns/ic');
    expect(a.urgency('ns/ic', 'update', 'job', job('b', [{ type: 'Complete', status: 'True' }]))).to.equal('soon');
  });

  it('deletions, and caches without a recorded pass, are worth a pass soon; a finished operation is forgotten', () => {
    const a = new AwaitedJobs();
    expect(a.urgency('ns/other', 'update', 'pod', pod('a', { phase: 'Pending' }))).to.equal('soon');
    a.record('ns/ic', ['ns/a'], false);
    expect(a.urgency('ns/ic', 'delete', 'pod', pod('a', { phase: 'Running' })), 'a pod deleted: work to redo').to.equal('soon');
    expect(a.urgency('ns/ic', 'delete', 'job', job('a'))).to.equal('soon');
    a.forget('ns/ic');
    expect(a.runningOf('ns/ic')).to.equal(undefined);
    expect(a.urgency('ns/ic', 'update', 'pod', pod('a', { phase: 'Pending' }))).to.equal('soon');
  });
});
