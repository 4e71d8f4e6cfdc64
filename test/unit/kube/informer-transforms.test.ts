// The informers' projections keep what every reader of a cached Node, Job and pod uses: each reader is
// run on the whole object (as the API sends it) and on its projection, and must answer the same.
import { expect } from 'chai';
import type { V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import { shareJob, shareNode, sharePod, slimContainerStatus, slimJob, slimMetadata, slimNode, slimPod } from '../../../src/kube/informer-transforms.js';
import { entryMatchesNode, nodeHostname, nodeImageNames, nodeIsReady, selectNodes, skipReason } from '../../../src/planning/node-selection.js';
import { hasWarmingTaint, warmingSince } from '../../../src/planning/warming.js';
import { planOperation } from '../../../src/planning/operation-plan.js';
import { notStartedFailure, operationProgress, podStarted, type ProgressInput } from '../../../src/planning/operation-progress.js';
import { buildPullJob, type JobSettings } from '../../../src/jobs/job-factory.js';
import { jobOutcomes, podsOfJob } from '../../../src/jobs/job-results.js';
import { readJobWork } from '../../../src/jobs/job-labels.js';
import { jobKey } from '../../../src/reconcilers/job-tracker.js';
import type { ImageCache } from '../../../src/api/imagecache.js';

const managedFields = [{ manager: 'kubelet', operation: 'Update', apiVersion: 'v1', time: new Date(), fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:images': {} } } }];

/** A node as the API sends it: managedFields, addresses, capacity, endpoints, image sizes, full nodeInfo. */
function fullNode(name: string, over: { ready?: boolean; images?: string[]; taints?: V1Node['spec'] extends infer S ? S extends { taints?: infer T } ? T : never : never; unschedulable?: boolean; labels?: Record<string, string> } = {}): V1Node {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name, uid: `uid-${name}`, resourceVersion: '42', creationTimestamp: new Date('2026-12-01T09:00:00Z'),
      labels: { 'kubernetes.io/hostname': `host-${name}`, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', pool: 'a', ...over.labels },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' }, managedFields,
    },
    spec: { podCIDR: '10.0.0.0/24', providerID: 'kwok://x', taints: over.taints, unschedulable: over.unschedulable },
    status: {
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' }, capacity: { cpu: '32', memory: '256Gi', pods: '110' },
      conditions: [
        { type: 'Ready', status: over.ready === false ? 'False' : 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: new Date(), lastTransitionTime: new Date() },
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      images: (over.images ?? []).map((n) => ({ names: [n, `${n.split(':')[0]}@sha256:${'a'.repeat(64)}`], sizeBytes: 123456789 })),
      nodeInfo: {
        architecture: 'amd64', operatingSystem: 'linux', containerRuntimeVersion: 'containerd://1.7.24', bootID: 'b', kernelVersion: '6.1',
        kubeProxyVersion: 'v1.34.4', kubeletVersion: 'v1.34.4', machineID: 'm', osImage: 'Debian', systemUUID: 's',
      },
    },
  };
}

const cache: ImageCache = { metadata: { name: 'ic', namespace: 'ns', uid: 'cache-uid' }, spec: { cacheSpec: [] } };
const settings: JobSettings = {
  pullPolicy: 'IfNotPresent', serviceAccountName: '', jobPriorityClassName: '', imageDeleteJobHostNetwork: false,
  criSocketPath: '', criClientImage: 'cri', busyboxImage: 'bb', imagePullDeadlineMs: 60_000, deleteJobNamespace: '',
};
const T0 = Date.parse('2026-12-01T10:00:00Z');

function progressInput(plan: ProgressInput['plan'], jobs: V1Job[], pods: V1Pod[]): ProgressInput {
  return {
    plan, jobs, pods, now: T0 + 120_000, pullDeadlineMs: 60_000, startDeadlineMs: 20_000, maxImagesPerJob: 50,
    createBudget: Infinity, createFailures: new Map(), buildable: () => undefined,
  };
}

/** A Job of the controller as the watch shows it: the factory's object plus what the API adds. */
function fullJob(node: string, images: string[], condition?: 'Complete' | 'Failed'): V1Job {
  const plan = planOperation({ type: 'create', cacheSpec: [{ images }], nodes: [fullNode(node)], pullPolicy: 'IfNotPresent' });
  const req = operationProgress(progressInput(plan, [], [])).create[0]!;
  const job = buildPullJob({ cache, operationId: 'op1', node: req.node, images: req.images }, settings);
  job.metadata = { ...job.metadata, namespace: 'ns', uid: `uid-${job.metadata!.name}`, resourceVersion: '7', creationTimestamp: new Date(T0), managedFields };
  job.status = { active: condition ? 0 : 1, startTime: new Date(T0), ...(condition ? { conditions: [{ type: condition, status: 'True', reason: condition === 'Failed' ? 'DeadlineExceeded' : 'Completed', message: 'Job was active longer than specified deadline' }] } : {}) };
  return job;
}

function fullPod(job: V1Job, state: 'unschedulable' | 'pulling' | 'failed-container' | 'done' | 'evicted'): V1Pod {
  const containers = Object.keys(readJobWork(job.metadata!.annotations)!.containers);
  const pod: V1Pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: `${job.metadata!.name}-abcde`, namespace: 'ns', uid: 'pod-uid', labels: job.spec!.template.metadata?.labels, managedFields, creationTimestamp: new Date(T0 + 500),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata!.name!, uid: job.metadata!.uid!, controller: true }],
    },
    spec: job.spec!.template.spec,
    status: {
      phase: state === 'done' ? 'Succeeded' : state === 'evicted' || state === 'failed-container' ? 'Failed' : 'Pending',
      hostIP: '10.0.0.1', podIP: '10.1.0.5', qosClass: 'BestEffort', startTime: new Date(T0 + 600),
      ...(state === 'evicted' ? { reason: 'Evicted', message: 'The node was low on resource: ephemeral-storage.' } : {}),
      conditions: [
        { type: 'PodScheduled', status: state === 'unschedulable' ? 'False' : 'True', reason: state === 'unschedulable' ? 'Unschedulable' : undefined, message: state === 'unschedulable' ? '0/3 nodes are available: 3 node(s) had untolerated taint.' : undefined },
        { type: 'Initialized', status: 'True' },
      ],
    },
  };
  if (state === 'pulling' || state === 'failed-container') {
    pod.status!.containerStatuses = containers.map((name, i) => ({
      name, image: `img-${i}`, imageID: '', ready: false, restartCount: 0,
      state: state === 'pulling'
        ? { waiting: { reason: 'ErrImagePull', message: 'rpc error: code = NotFound desc = failed to pull and unpack image: not found' } }
        : { terminated: { exitCode: i === 0 ? 0 : 2, reason: i === 0 ? 'Completed' : 'Error', message: i === 0 ? undefined : 'exec format error' } },
    }));
  }
  return pod;
}

