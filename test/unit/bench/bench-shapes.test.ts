import { expect } from 'chai';
import type * as k8s from '@kubernetes/client-node';
import { recreatableJob } from '../../../bench/strategies/floor.js';
import { originalPullJob, presentOnNode } from '../../../bench/strategies/original.js';
import { imagesPulled, timeline } from '../../../bench/support/namespace-observer.js';
import { chartSvg, niceStep } from '../../../bench/report/chart-svg.js';
import { medianRatio, mergeReports, ratio, resultsMarkdown, sortedScenarios, type BenchReport, type ScenarioReport } from '../../../bench/report/results-md.js';
import type { ImageCache } from '../../../src/api/imagecache.js';

describe('bench: the floor re-creates the controller\'s Jobs', () => {
  const job: k8s.V1Job = {
    metadata: { name: 'c-abc-123', namespace: 'kfb-x', uid: 'u1', resourceVersion: '9', ownerReferences: [{ apiVersion: 'kubefledged.io/v1alpha2', kind: 'ImageCache', name: 'c', uid: 'o' }],
      labels: { app: 'kubefledged', kubefledged: 'kubefledged-image-manager', imagecache: 'c', 'kubefledged.io/operation': 'abc', team: 'x' } },
    spec: {
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } }, manualSelector: false, backoffLimit: 0,
      template: { metadata: { labels: { 'controller-uid': 'u1', 'job-name': 'c-abc-123', 'batch.kubernetes.io/job-name': 'c-abc-123', app: 'kubefledged', team: 'x' } },
        spec: { nodeName: 'n1', containers: [{ name: 'i0', image: 'a:1' }, { name: 'i1', image: 'b:1' }], restartPolicy: 'Never' } },
    },
    status: { succeeded: 1 },
  };

  it('keeps the pod spec (node, containers) and drops owner, selector, status and the labels the controller reads', () => {
    const j = recreatableJob(job, 'kfb-floor-y', 3);
    expect(j.metadata).to.deep.equal({ name: 'floor-3', namespace: 'kfb-floor-y', labels: { team: 'x', 'kf-bench': 'floor' } });
    expect(j.spec!.selector).to.equal(undefined);
    expect(j.spec!.manualSelector).to.equal(undefined);
    expect(j.spec!.template.metadata).to.deep.equal({ labels: { team: 'x', 'kf-bench': 'floor' } });
    expect(j.spec!.template.spec).to.deep.equal(job.spec!.template.spec);
    expect(j).to.not.have.property('status');
    expect(job.spec!.selector, 'the template is not changed').to.not.equal(undefined);
  });
});

describe('bench: the original\'s strategy', () => {
  const ic = { metadata: { name: 'ic1', namespace: 'ns', uid: 'u' }, spec: { cacheSpec: [] } } as unknown as ImageCache;

  it('builds the pull Job of spec §3.3: one image, busybox init container, hostname selector, every taint tolerated', () => {
    const j = originalPullJob(ic, 'reg/app:1', 'node-7');
    expect(j.metadata!.generateName).to.equal('ic1-');
    expect(j.metadata!.labels).to.deep.equal({ app: 'kubefledged', kubefledged: 'kubefledged-image-manager', imagecache: 'ic1', controller: 'fledged' });
    expect(j.metadata!.ownerReferences![0]).to.include({ kind: 'ImageCache', name: 'ic1', uid: 'u', controller: true });
    expect(j.spec).to.include({ backoffLimit: 0, activeDeadlineSeconds: 3600 });
    const pod = j.spec!.template.spec!;
    expect(pod.nodeSelector).to.deep.equal({ 'kubernetes.io/hostname': 'node-7' });
    expect(pod.initContainers!.map((c) => c.name)).to.deep.equal(['busybox']);
    expect(pod.containers.map((c) => [c.name, c.image, c.command])).to.deep.equal([['imagepuller', 'reg/app:1', ['/tmp/bin/echo', 'Image pulled successfully!']]]);
    expect(pod.tolerations).to.deep.equal([{ operator: 'Exists' }]);
    expect(pod.restartPolicy).to.equal('Never');
  });

  it('checks presence as the original does: substring of status.images, never for :latest or untagged', () => {
    const node = { status: { images: [{ names: ['reg/app:1.21'] }, { names: ['reg/web:latest'] }] } } as k8s.V1Node;
    expect(presentOnNode('reg/app:1.2', node), 'substring false positive, as in the original').to.equal(true);
    expect(presentOnNode('reg/db:1', node)).to.equal(false);
    expect(presentOnNode('reg/web:latest', node)).to.equal(false);
    expect(presentOnNode('reg/web', node)).to.equal(false);
  });
});

