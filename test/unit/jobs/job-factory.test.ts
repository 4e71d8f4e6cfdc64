import { expect } from 'chai';
import { activeDeadlineSeconds, buildDeleteJob, buildPullJob, containerPullPolicy, type JobSettings, type JobTarget } from '../../../src/jobs/job-factory.js';
import { jobName, labelValue, readJobWork, ANNOTATION_WORK } from '../../../src/jobs/job-labels.js';
import type { ImageCache } from '../../../src/api/imagecache.js';

const cache: ImageCache = {
  metadata: { name: 'imagecache1', namespace: 'kube-fledged', uid: 'uid-1' },
  spec: { cacheSpec: [{ images: ['a.io/x:1'] }], imagePullSecrets: [{ name: 'myregistrykey' }] },
};
const settings: JobSettings = {
  pullPolicy: 'IfNotPresent', serviceAccountName: '', jobPriorityClassName: '', imageDeleteJobHostNetwork: false,
  criSocketPath: '', criClientImage: 'senthilrch/kubefledged-cri-client:v0.11.0', busyboxImage: 'senthilrch/busybox:1.35.0',
  imagePullDeadlineMs: 5 * 60_000, deleteJobNamespace: '',
};
function target(images: string[], runtime = 'containerd://1.7.24'): JobTarget {
  return {
    cache, operationId: 'op1234',
    node: { node: 'node-a', hostname: 'host-a', runtimeVersion: runtime, pulls: [], deletes: [], alreadyPresent: [], invalid: [] },
    images: images.map((i) => ({ image: i, specImages: [i] })),
  };
}

