import { expect } from 'chai';
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { nodeMatchesAffinity, requirementMatches, selectNodes, skipReason, tolerates, toleratesNode, type TargetingPolicy } from '../../../src/planning/node-selection.js';
import { planOperation } from '../../../src/planning/operation-plan.js';
import { cacheStatusFields, skippedSummary } from '../../../src/planning/status-computation.js';
import { checkTargeting } from '../../../src/webhook/targeting-rules.js';
import { validateImageCacheAdmission } from '../../../src/webhook/validation-rules.js';
import { buildPullJob } from '../../../src/jobs/job-factory.js';
import { Message } from '../../../src/api/constants.js';
import type { CacheSpecEntry } from '../../../src/api/imagecache.js';

function node(name: string, o: { labels?: Record<string, string>; ready?: boolean; cordoned?: boolean; taints?: V1Taint[] } = {}): V1Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...o.labels } },
    spec: { unschedulable: o.cordoned, taints: o.taints },
    status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }], nodeInfo: { containerRuntimeVersion: 'containerd://1.7' } as never },
  };
}
const POLICY: TargetingPolicy = { skipCordoned: true, skipNotReady: true, operatingSystems: ['linux'], architectures: ['amd64', 'arm64'] };
const affinity = (...exprs: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt'; values?: string[] }[][]): CacheSpecEntry['affinity'] =>
  ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: exprs.map((matchExpressions) => ({ matchExpressions })) } } });