describe('bench: a pod has pulled its images', () => {
  const pod = (phase: string, states: k8s.V1ContainerState[], containers = states.length): k8s.V1Pod => ({
    spec: { containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, image: `i${i}` })) },
    status: { phase, containerStatuses: states.map((state, i) => ({ name: `c${i}`, image: `i${i}`, imageID: '', ready: false, restartCount: 0, state })) },
  });
  it('when every container runs or exited 0, or the pod Succeeded', () => {
    expect(imagesPulled(pod('Running', [{ running: {} }, { terminated: { exitCode: 0 } }]))).to.equal(true);
    expect(imagesPulled(pod('Succeeded', []))).to.equal(true);
  });
  it('not while a container waits, failed, or has no status yet', () => {
    expect(imagesPulled(pod('Pending', [{ running: {} }, { waiting: { reason: 'ErrImagePull' } }]))).to.equal(false);
    expect(imagesPulled(pod('Running', [{ terminated: { exitCode: 1 } }]))).to.equal(false);
    expect(imagesPulled(pod('Pending', [{ running: {} }], 2))).to.equal(false);
  });
});

describe('bench: results', () => {
  it('niceStep gives round tick steps', () => {
    expect(niceStep(1000)).to.equal(200);
    expect(niceStep(45)).to.equal(10);
    expect(niceStep(8)).to.equal(2);
  });

  it('the chart draws a line per series with its points and a legend; refuses an empty chart', () => {
    const svg = chartSvg('t', 's', 'nodes', 'seconds', [
      { name: 'ours, 10 images', color: '#00f', points: [{ x: 500, y: 40 }, { x: 100, y: 8 }] },
      { name: 'floor', color: '#0f0', points: [{ x: 100, y: 5 }], dashed: true },
    ]);
    expect(svg.startsWith('<svg')).to.equal(true);
    expect(svg.match(/<polyline/g)).to.have.length(1);
    expect(svg.match(/<circle/g)).to.have.length(3);
    expect(svg).to.include('ours, 10 images').and.include('stroke-dasharray');
    expect(() => chartSvg('t', 's', 'x', 'y', [])).to.throw(/no points/);
  });

  it('the markdown table has one row per scenario and the ratios', () => {
    const req = { total: 150, byVerb: [['create jobs', 100]] as [string, number][], notFound: 0, conflict: 0, writes: 100 };
    const rep: BenchReport = {
      machine: { cores: 2, memoryGiB: 24, cpuModel: 'cpu', kubernetes: 'v1.34.4', commit: 'abc', node: 'v22', date: 'd', loadAvg: '1' },
      args: 'x',
      scenarios: [
        { scenario: { nodes: 100, images: 10, caches: 1 }, freshApiserver: true,
          ours: { createSeconds: 8, createTimeline: { firstJobSeconds: 0.5, lastJobSeconds: 2, lastPulledSeconds: 7 }, refreshSeconds: 0.3, newNodeSeconds: 0.1, newNodeSteps: { job: 0.1, created: 0.2, bound: 0.3, started: 0.4, pulled: NaN }, joinAfterSeconds: 12.5, jobs: 100, pods: 100, podsSucceeded: 100, refreshJobs: 0, newNodeJobs: 1, create: req, nodeReport: req, refresh: req, newNode: req,
            idleSeconds: 0, refreshPeriodSeconds: 0, apiserverCreate: [], apiserverCreateTotal: 900, peakRssBytes: 100 * 2 ** 20, readyRssBytes: 80 * 2 ** 20, cpuCreateSeconds: 1, cpuSeconds: 2, statusBytes: 900, finalStatus: ['Succeeded'] },
          floor: { seconds: 5, jobs: 100, failed: 0, timeline: { firstJobSeconds: 0.1, lastJobSeconds: 1, lastPulledSeconds: 5 }, requests: req, apiserverTotal: 800, newNodeSeconds: 0.4, newNodeSteps: { job: NaN, created: 0.1, bound: 0.2, started: 0.3, pulled: 0.4 } },
          original: { seconds: 400, jobs: 1000, pods: 1000, requests: req, apiserverTotal: 9000, status: 'Succeeded' } },
        { scenario: { nodes: 500, images: 10, caches: 1 }, error: 'boom | x' },
      ],
    };
    const md = resultsMarkdown(rep);
    const rows = md.split('\n').filter((l) => /^\| \d/.test(l));
    expect(rows).to.have.length(2);
    expect(rows[0]).to.match(/^\| 100 \| 10 \| 1 \| 8\.0 \| 5\.0 \| 1\.60 \| 400\.0 \| 50\.00 \| 0\.3 \| 0\.1 \| 0\.4 \| 100 \|/);
    expect(rows[1]).to.include('failed: boom / x');
    const cells = (l: string) => l.split('|').length;
    expect(cells(rows[1]!), 'a failed row has as many cells as the header').to.equal(cells(md.split('\n').find((l) => l.startsWith('| nodes'))!));
    expect(cells(rows[0]!)).to.equal(cells(rows[1]!));
    expect(md).to.include('ours/floor = 1.60').and.include('original/ours = 50.00').and.include('first Job created at 0.5 s, last at 2.0 s, last pod with its images at 7.0 s')
      .and.include('new node, seconds after Ready: its Job seen 0.1, pod created 0.2, bound 0.3, started 0.4, images pulled –')
      .and.include("floor: new node (joined 12.5 s after the create, as ours'; its Job created at Ready) Ready -> cached 0.4 s; pod created 0.1, bound 0.2, started 0.3, images pulled 0.4");
    expect(md).to.include('scenario 100 nodes x 10 images x 1 cache(s), kube-apiserver started again before each contestant');
    expect(md).to.include('scenario 500 nodes x 10 images x 1 cache(s)\n');
    expect(ratio(1, 0)).to.equal(undefined);
  });
});