describe('JobFactory: pull Job', () => {
  const job = buildPullJob(target(['a.io/x:1', 'a.io/y:latest', 'a.io/z']), settings);
  const pod = job.spec!.template.spec!;

  it('carries the labels, owner reference and shape of spec §3.3', () => {
    expect(job.metadata!.labels).to.include({ app: 'kubefledged', kubefledged: 'kubefledged-image-manager', imagecache: 'imagecache1', controller: 'fledged' });
    expect(job.metadata!.ownerReferences).to.deep.equal([{ apiVersion: 'kubefledged.io/v1alpha2', kind: 'ImageCache', name: 'imagecache1', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    expect(job.metadata!.namespace).to.equal('kube-fledged');
    expect(job.spec!.backoffLimit).to.equal(0);
    expect(job.spec!.activeDeadlineSeconds).to.equal(3600);
    expect(job.spec!.template.metadata!.labels).to.deep.equal(job.metadata!.labels);
    expect(pod.nodeSelector).to.deep.equal({ 'kubernetes.io/hostname': 'host-a' });
    expect(pod.restartPolicy).to.equal('Never');
    expect(pod.tolerations).to.deep.equal([{ operator: 'Exists' }]);
    expect(pod.imagePullSecrets).to.deep.equal([{ name: 'myregistrykey' }]);
    expect(pod.initContainers![0]).to.include({ name: 'busybox', image: 'senthilrch/busybox:1.35.0' });
    expect(pod.initContainers![0]!.command).to.deep.equal(['cp', '/bin/echo', '/tmp/bin']);
  });

  it('one container per image, running the copied echo, with the computed pull policy', () => {
    expect(pod.containers.map((c) => c.image)).to.deep.equal(['a.io/x:1', 'a.io/y:latest', 'a.io/z']);
    expect(pod.containers[0]!.command).to.deep.equal(['/tmp/bin/echo', 'Image pulled successfully!']);
    expect(pod.containers.map((c) => c.imagePullPolicy)).to.deep.equal(['IfNotPresent', 'Always', 'Always']);
    expect(containerPullPolicy('a.io/x:1', 'Always')).to.equal('Always');
  });

  it('passes Pod Security "restricted"', () => {
    expect(pod.securityContext).to.deep.include({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of [...pod.containers, ...pod.initContainers!]) {
      expect(c.securityContext).to.deep.include({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true });
    }
    expect(pod.hostNetwork).to.equal(undefined);
    expect(pod.volumes!.every((v) => !v.hostPath)).to.equal(true);
    expect(pod.automountServiceAccountToken).to.equal(false);
  });

  it('records which container handles which spec image, for results and adoption', () => {
    const work = readJobWork(job.metadata!.annotations);
    expect(work).to.deep.equal({ node: 'node-a', hostname: 'host-a', action: 'pull', containers: {
      'imagepuller-0': ['a.io/x:1'], 'imagepuller-1': ['a.io/y:latest'], 'imagepuller-2': ['a.io/z'] } });
    expect(readJobWork({ [ANNOTATION_WORK]: 'not json' })).to.equal(undefined);
  });

  it('service account, priority class and a long pull deadline land in the Job', () => {
    const j = buildPullJob(target(['a.io/x:1']), { ...settings, serviceAccountName: 'puller', jobPriorityClassName: 'low', imagePullDeadlineMs: 2 * 3600_000 });
    expect(j.spec!.template.spec!.serviceAccountName).to.equal('puller');
    expect(j.spec!.template.spec!.priorityClassName).to.equal('low');
    expect(j.spec!.activeDeadlineSeconds).to.equal(7500);
    expect(activeDeadlineSeconds(60_000)).to.equal(3600);
  });

  it('deterministic names of at most 63 characters; distinct per operation, node, action and images', () => {
    const long = 'x'.repeat(200);
    const n = jobName(long, 'op1234', 'node-a', 'pull', ['a']);
    expect(n.length).to.be.at.most(63);
    expect(n).to.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(jobName('c', 'op1234', 'node-a', 'pull', ['a', 'b'])).to.equal(jobName('c', 'op1234', 'node-a', 'pull', ['b', 'a']));
    const names = new Set([
      jobName('c', 'o', 'a', 'pull', ['x']), jobName('c', 'o', 'b', 'pull', ['x']), jobName('c', 'o', 'a', 'delete', ['x']),
      jobName('c', 'o', 'a', 'pull', ['x', 'y']), jobName('c', 'o', 'a', 'pull', ['y']), jobName('c', 'o2', 'a', 'pull', ['x']),
    ]);
    expect(names.size).to.equal(6);
    // the work made again (its Job gone before it ended) gets another name each attempt; attempt 0 is the first name
    expect(jobName('c', 'o', 'a', 'pull', ['x'], 0)).to.equal(jobName('c', 'o', 'a', 'pull', ['x']));
    const attempts = [0, 1, 2, 3].map((n) => jobName(long, 'op1234', 'node-a', 'pull', ['a'], n));
    expect(new Set(attempts).size).to.equal(4);
    for (const a of attempts) expect(a.length).to.equal(n.length);
    expect(labelValue(long).length).to.be.at.most(63);
    expect(labelValue('short')).to.equal('short');
  });
});

describe('JobFactory: delete Job', () => {
  it('one CRI client container per image against the containerd socket; hostNetwork from the flag', () => {
    const r = buildDeleteJob(target(['a.io/x:1', 'a.io/y:2']), { ...settings, imageDeleteJobHostNetwork: true });
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    const pod = r.job.spec!.template.spec!;
    expect(pod.hostNetwork).to.equal(true);
    expect(pod.containers.map((c) => c.name)).to.deep.equal(['cri-client-0', 'cri-client-1']);
    expect(pod.containers.every((c) => c.image === settings.criClientImage)).to.equal(true);
    const args = pod.containers[0]!.args ?? [];
    expect(args).to.include('a.io/x:1');
    expect(args.join(' ')).to.contain('unix:///run/kubefledged/cri/containerd.sock');
    expect(pod.volumes![0]!.hostPath).to.deep.equal({ path: '/run/containerd', type: 'Directory' });
    expect(JSON.stringify(pod.containers)).not.to.match(/bash|\/bin\/sh/);
    expect(r.job.metadata!.labels!['kubefledged.io/action']).to.equal('delete');
    expect(pod.volumes!.every((v) => v.hostPath?.type !== 'Socket')).to.equal(true);
  });
  it('runs in the controller namespace (no owner reference across namespaces) when set; no pull secrets', () => {
    const r = buildDeleteJob(target(['a.io/x:1']), { ...settings, deleteJobNamespace: 'kf-system' });
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.job.metadata!.namespace).to.equal('kf-system');
    expect(r.job.spec!.template.metadata!.namespace).to.equal('kf-system');
    expect(r.job.metadata!.ownerReferences).to.equal(undefined);
    expect(r.job.metadata!.labels).to.include({ 'kubefledged.io/imagecache-namespace': 'kube-fledged', 'kubefledged.io/imagecache-uid': 'uid-1' });
    expect(r.job.spec!.template.spec!.imagePullSecrets).to.equal(undefined);
    const same = buildDeleteJob(target(['a.io/x:1']), settings);
    expect(same.ok && same.job.metadata!.ownerReferences).to.have.length(1);
  });
  it('--cri-socket-path wins over the runtime default', () => {
    const r = buildDeleteJob(target(['a.io/x:1']), { ...settings, criSocketPath: '/run/k3s/containerd/containerd.sock' });
    expect(r.ok && r.job.spec!.template.spec!.volumes![0]!.hostPath!.path).to.equal('/run/k3s/containerd');
  });
  it('cri-o nodes use the cri-o socket', () => {
    const r = buildDeleteJob(target(['a.io/x:1'], 'cri-o://1.30.0'), settings);
    expect(r.ok && r.job.spec!.template.spec!.volumes![0]!.hostPath!.path).to.equal('/var/run/crio');
    expect(r.ok && r.job.spec!.template.spec!.containers[0]!.args!.join(' ')).to.contain('/crio.sock');
  });
  it('an unknown runtime gives no Job but a clear reason', () => {
    const r = buildDeleteJob(target(['a.io/x:1'], 'kwok-v0.8.0'), settings);
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.message).to.contain('kwok-v0.8.0');
  });
});
