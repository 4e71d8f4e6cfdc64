// The controller's CPU per pass of an operation (no cluster): planOperation + operationProgress over
// N nodes x M images, as the runner calls them on every pass, with the Job and pod objects an informer
// would hold. Prints milliseconds per pass for three cases:
//   unchanged   no object changed since the last pass (the common pass: a watch event of another Job)
//   1% changed  1% of the pods were replaced by the informer (pods starting and ending)
//   all new     every node, Job and pod is a new object (the first pass after a restart)
//   npx tsx bench/planning-pass.ts [--nodes 1000] [--images 50] [--passes 20]
import type { V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import { planOperation } from '../src/planning/operation-plan.js';
import { operationProgress, type ProgressInput } from '../src/planning/operation-progress.js';
import { buildPullJob, type JobSettings } from '../src/jobs/job-factory.js';
import type { ImageCache } from '../src/api/imagecache.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const nodesWanted = arg('nodes', 1000);
const imagesWanted = arg('images', 50);
const passes = arg('passes', 20);
const T0 = Date.parse('2026-12-01T10:00:00Z');
const cache: ImageCache = { metadata: { name: 'ic', namespace: 'ns', uid: 'u1' }, spec: { cacheSpec: [] } };
const settings: JobSettings = {
  pullPolicy: 'IfNotPresent', serviceAccountName: '', jobPriorityClassName: '', imageDeleteJobHostNetwork: false,
  criSocketPath: '', criClientImage: 'cri', busyboxImage: 'bb', imagePullDeadlineMs: 300_000, deleteJobNamespace: '',
};
const images = Array.from({ length: imagesWanted }, (_, i) => `registry.example/app-${i}:v${i}`);
const spec = [{ images }];

function node(name: string): V1Node {
  return { metadata: { name, labels: { 'kubernetes.io/hostname': name } }, status: { nodeInfo: { containerRuntimeVersion: 'containerd://1.7' } as never, images: [] } };
}

function podOf(job: V1Job, done: boolean): V1Pod {
  const containers = job.spec!.template.spec!.containers.map((c) => c.name);
  return {
    metadata: { name: `${job.metadata!.name}-p`, creationTimestamp: new Date(T0), ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata!.name!, uid: job.metadata!.uid! }] },
    status: {
      phase: done ? 'Succeeded' : 'Running',
      containerStatuses: containers.map((name) => ({ name, image: '', imageID: '', ready: true, restartCount: 0, state: done ? { terminated: { exitCode: 0 } } : { running: {} } })),
    },
  };
}

function world() {
  const nodes = Array.from({ length: nodesWanted }, (_, i) => node(`node-${i}`));
  const first = operationProgress(input(nodes, [], [], T0));
  const jobs = first.create.map((req) => {
    const job = buildPullJob({ cache, operationId: 'op1', node: req.node, images: req.images }, settings);
    job.metadata!.creationTimestamp = new Date(T0);
    job.metadata!.uid = `uid-${job.metadata!.name}`;
    return job;
  });
  // half the pods done, half running (pulls started, deadlines far)
  const pods = jobs.map((j, i) => podOf(j, i % 2 === 0));
  return { nodes, jobs, pods };
}

function input(nodes: V1Node[], jobs: V1Job[], pods: V1Pod[], now: number): ProgressInput {
  return {
    plan: planOperation({ type: 'create', cacheSpec: spec, nodes, pullPolicy: 'IfNotPresent' }),
    jobs, pods, now, pullDeadlineMs: 300_000, startDeadlineMs: 120_000, maxImagesPerJob: 50,
    createBudget: Infinity, createFailures: new Map(), buildable: () => undefined,
  };
}

/** CPU per pass of run(pass), after prepare(pass) (not counted). */
function timed<T>(label: string, prepare: (pass: number) => T, run: (state: T, pass: number) => void): void {
  run(prepare(-1), -1); // warm
  let used = 0;
  for (let p = 0; p < passes; p++) {
    const state = prepare(p);
    const start = process.cpuUsage();
    run(state, p);
    const d = process.cpuUsage(start);
    used += d.user + d.system;
  }
  console.log(`${label.padEnd(12)} ${(used / 1000 / passes).toFixed(1).padStart(8)} ms CPU per pass`);
}

const w = world();
console.log(`planning pass: ${nodesWanted} nodes x ${imagesWanted} images (${w.jobs.length} Jobs, ${w.pods.length} pods), ${passes} passes each`);
timed('unchanged', () => w, (s, p) => { operationProgress(input(s.nodes, s.jobs, s.pods, T0 + 1000 + p)); });
timed('1% changed', (p) => {
  const step = Math.max(1, Math.floor(w.pods.length / 100));
  for (let i = (p + 2) % step; i < w.pods.length; i += step) w.pods[i] = podOf(w.jobs[i]!, true);
  return w;
}, (s, p) => { operationProgress(input(s.nodes, s.jobs, s.pods, T0 + 1000 + p)); });
timed('all new', () => world(), (s, p) => { operationProgress(input(s.nodes, s.jobs, s.pods, T0 + 1000 + p)); });
