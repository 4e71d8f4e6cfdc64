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
});