describe('kube/informer-transforms: what the informers keep', () => {
  const nodes = [
    fullNode('n1', { images: ['registry.example/a:1', 'registry.example/b:2'] }),
    fullNode('n2', { ready: false, labels: { pool: 'b' } }),
    fullNode('n3', { taints: [{ key: 'kubefledged.io/warming', effect: 'NoSchedule' }, { key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] }),
    fullNode('n4', { unschedulable: true, images: ['registry.example/a:1'] }),
    fullNode('n5', { taints: [{ key: 'other', value: 'x', effect: 'NoSchedule' }] }),
  ];
  const slim = nodes.map(slimNode);

  it('drops managedFields and every field no reader uses, and keeps the rest of metadata', () => {
    const n = slim[0]!;
    expect(n.metadata).to.not.have.property('managedFields');
    expect(n.metadata).to.deep.equal(slimMetadata(nodes[0]!.metadata));
    expect(n.metadata?.labels).to.deep.equal(nodes[0]!.metadata!.labels);
    expect(n.metadata?.annotations).to.deep.equal(nodes[0]!.metadata!.annotations);
    expect(n.status).to.have.all.keys('conditions', 'images', 'nodeInfo');
    expect(n.status?.images?.[0]).to.deep.equal({ names: nodes[0]!.status!.images![0]!.names });
    expect(n.status?.nodeInfo).to.deep.equal({ operatingSystem: 'linux', architecture: 'amd64', containerRuntimeVersion: 'containerd://1.7.24' });
    expect(n.spec).to.have.all.keys('taints', 'unschedulable');
    const job = slimJob(fullJob('n1', ['registry.example/a:1']));
    expect(job).to.not.have.property('spec');
    expect(job.metadata).to.not.have.property('managedFields');
    const fullPulling = fullPod(fullJob('n1', ['registry.example/a:1']), 'pulling');
    const pod = slimPod(fullPulling);
    expect(pod).to.not.have.property('spec');
    expect(pod.status?.conditions?.map((c) => c.type)).to.deep.equal(['PodScheduled']);
    // of a container's status: its name and state (no image, IDs, readiness, restart count, times)
    const cs = fullPulling.status!.containerStatuses![0]!;
    expect(pod.status?.containerStatuses?.[0]).to.deep.equal({ name: cs.name, state: { waiting: { reason: 'ErrImagePull', message: cs.state!.waiting!.message } } });
    expect(slimContainerStatus({ name: 'c', image: 'i', imageID: 'id', ready: true, restartCount: 3, started: true, containerID: 'containerd://x', lastState: { terminated: { exitCode: 1 } }, state: { running: { startedAt: new Date(T0) }, terminated: { exitCode: 2, reason: 'Error', message: 'm', signal: 9, containerID: 'x' } } }))
      .to.deep.equal({ name: 'c', state: { running: {}, terminated: { exitCode: 2, reason: 'Error', message: 'm' } } });
    expect(slimMetadata(undefined)).to.equal(undefined);
    expect(slimNode({ metadata: { name: 'bare' } })).to.deep.include({ metadata: { name: 'bare' }, spec: undefined, status: undefined });
  });

  it('is a fraction of the object the API sends (a pull Job of 50 images, its pod, a node)', () => {
    const images = Array.from({ length: 50 }, (_, i) => `registry.example/team/image-${i}:v1.2.3`);
    const job = fullJob('n1', images);
    const pod = fullPod(job, 'pulling');
    const node = fullNode('n1', { images });
    const size = (o: unknown) => JSON.stringify(o).length;
    expect(size(slimJob(job))).to.be.below(size(job) / 3);
    expect(size(slimPod(pod))).to.be.below(size(pod) / 2);
    expect(size(slimNode(node))).to.be.below(size(node) * 0.9); // the image names stay: the planner matches them
  });

  it('node readers answer the same on the projection: selection, readiness, taints, cordon, hostname, images, warming', () => {
    const entries = [{ images: ['x'] }, { images: ['x'], nodeSelector: { pool: 'a' } },
      { images: ['x'], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In' as const, values: ['b'] }] }] } } } },
      { images: ['x'], tolerations: [{ key: 'dedicated', operator: 'Exists' as const }] }];
    const policies = [
      { skipCordoned: true, skipNotReady: true, operatingSystems: ['linux'], architectures: ['amd64'] },
      { skipCordoned: false, skipNotReady: false, operatingSystems: ['windows'], architectures: ['arm64'] },
    ];
    const names = (r: ReturnType<typeof selectNodes>) => ({ selected: r.selected.map((n) => n.metadata?.name), skipped: r.skipped.map((s) => [s.node.metadata?.name, s.reason]) });
    for (const e of entries) {
      for (const p of policies) expect(names(selectNodes(slim, e, p)), JSON.stringify([e, p])).to.deep.equal(names(selectNodes(nodes, e, p)));
      nodes.forEach((n, i) => {
        expect(entryMatchesNode(slim[i]!, e)).to.equal(entryMatchesNode(n, e));
        for (const p of policies) expect(skipReason(slim[i]!, e, p)).to.equal(skipReason(n, e, p));
      });
    }
    const skipped = policies.flatMap((p) => entries.flatMap((e) => selectNodes(nodes, e, p).skipped.map((s) => s.reason)));
    expect([...new Set(skipped)].sort()).to.deep.equal(['Cordoned', 'NotReady', 'TaintNotTolerated', 'UnsupportedPlatform']); // every case is exercised
    nodes.forEach((n, i) => {
      const s = slim[i]!;
      expect([nodeIsReady(s), hasWarmingTaint(s), nodeHostname(s), nodeImageNames(s), warmingSince(s, 0)])
        .to.deep.equal([nodeIsReady(n), hasWarmingTaint(n), nodeHostname(n), nodeImageNames(n), warmingSince(n, 0)]);
    });
    const plan = (ns: V1Node[]) => planOperation({ type: 'create', cacheSpec: [{ images: ['registry.example/a:1', 'registry.example/c:3'] }], nodes: ns, pullPolicy: 'IfNotPresent' });
    expect(plan(slim)).to.deep.equal(plan(nodes));
    expect(plan(slim).nodes[0]!.runtimeVersion).to.equal('containerd://1.7.24');
  });

  it('Job and pod readers answer the same on the projection: outcomes, pods of a Job, start, not-started reason, finished, progress', () => {
    const cases: [V1Job, V1Pod[]][] = [
      [fullJob('n1', ['registry.example/a:1', 'registry.example/b:2']), []],
      [fullJob('n1', ['registry.example/a:1']), ['unschedulable' as const]],
      [fullJob('n2', ['registry.example/a:1', 'registry.example/b:2']), ['pulling' as const]],
      [fullJob('n3', ['registry.example/a:1', 'registry.example/b:2'], 'Failed'), ['failed-container' as const]],
      [fullJob('n4', ['registry.example/a:1'], 'Complete'), ['evicted' as const, 'done' as const]],
      [fullJob('n5', ['registry.example/a:1']), ['evicted' as const]],
      [fullJob('n4', ['registry.example/z:9'], 'Failed'), []],
    ].map(([job, states]) => [job as V1Job, (states as Parameters<typeof fullPod>[1][]).map((st) => fullPod(job as V1Job, st))]);
    const outcomes = new Set<string>();
    for (const [job, pods] of cases) {
      const sJob = slimJob(job);
      const sPods = pods.map(slimPod);
      const work = readJobWork(job.metadata!.annotations)!;
      expect(readJobWork(sJob.metadata!.annotations)).to.deep.equal(work);
      expect(jobOutcomes(sJob, work, sPods)).to.deep.equal(jobOutcomes(job, work, pods));
      for (const o of jobOutcomes(job, work, pods)) outcomes.add(`${o.state} ${o.reason}`);
      expect(podsOfJob(sJob, sPods).map((p) => p.metadata?.name)).to.deep.equal(podsOfJob(job, pods).map((p) => p.metadata?.name));
      expect(sPods.map(podStarted)).to.deep.equal(pods.map(podStarted));
      expect(notStartedFailure(sJob, sPods, undefined)).to.deep.equal(notStartedFailure(job, pods, undefined));
      expect(jobKey(sJob)).to.equal(jobKey(job));
    }
    // the fixtures do reach the readers' branches (a projection that lost a field would differ here)
    expect([...outcomes]).to.include.members(['failed ErrImagePull', 'failed Error', 'failed Evicted', 'succeeded ', 'failed DeadlineExceeded']);
    expect(notStartedFailure(slimJob(cases[1]![0]), cases[1]![1].map(slimPod), undefined).reason).to.equal('Unschedulable');

    const nodes = [fullNode('n1'), fullNode('n2'), fullNode('n3'), fullNode('n4')];
    const plan = planOperation({ type: 'create', cacheSpec: [{ images: ['registry.example/a:1', 'registry.example/b:2'] }], nodes, pullPolicy: 'IfNotPresent' });
    const input = (jobs: V1Job[], pods: V1Pod[]) => progressInput(plan, jobs, pods);
    const jobs = cases.map(([j]) => j);
    const pods = cases.flatMap(([, p]) => p);
    expect(operationProgress(input(jobs.map(slimJob), pods.map(slimPod)))).to.deep.equal(operationProgress(input(jobs, pods)));
    // and on what the informers cache: the projections with their equal parts shared
    const shared = operationProgress(input(jobs.map((j) => shareJob(slimJob(j))), pods.map((p) => sharePod(slimPod(p)))));
    expect(shared).to.deep.equal(operationProgress(input(jobs, pods)));
  });

  it('nodes that hold the same images share one frozen copy of each; node readers answer the same', () => {
    const [a, b] = [fullNode('a', { images: ['registry.example/a:1', 'registry.example/b:2'] }), fullNode('b', { images: ['registry.example/b:2'] })];
    const [sa, sb] = [a, b].map((n) => shareNode(slimNode(n)));
    expect(sb!.status!.images![0]).to.equal(sa!.status!.images![1]);
    expect(sa!.status!.images![0]).to.not.equal(sa!.status!.images![1]);
    expect(Object.isFrozen(sa!.status!.images![0]) && Object.isFrozen(sa!.status!.images![0]!.names)).to.equal(true);
    expect(nodeImageNames(sa!)).to.deep.equal(nodeImageNames(a));
    expect(sa!.status!.images!.map((i) => i.names)).to.deep.equal(a.status!.images!.map((i) => i.names));
  });

  it('pods with the same container statuses share one frozen copy of each; a Job keeps its work', () => {
    const job = fullJob('n1', ['registry.example/a:1', 'registry.example/b:2']);
    const [a, b] = [fullPod(job, 'failed-container'), fullPod(job, 'failed-container')].map((p) => sharePod(slimPod(p)));
    const statuses = a!.status!.containerStatuses!;
    expect(statuses).to.have.length(2);
    statuses.forEach((c, i) => {
      expect(b!.status!.containerStatuses![i]).to.equal(c); // the same object, not an equal one
      expect(Object.isFrozen(c) && Object.isFrozen(c.state) && Object.isFrozen(c.state!.terminated)).to.equal(true);
    });
    expect(statuses[0]).to.not.equal(statuses[1]); // different names and exit codes: their own copies
    expect(statuses[1]!.state!.terminated).to.deep.equal({ exitCode: 2, reason: 'Error', message: 'exec format error' });
    // a status differing in one field only is not taken for another
    const waiting = sharePod(slimPod(fullPod(job, 'pulling'))).status!.containerStatuses![0]!;
    expect(waiting.name).to.equal(statuses[0]!.name);
    expect(waiting.state).to.deep.equal({ waiting: { reason: 'ErrImagePull', message: 'rpc error: code = NotFound desc = failed to pull and unpack image: not found' } });
    const other = fullPod(job, 'failed-container');
    other.status!.containerStatuses![1]!.state!.terminated!.message = 'another message';
    expect(sharePod(slimPod(other)).status!.containerStatuses![1]!.state!.terminated!.message).to.equal('another message');

    const sJob = shareJob(slimJob(job));
    expect(sJob.metadata!.annotations).to.deep.equal(job.metadata!.annotations);
    expect(readJobWork(sJob.metadata!.annotations)).to.equal(readJobWork(job.metadata!.annotations));
  });
});