describe('bench: median of ours/floor over runs', () => {
  const run = (ours: number, floor?: number) => ({ scenario: { nodes: 100, images: 10, caches: 1 }, ours: { createSeconds: ours }, floor: floor === undefined ? undefined : { seconds: floor } }) as unknown as ScenarioReport;
  it('takes the middle ratio (odd), the mean of the two middle ones (even), and skips runs without a floor', () => {
    expect(medianRatio([run(6, 5), run(10, 5), run(5, 5)])).to.equal(1.2);
    expect(medianRatio([run(6, 5), run(5, 5), run(9, 3)])).to.equal(1.2);
    expect(medianRatio([run(4, 4), run(6, 4), run(1)])).to.equal(1.25);
    expect(medianRatio([run(1)])).to.equal(undefined);
  });
});

describe('bench: timeline of a phase', () => {
  it('is the last Job and the last pulled pod after the start, in seconds (NaN when none)', () => {
    expect(timeline([500, 1500, 3000], [2000, 4500], 1000)).to.deep.equal({ firstJobSeconds: 0.5, lastJobSeconds: 2, lastPulledSeconds: 3.5 });
    expect(timeline([], [], 0).lastJobSeconds).to.be.NaN;
    expect(timeline([5], [5], 10).lastPulledSeconds).to.be.NaN;
  });
});

describe('bench: --merge', () => {
  it('combines results files: a later file\'s scenario replaces an earlier one\'s, each row says where it comes from', () => {
    const machine = (date: string, commit: string) => ({ cores: 2, memoryGiB: 24, cpuModel: 'cpu', kubernetes: 'v1.34.4', commit, node: 'v22', date, loadAvg: '1' });
    const r = (nodes: number, images: number, tag: string, run?: number): ScenarioReport => ({ scenario: { nodes, images, caches: 1 }, run, error: tag });
    const full: BenchReport = { machine: machine('d1', 'aaa'), args: 'full', scenarios: [r(100, 10, 'old'), r(500, 10, 'old'), r(1000, 50, 'old')] };
    const rerun: BenchReport = { machine: machine('d2', 'bbb'), args: 'rerun', scenarios: [r(1000, 50, 'new', 1), r(1000, 50, 'new', 2), r(500, 10, 'new')] };
    const m = mergeReports([full, rerun]);
    expect(m.scenarios.map((x) => [x.scenario.nodes, x.scenario.images, x.error, x.run ?? 0, x.from])).to.deep.equal([
      [100, 10, 'old', 0, 'd1 (commit aaa)'], [500, 10, 'new', 0, 'd2 (commit bbb)'], [1000, 50, 'new', 1, 'd2 (commit bbb)'], [1000, 50, 'new', 2, 'd2 (commit bbb)'],
    ]);
    expect(m.machine.commit).to.equal('bbb');
  });
});

describe('bench: results list scenarios by nodes, images, caches', () => {
  it('sorts an included run\'s scenarios among this run\'s, keeping repeated runs in order', () => {
    const r = (nodes: number, images: number, caches: number, run?: number): ScenarioReport => ({ scenario: { nodes, images, caches }, run });
    const keys = sortedScenarios([r(1000, 10, 1), r(200, 10, 10), r(100, 10, 1, 2), r(1000, 50, 1), r(100, 10, 1, 1), r(200, 10, 1)])
      .map((x) => `${x.scenario.nodes}x${x.scenario.images}x${x.scenario.caches}${x.run ? `#${x.run}` : ''}`);
    expect(keys).to.deep.equal(['100x10x1#2', '100x10x1#1', '200x10x1', '200x10x10', '1000x10x1', '1000x50x1']);
  });
});
