import { expect } from 'chai';
import type { V1Node } from '@kubernetes/client-node';
import { chunk, mustPull, planOperation, type PlanInput } from '../../../src/planning/operation-plan.js';
import { nodeHostname, nodeMatchesSelector } from '../../../src/planning/node-selection.js';

function node(name: string, labels: Record<string, string> = {}, images: string[] = [], runtime = 'containerd://1.7.24'): V1Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': `${name}-host`, ...labels } },
    status: { nodeInfo: { containerRuntimeVersion: runtime } as never, images: images.map((n) => ({ names: [n] })) },
  };
}

const nodes = [node('n1', { tier: 'backend' }), node('n2', { tier: 'frontend' }), node('n3', { tier: 'backend', zone: 'a' })];

function plan(p: Partial<PlanInput>) {
  return planOperation({ type: 'create', cacheSpec: [], nodes, pullPolicy: 'IfNotPresent', ...p });
}

describe('node selection', () => {
  it('matches every pair of the selector (AND); an empty or absent selector matches all nodes', () => {
    expect(nodeMatchesSelector(nodes[2]!, { tier: 'backend', zone: 'a' })).to.equal(true);
    expect(nodeMatchesSelector(nodes[0]!, { tier: 'backend', zone: 'a' })).to.equal(false);
    expect(nodeMatchesSelector(nodes[1]!, {})).to.equal(true);
    expect(nodeMatchesSelector(nodes[1]!, undefined)).to.equal(true);
  });
  it('reports the kubernetes.io/hostname label, falling back to the node name', () => {
    expect(nodeHostname(nodes[0]!)).to.equal('n1-host');
    expect(nodeHostname({ metadata: { name: 'bare' } })).to.equal('bare');
  });
});

