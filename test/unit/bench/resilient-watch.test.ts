// The bench's watches list and watch again when the API server ends them (no network: Watch is stubbed).
import { expect } from 'chai';
import sinon from 'sinon';
import * as k8s from '@kubernetes/client-node';
import { resilientWatch } from '../../../bench/support/resilient-watch.js';

describe('bench: a watch that survives its end', () => {
  afterEach(() => sinon.restore());

  it('on a clean end lists, hands the listed objects over as ADDED, and watches again from the list\'s resourceVersion', async () => {
    const calls: Record<string, unknown>[] = [];
    const dones: ((err: unknown) => void)[] = [];
    sinon.stub(k8s.Watch.prototype, 'watch').callsFake(async (_path, query, callback, done) => {
      calls.push(query);
      dones.push(done);
      if (calls.length === 1) callback('ADDED', { metadata: { name: 'a' } });
      return new AbortController();
    });
    const seen: string[] = [];
    let lists = 0;
    const kc = new k8s.KubeConfig();
    const w = await resilientWatch<k8s.V1Pod>(kc, '/api/v1/namespaces/x/pods', async () => {
      lists++;
      return { items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }], metadata: { resourceVersion: '42' } };
    }, (phase, o) => seen.push(`${phase} ${o.metadata?.name}`));
    expect(calls).to.deep.equal([{}]);
    dones[0]!(null); // the server closed the watch
    await new Promise((r) => setTimeout(r, 600));
    expect(lists).to.equal(1);
    expect(seen).to.deep.equal(['ADDED a', 'ADDED a', 'ADDED b']);
    expect(calls).to.deep.equal([{}, { resourceVersion: '42' }]);
    w.stop();
    dones[1]!(null); // ended by stop(): no list, no new watch
    await new Promise((r) => setTimeout(r, 600));
    expect(lists).to.equal(1);
    expect(calls.length).to.equal(2);
  });
});