describe('targeting: node affinity, tolerations, skipped nodes', () => {
  it('matchExpressions operators as the scheduler evaluates them', () => {
    const l = { zone: 'a', gpus: '4' };
    expect(requirementMatches(l, { key: 'zone', operator: 'In', values: ['a', 'b'] })).to.equal(true);
    expect(requirementMatches(l, { key: 'zone', operator: 'NotIn', values: ['a'] })).to.equal(false);
    expect(requirementMatches(l, { key: 'other', operator: 'NotIn', values: ['a'] })).to.equal(true);
    expect(requirementMatches(l, { key: 'zone', operator: 'Exists' })).to.equal(true);
    expect(requirementMatches(l, { key: 'zone', operator: 'DoesNotExist' })).to.equal(false);
    expect(requirementMatches(l, { key: 'gpus', operator: 'Gt', values: ['3'] })).to.equal(true);
    expect(requirementMatches(l, { key: 'gpus', operator: 'Lt', values: ['4'] })).to.equal(false);
    expect(requirementMatches(l, { key: 'zone', operator: 'Gt', values: ['1'] })).to.equal(false);
  });
  it('terms are ORed, expressions within a term ANDed, and the affinity is ANDed with nodeSelector', () => {
    const n = node('n', { labels: { zone: 'a', tier: 'web' } });
    expect(nodeMatchesAffinity(n, { affinity: affinity([{ key: 'zone', operator: 'In', values: ['b'] }], [{ key: 'tier', operator: 'Exists' }]) })).to.equal(true);
    expect(nodeMatchesAffinity(n, { affinity: affinity([{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'tier', operator: 'DoesNotExist' }]) })).to.equal(false);
    const nodes = [n, node('m', { labels: { zone: 'b', tier: 'web' } })];
    const r = selectNodes(nodes, { nodeSelector: { tier: 'web' }, affinity: affinity([{ key: 'zone', operator: 'NotIn', values: ['b'] }]) });
    expect(r.selected.map((x) => x.metadata!.name)).to.deep.equal(['n']);
  });
  it('tolerations: absent tolerates every taint; present must tolerate each NoSchedule/NoExecute taint', () => {
    const tainted = node('t', { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }, { key: 'soft', effect: 'PreferNoSchedule' }] });
    expect(toleratesNode(tainted, undefined)).to.equal(true);
    expect(toleratesNode(tainted, [])).to.equal(false);
    expect(toleratesNode(tainted, [{ key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }])).to.equal(true);
    expect(toleratesNode(tainted, [{ key: 'gpu', operator: 'Exists' }])).to.equal(true);
    expect(tolerates({ operator: 'Exists' }, { key: 'x', effect: 'NoExecute' })).to.equal(true);
    expect(tolerates({ key: 'gpu', value: 'false' }, { key: 'gpu', value: 'true', effect: 'NoSchedule' })).to.equal(false);
  });
  it('policy: cordoned, NotReady, other OS/arch and untolerated nodes are skipped with their reason; the original policy skips none', () => {
    expect(skipReason(node('c', { cordoned: true }), {}, POLICY)).to.equal('Cordoned');
    expect(skipReason(node('r', { ready: false }), {}, POLICY)).to.equal('NotReady');
    expect(skipReason(node('w', { labels: { 'kubernetes.io/os': 'windows' } }), {}, POLICY)).to.equal('UnsupportedPlatform');
    expect(skipReason(node('s', { labels: { 'kubernetes.io/arch': 's390x' } }), {}, POLICY)).to.equal('UnsupportedPlatform');
    expect(skipReason(node('t', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] }), { tolerations: [] }, POLICY)).to.equal('TaintNotTolerated');
    expect(skipReason(node('c', { cordoned: true, ready: false }), {}, { skipCordoned: false, skipNotReady: false, operatingSystems: [], architectures: [] })).to.equal(undefined);
  });
  it('the plan leaves skipped nodes out, lists them (unless another entry selects them), and gives pods the entry tolerations', () => {
    const nodes = [node('a'), node('b', { cordoned: true }), node('c', { ready: false }), node('d', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] })];
    const plan = planOperation({
      type: 'create', nodes, pullPolicy: 'IfNotPresent', targeting: POLICY,
      cacheSpec: [{ images: ['x.io/a:1'], tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }] }],
    });
    expect(plan.nodes.map((n) => n.node)).to.deep.equal(['a', 'd']);
    expect(plan.skipped.map((s) => [s.node, s.reason])).to.deep.equal([['b', 'Cordoned'], ['c', 'NotReady']]);
    expect(plan.nodes[1]!.tolerations).to.deep.equal([{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    const job = buildPullJob({ cache: { metadata: { name: 'c', namespace: 'ns', uid: 'u' }, spec: { cacheSpec: [] } }, operationId: 'o', node: plan.nodes[1]!, images: plan.nodes[1]!.pulls }, {
      pullPolicy: 'IfNotPresent', serviceAccountName: '', jobPriorityClassName: '', imageDeleteJobHostNetwork: false, criSocketPath: '', criClientImage: 'c', busyboxImage: 'b', imagePullDeadlineMs: 1000, deleteJobNamespace: '',
    });
    // explicit tolerations, plus the warming taint's (lifted once the node has its images)
    expect(job.spec!.template.spec!.tolerations).to.deep.equal([{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }, { key: 'kubefledged.io/warming', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(toleratesNode(node('w', { taints: [{ key: 'kubefledged.io/warming', effect: 'NoSchedule' }] }), [])).to.equal(true);
    const any = planOperation({ type: 'create', nodes, pullPolicy: 'IfNotPresent', targeting: POLICY, cacheSpec: [{ images: ['x.io/a:1'] }] });
    expect(any.nodes.find((n) => n.node === 'a')!.tolerations).to.equal(undefined); // the original's "tolerate everything"
  });
  it('status: skipped nodes by reason (bounded); all selected nodes skipped is not "did not match any nodes"', () => {
    const skipped = Array.from({ length: 12 }, (_, i) => ({ node: `n${i}`, hostname: `n${String(i).padStart(2, '0')}`, reason: 'NotReady' as const }));
    const s = skippedSummary(skipped);
    expect(s).to.have.length(1);
    expect(s[0]).to.include({ reason: 'NotReady', count: 12 });
    expect(s[0]!.nodes).to.have.length(10);
    const f = cacheStatusFields('create', [], { desired: 0, wants: () => false }, undefined, undefined, skipped);
    expect(f).to.include({ status: 'NoImagesPulledOrDeleted', message: Message.AllSelectedNodesSkipped });
    expect(cacheStatusFields('create', [], { desired: 0, wants: () => false }, undefined).message).to.equal(Message.NoImagesPulledOrDeleted);
  });
  it('webhook: the targeting fields are checked as in a pod spec, the message naming the field and the fix', () => {
    const terms = 'spec.cacheSpec[0].affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms';
    expect(checkTargeting({ affinity: affinity([{ key: 'zone', operator: 'In' }]) }, 'spec.cacheSpec[0]')).to.match(new RegExp(`^${terms.replace(/[.[\]]/g, '\\$&')}\\[0\\]\\.matchExpressions\\[0\\]\\.values: operator In needs at least one value; fix:`));
    expect(checkTargeting({ affinity: affinity([{ key: 'zone', operator: 'Exists', values: ['a'] }]) }, 'p')).to.contain('takes no values');
    expect(checkTargeting({ affinity: affinity([{ key: 'gpus', operator: 'Gt', values: ['many'] }]) }, 'p')).to.contain('exactly one integer');
    expect(checkTargeting({ affinity: affinity([{ key: 'bad key', operator: 'Exists' }]) }, 'p')).to.contain('invalid label key "bad key"');
    expect(checkTargeting({ affinity: affinity([]) }, 'p')).to.contain('empty; fix');
    expect(checkTargeting({ tolerations: [{ operator: 'Exists', value: 'x' }] }, 'p')).to.contain('p.tolerations[0].value: must be empty with operator Exists');
    expect(checkTargeting({ tolerations: [{ value: 'x' }] }, 'p')).to.contain('p.tolerations[0].key: required with operator Equal');
    expect(checkTargeting({ tolerations: [{ key: 'k', tolerationSeconds: 5, effect: 'NoSchedule' }] }, 'p')).to.contain('only valid with effect NoExecute');
    expect(checkTargeting({ affinity: affinity([{ key: 'zone', operator: 'In', values: ['a'] }]), tolerations: [{ key: 'gpu', operator: 'Exists' }] }, 'p')).to.equal(undefined);
    const verdict = validateImageCacheAdmission({ operation: 'CREATE', object: { spec: { cacheSpec: [{ images: ['nginx:1.27'], tolerations: [{ operator: 'Exists', value: 'x' }] }] } } });
    expect(verdict).to.deep.equal({ allowed: false, message: 'spec.cacheSpec[0].tolerations[0].value: must be empty with operator Exists; fix: remove value or use operator Equal' });
    const schema = validateImageCacheAdmission({ operation: 'CREATE', object: { spec: { cacheSpec: [{ images: ['nginx:1.27'], affinity: affinity([{ key: 'z', operator: 'Near' as 'In', values: ['a'] }]) }] } } });
    expect(schema.allowed).to.equal(false);
  });
});