describe('planOperation', () => {
  it('plans a node once per node object and inputs: the same objects give the same (frozen) work; a replaced node or other inputs are planned anew', () => {
    const n = node('a', {}, ['a.io/x:1']);
    const spec = [{ images: ['a.io/x:1', 'a.io/y:2'] }];
    const first = planOperation({ type: 'create', cacheSpec: spec, nodes: [n], pullPolicy: 'IfNotPresent' });
    const again = planOperation({ type: 'create', cacheSpec: [{ images: ['a.io/x:1', 'a.io/y:2'] }], nodes: [n], pullPolicy: 'IfNotPresent' });
    expect(again.nodes[0]).to.equal(first.nodes[0]);
    expect(Object.isFrozen(first.nodes[0])).to.equal(true);
    expect(Object.isFrozen(first.nodes[0]!.pulls[0]!.specImages)).to.equal(true);
    expect(first.nodes[0]!.pulls.map((w) => w.image)).to.deep.equal(['a.io/y:2']);
    expect(first.nodes[0]!.alreadyPresent.map((w) => w.image)).to.deep.equal(['a.io/x:1']);
    // the informer replaced the node: its images are read again
    const replaced = planOperation({ type: 'create', cacheSpec: spec, nodes: [node('a', {}, ['a.io/x:1', 'a.io/y:2'])], pullPolicy: 'IfNotPresent' });
    expect(replaced.nodes[0]!.pulls).to.deep.equal([]);
    // other inputs, the same node object: another plan
    expect(planOperation({ type: 'create', cacheSpec: spec, nodes: [n], pullPolicy: 'Always' }).nodes[0]!.pulls.map((w) => w.image)).to.deep.equal(['a.io/x:1', 'a.io/y:2']);
    expect(planOperation({ type: 'purge', cacheSpec: spec, nodes: [n], pullPolicy: 'IfNotPresent' }).nodes[0]!.deletes.map((w) => w.image)).to.deep.equal(['a.io/x:1', 'a.io/y:2']);
    expect(planOperation({ type: 'create', cacheSpec: [{ images: ['a.io/z:3'] }], nodes: [n], pullPolicy: 'IfNotPresent' }).nodes[0]!.pulls.map((w) => w.image)).to.deep.equal(['a.io/z:3']);
    expect(planOperation({ type: 'update', cacheSpec: spec, previousCacheSpec: [{ images: ['a.io/x:1'] }], nodes: [n], pullPolicy: 'Always' }).nodes[0]!.pulls.map((w) => w.image)).to.deep.equal(['a.io/y:2']);
    expect(planOperation({ type: 'update', cacheSpec: spec, previousCacheSpec: [{ images: ['a.io/w:0'] }], nodes: [n], pullPolicy: 'Always' }).nodes[0]!.deletes.map((w) => w.image)).to.deep.equal(['a.io/w:0']);
    expect(first.nodes[0]!.pulls.map((w) => w.image)).to.deep.equal(['a.io/y:2']);
  });

  it('shares one frozen ImageWork between the nodes that ask for the same image with the same spellings', () => {
    const p = plan({ cacheSpec: [{ images: ['a.io/x:1', 'a.io/y:2'] }, { images: ['a.io/y:2', 'a.io/x:1'], nodeSelector: { tier: 'backend' } }, { images: ['a.io/y:2'], nodeSelector: { zone: 'a' } }] });
    const [n1, n2, n3] = p.nodes;
    expect(n2!.pulls[0]).to.equal(n1!.pulls[0]);
    expect(n3!.pulls[1]).to.equal(n1!.pulls[1]);
    expect(Object.isFrozen(n1!.pulls[0]) && Object.isFrozen(n1!.pulls[0]!.specImages)).to.equal(true);
    // other spellings of the same image: its own ImageWork, with every spelling
    const q = plan({ cacheSpec: [{ images: ['a.io/x:1'] }, { images: ['docker.io/library/nginx', 'nginx:latest'], nodeSelector: { tier: 'frontend' } }] });
    expect(q.nodes[1]!.pulls.map((w) => w.specImages)).to.deep.equal([['a.io/x:1'], ['docker.io/library/nginx', 'nginx:latest']]);
    expect(q.nodes[0]!.pulls[0]).to.equal(p.nodes[0]!.pulls[0]);
  });

  it('create: every image on every matching node, one NodeWork per node, sorted by node', () => {
    const p = plan({ cacheSpec: [{ images: ['a.io/x:1', 'a.io/y:2'] }, { images: ['a.io/z:3'], nodeSelector: { tier: 'backend' } }] });
    expect(p.nodes.map((n) => n.node)).to.deep.equal(['n1', 'n2', 'n3']);
    expect(p.nodes[0]!.pulls.map((w) => w.image)).to.deep.equal(['a.io/x:1', 'a.io/y:2', 'a.io/z:3']);
    expect(p.nodes[1]!.pulls.map((w) => w.image)).to.deep.equal(['a.io/x:1', 'a.io/y:2']);
    expect(p.desired).to.equal(8);
    expect(p.nodes[0]!.hostname).to.equal('n1-host');
    expect(p.nodes[0]!.runtimeVersion).to.equal('containerd://1.7.24');
  });

  it('a selector that matches no node gives an empty plan', () => {
    const p = plan({ cacheSpec: [{ images: ['a.io/x:1'], nodeSelector: { tier: 'nope' } }] });
    expect(p.nodes).to.deep.equal([]);
    expect(p.desired).to.equal(0);
  });

  it('IfNotPresent: an image the node reports (normalised match) needs no pull; never a substring match', () => {
    const ns = [node('n1', {}, ['docker.io/library/nginx:1.27']), node('n2', {}, ['docker.io/library/nginx:1.271'])];
    const p = plan({ nodes: ns, cacheSpec: [{ images: ['nginx:1.27'] }] });
    expect(p.nodes[0]!.alreadyPresent.map((w) => w.image)).to.deep.equal(['nginx:1.27']);
    expect(p.nodes[0]!.pulls).to.deep.equal([]);
    expect(p.nodes[1]!.pulls.map((w) => w.image)).to.deep.equal(['nginx:1.27']);
  });

  it('Always, :latest and untagged images are always pulled', () => {
    const ns = [node('n1', {}, ['docker.io/library/nginx:1.27', 'docker.io/library/redis:latest'])];
    expect(plan({ nodes: ns, pullPolicy: 'Always', cacheSpec: [{ images: ['nginx:1.27'] }] }).nodes[0]!.pulls).to.have.length(1);
    expect(plan({ nodes: ns, cacheSpec: [{ images: ['redis'] }] }).nodes[0]!.pulls).to.have.length(1);
    expect(plan({ nodes: ns, cacheSpec: [{ images: ['redis:latest'] }] }).nodes[0]!.pulls).to.have.length(1);
    expect(mustPull('nginx:1.27', 'IfNotPresent', ['docker.io/library/nginx:1.27'])).to.equal(false);
  });

  it('one image written two ways on one node is one pull that reports both spellings', () => {
    const p = plan({ nodes: [node('n1')], cacheSpec: [{ images: ['nginx:1.27'] }, { images: ['docker.io/library/nginx:1.27'] }] });
    expect(p.nodes[0]!.pulls).to.have.length(1);
    expect(p.nodes[0]!.pulls[0]!.specImages).to.deep.equal(['nginx:1.27', 'docker.io/library/nginx:1.27']);
    expect(p.desired).to.equal(1);
  });

  it('an invalid reference fails without a Job', () => {
    const p = plan({ nodes: [node('n1')], cacheSpec: [{ images: ['Bad Image;rm -rf'] }] });
    expect(p.nodes[0]!.pulls).to.deep.equal([]);
    expect(p.nodes[0]!.invalid).to.have.length(1);
    expect(p.nodes[0]!.invalid[0]!.message).to.be.a('string').and.not.equal('');
  });

  it('update: pulls only added pairs and deletes only dropped ones (diff against the previous spec)', () => {
    const p = plan({
      type: 'update',
      previousCacheSpec: [{ images: ['a.io/keep:1', 'a.io/drop:1'] }, { images: ['a.io/b:1'], nodeSelector: { tier: 'backend' } }],
      cacheSpec: [{ images: ['a.io/keep:1', 'a.io/add:1'] }, { images: ['a.io/b:1'], nodeSelector: { tier: 'backend' } }],
    });
    for (const n of p.nodes) {
      expect(n.pulls.map((w) => w.image)).to.deep.equal(['a.io/add:1']);
      expect(n.deletes.map((w) => w.image)).to.deep.equal(['a.io/drop:1']);
    }
    expect(p.desired).to.equal(6);
  });

  it('update: an image removed from one entry but still in another on the same node is not deleted', () => {
    const p = plan({
      type: 'update',
      previousCacheSpec: [{ images: ['a.io/x:1'] }, { images: ['a.io/x:1'], nodeSelector: { tier: 'backend' } }],
      cacheSpec: [{ images: ['a.io/x:1'] }, { images: ['a.io/y:1'], nodeSelector: { tier: 'backend' } }],
    });
    expect(p.nodes.flatMap((n) => n.deletes)).to.deep.equal([]);
    expect(p.nodes.filter((n) => n.pulls.length > 0).map((n) => n.node)).to.deep.equal(['n1', 'n3']);
  });

  it('update with no previous spec pulls every image', () => {
    const p = plan({ type: 'update', cacheSpec: [{ images: ['a.io/x:1'] }] });
    expect(p.desired).to.equal(3);
  });

  it('purge: deletes every image on every matching node, without a presence check', () => {
    const ns = [node('n1', {}, ['docker.io/library/nginx:1.27']), node('n2')];
    const p = plan({ type: 'purge', nodes: ns, cacheSpec: [{ images: ['nginx:1.27', 'a.io/x:1'] }] });
    expect(p.nodes.map((n) => n.deletes.length)).to.deep.equal([2, 2]);
    expect(p.nodes.flatMap((n) => n.pulls)).to.deep.equal([]);
  });

  it('a node filter limits the operation to those nodes', () => {
    const p = plan({ type: 'refresh', nodeFilter: ['n2'], cacheSpec: [{ images: ['a.io/x:1'] }] });
    expect(p.nodes.map((n) => n.node)).to.deep.equal(['n2']);
  });

  it('chunk splits lists into pieces of at most n', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).to.deep.equal([[1, 2], [3, 4], [5]]);
    expect(chunk([], 50)).to.deep.equal([]);
  });
});
