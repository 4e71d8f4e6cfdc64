import { expect } from 'chai';
import type { V1Job } from '@kubernetes/client-node';
import { JobTracker } from '../../../src/reconcilers/job-tracker.js';

const job = (name: string, uid?: string): V1Job => ({ metadata: { name, namespace: 'ns', ...(uid ? { uid } : {}) } });

describe('JobTracker', () => {
  it('a Job created and deleted before the watch delivered it is forgotten at its deletion, not after 2 minutes', () => {
    let t = 0;
    const tracker = new JobTracker(() => t);
    tracker.created(job('a'));
    expect(tracker.view([]).map((j) => j.metadata?.name), 'created, not yet seen').to.deep.equal(['a']);
    t = 1_000;
    tracker.gone(job('a', 'uid-1')); // the watch: DELETED (deleted by hand right after the create)
    expect(tracker.view([]), 'the work gets a Job again at once').to.deep.equal([]);
  });

  it('a Job seen by the watch is no longer tracked as created; unseen ones are forgotten after 2 minutes', () => {
    let t = 0;
    const tracker = new JobTracker(() => t);
    tracker.created(job('a'));
    tracker.created(job('b'));
    expect(tracker.view([job('a', 'u')]).map((j) => j.metadata?.name)).to.deep.equal(['a', 'b']);
    t = 121_000;
    expect(tracker.view([job('a', 'u')]).map((j) => j.metadata?.name)).to.deep.equal(['a']);
  });

  it('attempts: 0 for new work, one more after each create of it in the operation; forgotten with the operation, the oldest operation first', () => {
    const tracker = new JobTracker();
    expect(tracker.nextAttempt('op1', 'ic-op1-a')).to.equal(0);
    tracker.createdAttempt('op1', 'ic-op1-a', 0);
    expect(tracker.nextAttempt('op1', 'ic-op1-a')).to.equal(1);
    expect(tracker.nextAttempt('op1', 'ic-op1-b'), 'other work').to.equal(0);
    expect(tracker.nextAttempt('op2', 'ic-op1-a'), 'another operation').to.equal(0);
    tracker.createdAttempt('op1', 'ic-op1-a', 1);
    tracker.createdAttempt('op1', 'ic-op1-a', 0); // a late answer of an earlier attempt does not go back
    expect(tracker.nextAttempt('op1', 'ic-op1-a')).to.equal(2);
    tracker.forgetOperation('op1');
    expect(tracker.nextAttempt('op1', 'ic-op1-a')).to.equal(0);
    for (let i = 0; i < 300; i++) tracker.createdAttempt(`op-${i}`, 'w', 0);
    expect(tracker.nextAttempt('op-0', 'w'), 'the oldest operations forgotten past the bound').to.equal(0);
    expect(tracker.nextAttempt('op-299', 'w')).to.equal(1);
  });
});
