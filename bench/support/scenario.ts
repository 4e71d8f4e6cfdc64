// One scenario of the cluster-scale bench (N nodes, M images a cache, C caches at once) for each of the
// three contestants: this project's controller, the floor, and the original's strategy. Every figure
// comes from the cluster: times from the API (polled), Jobs and pods from watches, requests from the
// audit log (per ServiceAccount) and kube-apiserver's /metrics (all clients), RSS and CPU from /proc.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { Annotation, Reason } from '../../src/api/constants.js';
import { GROUP, PLURAL, VERSION, type ImageCache, type ImageCacheSpec } from '../../src/api/imagecache.js';
import { createNamespace, deleteNamespace, eventually } from '../../test/support/cluster.js';
import { ImageCaches } from '../../test/support/imagecaches.js';
import { countRequests, WRITE_VERBS, type AuditLog, type AuditRequest } from './audit-log.js';
import { controlPlaneCpu, cpuDelta, waitForQuietControlPlane, type CpuByComponent } from './control-plane-cpu.js';
import { deltaCounts, scrapeRequestTotals, total } from './apiserver-metrics.js';
import { BenchController, chartIdentity, type ControllerSource } from './bench-controller.js';
import { GROUP_LABEL, NODE_LABEL, groupOf, type BenchNodes } from './bench-nodes.js';
import { NamespaceObserver, timeline, type PodTimeline, type Timeline } from './namespace-observer.js';
import { sleep } from './pool.js';
import { ApiserverLog, formatWatchCloses } from './watch-closes.js';
import { formatHeap, summariseHeap } from './heap-summary.js';
import { recreatableJob, runFloor } from '../strategies/floor.js';
import { OriginalStrategy } from '../strategies/original.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Scenario { nodes: number; images: number; caches: number }
export const scenarioKey = (s: Scenario): string => `${s.nodes}x${s.images}x${s.caches}`;

export interface Requests {
  total: number;
  /** "verb resource" -> count */
  byVerb: [string, number][];
  /** requests answered 404 / 409 */
  notFound: number;
  conflict: number;
  writes: number;
}

export interface OursResult {
  createSeconds: number;
  /** create phase: seconds to the last Job seen created and to the last pod with its images */
  createTimeline: Timeline;
  refreshSeconds: number;
  newNodeSeconds: number;
  /** Seconds after the new node was Ready at which the bench saw its first pull pod's steps. */
  newNodeSteps?: PodTimeline;
  newNodeError?: string;
  /** Seconds from every status final (create) to the new node's create: the floor's node joins as late. */
  joinAfterSeconds?: number;
  jobs: number;
  pods: number;
  /** pods seen with their images pulled by the time every cache of the create phase was final */
  podsSucceeded: number;
  refreshJobs: number;
  newNodeJobs: number;
  create: Requests;
  /** the controller's requests while the bench reported the pulled images in every node's status */
  nodeReport: Requests;
  refresh: Requests;
  newNode: Requests;
  idleSeconds: number;
  idle?: Requests;
  refreshPeriodSeconds: number;
  refreshOn?: Requests;
  refreshOnJobs?: number;
  /** every client of the API server during the create phase (kube-apiserver /metrics) */
  apiserverCreate: [string, number][];
  apiserverCreateTotal: number;
  peakRssBytes: number;
  /** RSS when the controller was ready, before any cache */
  readyRssBytes: number;
  /** summary of the heap snapshot taken at the end of the create phase (--heap-snapshot) */
  heap?: string;
  cpuCreateSeconds: number;
  /** CPU seconds of the control plane's processes during the create (when the cluster directory is known) */
  controlPlaneCpuCreate?: CpuByComponent;
  cpuSeconds: number;
  statusBytes: number;
  finalStatus: string[];
}

export interface FloorFigures {
  seconds: number; jobs: number; failed: number; timeline: Timeline; requests: Requests; apiserverTotal: number; controlPlaneCpu?: CpuByComponent;
  /**
   * A node joining as long after the floor's create as ours' did after its create (the same node status
   * reports in between), its Job created at Ready: Ready -> its images pulled. What the control plane
   * itself allows a new node while it is still catching up with the create (the Job controller's queue).
   */
  newNodeSeconds?: number;
  newNodeSteps?: PodTimeline;
  newNodeError?: string;
}
export interface OriginalFigures {
  seconds: number; jobs: number; pods: number; requests: Requests; apiserverTotal: number; status: string;
  /** set when the figures come from an earlier run (--original-from): its date and commit */
  from?: string;
}

export interface BenchEnv {
  kc: k8s.KubeConfig;
  audit: AuditLog;
  nodes: BenchNodes;
  log: (msg: string) => void;
  controllerFrom: ControllerSource;
  /** extra node/V8 flags of the controller (NODE_OPTIONS), e.g. --max-semi-space-size=4 */
  controllerNodeOptions?: string[];
  /** a directory for heap snapshots taken at the end of each create phase */
  heapDir?: string;
  /** the local cluster's directory (its pid files): the control plane's CPU per phase */
  clusterDir?: string;
  /** kube-apiserver started again before each contestant's run (the default; --no-fresh-apiserver: not; needs clusterDir) */
  freshApiserver?: boolean;
}

export interface Windows { idleSeconds: number; refreshPeriodSeconds: number }

/**
 * kube-apiserver started again before a contestant's run (bench/cluster.sh restart-apiserver), so that
 * every contestant starts with the same watch caches and watchers. The API server sizes a new watch's
 * buffer from its watch cache's capacity when the watch starts (the events of the last 75 s: 10 events
 * on a cluster just started, up to 1,000), and a watcher whose buffer is full is closed. Run after ours
 * on the same API server, the floor met kwok's and kube-controller-manager's watches made again during
 * ours' run, with buffers of 22-43 events where ours had met 10.
 */
async function restartApiserver(env: BenchEnv, who: string): Promise<void> {
  if (!env.clusterDir || !env.freshApiserver) return;
  const t = Date.now();
  execFileSync(path.join(ROOT, 'bench', 'cluster.sh'), ['restart-apiserver'], { env: { ...process.env, CLUSTER_DIR: env.clusterDir }, stdio: ['ignore', 'inherit', 'inherit'] });
  const ready = (Date.now() - t) / 1000;
  await clientsBack(env);
  env.log(`${who}: kube-apiserver started again (ready in ${ready.toFixed(1)} s, its clients watching again ${((Date.now() - t) / 1000).toFixed(1)} s after the restart)`);
}

/**
 * Resolves once the API server's clients watch again, not only the API server: the contestant's run
 * must not wait for them. After several restarts in a few minutes, kube-controller-manager's watches
 * came back more than 60 s after the API server (client-go backs off a failing watch up to 30 s each
 * time), and a namespace had no default ServiceAccount for that long. Probe: a namespace's default
 * ServiceAccount (kube-controller-manager), then a pod on a bench node Running (kube-scheduler, kwok).
 */
async function clientsBack(env: BenchEnv): Promise<void> {
  const core = env.kc.makeApiClient(k8s.CoreV1Api);
  // its default ServiceAccount: kube-controller-manager watching again
  const ns = await createNamespace(core, 'kfb-probe', {}, CLIENTS_BACK_MS);
  try {
    await core.createNamespacedPod({ namespace: ns, body: {
      metadata: { name: 'probe' },
      spec: { nodeSelector: { [NODE_LABEL]: 'node' }, automountServiceAccountToken: false, containers: [{ name: 'probe', image: 'registry.example/kfb-probe:1' }] },
    } });
    await eventually(`the probe pod in ${ns} Running (kube-scheduler and kwok watching again)`, async () =>
      (await core.readNamespacedPod({ name: 'probe', namespace: ns })).status?.phase === 'Running', CLIENTS_BACK_MS, 500);
  } finally {
    await deleteNamespace(core, ns).catch(() => undefined);
  }
}

const CLIENTS_BACK_MS = 180_000;

/** The audit log is written in batches (at most 1 s late, bench/cluster.sh): wait before reading. */
const AUDIT_FLUSH_MS = 2500;

export function summarise(reqs: readonly AuditRequest[]): Requests {
  return {
    total: reqs.length,
    byVerb: countRequests(reqs),
    notFound: reqs.filter((r) => r.code === 404).length,
    conflict: reqs.filter((r) => r.code === 409).length,
    writes: reqs.filter((r) => WRITE_VERBS.has(r.verb)).length,
  };
}

async function requestsBetween(env: BenchEnv, mark: number, user: string, since: number, until: number): Promise<Requests> {
  await sleep(Math.max(0, until + AUDIT_FLUSH_MS - Date.now()));
  return summarise(env.audit.read(mark, user, since, until));
}

/** One cache over every bench node, or C caches each over one node group (so the Jobs stay one per node). */
function cacheSpecs(s: Scenario, tag: string): { name: string; spec: ImageCacheSpec }[] {
  return Array.from({ length: s.caches }, (_, c) => {
    const nodeSelector: Record<string, string> = s.caches > 1 ? { [NODE_LABEL]: 'node', [GROUP_LABEL]: String(c) } : { [NODE_LABEL]: 'node' };
    const images = Array.from({ length: s.images }, (_, i) => `registry.example/${tag}-c${c}-i${i}:1.0`);
    return { name: `cache-${c}`, spec: { cacheSpec: [{ images, nodeSelector }] } };
  });
}

/**
 * Watches the namespace's caches until each has had a final status of `reason` started at or after
 * `notBefore`. A watch sees every status write, so a final status the controller replaces at once (a
 * node that joined starts a refresh right after the create) still counts, at the time it was seen.
 */
async function watchFinal(kc: k8s.KubeConfig, ns: string, names: string[], reason: string, notBefore: number): Promise<{ done: (timeoutMs: number) => Promise<{ at: number; caches: ImageCache[] }> }> {
  const done = new Map<string, ImageCache>();
  let last = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const seen = new Map<string, string>();
  const abort = await new k8s.Watch(kc).watch(`/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}`, {}, (_phase, c: ImageCache) => {
    const name = c.metadata!.name!;
    seen.set(name, `${c.status?.status ?? '-'}/${c.status?.reason ?? '-'}`);
    if (!names.includes(name) || done.has(name)) return;
    const st = c.status;
    if (!st || st.status === 'Processing' || st.reason !== reason || new Date(st.startTime).getTime() < notBefore - 1000) return;
    done.set(name, c);
    last = Date.now();
    if (done.size === names.length) resolveAll();
  }, () => undefined);
  return {
    done: async (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([all, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(
          `${names.length - done.size} of ${names.length} caches did not finish ${reason} within ${timeoutMs} ms (${[...seen].map(([n, v]) => `${n}: ${v}`).join(', ')})`)), timeoutMs)))]);
        return { at: last, caches: [...done.values()] };
      } finally {
        clearTimeout(timer);
        abort.abort();
      }
    },
  };
}

/** Deletes the namespace and waits until it is gone (its Jobs and pods with it), so that their deletion does not load the next measurement. */
async function cleanupNamespace(env: BenchEnv, ns: string): Promise<void> {
  const core = env.kc.makeApiClient(k8s.CoreV1Api);
  await deleteNamespace(core, ns, false);
  const deadline = Date.now() + 300_000;
  while (await core.readNamespace({ name: ns }).then(() => true, () => false)) {
    if (Date.now() > deadline) {
      env.log(`namespace ${ns} still terminating after 300 s; going on`);
      return;
    }
    await sleep(1000);
  }
}

let joiners = 0;

/** Each contestant's create starts on a quiet control plane (control-plane-cpu.ts). */
async function quiet(env: BenchEnv, who: string): Promise<void> {
  if (!env.clusterDir) return;
  const waited = await waitForQuietControlPlane(env.clusterDir);
  if (waited > 4) env.log(`${who}: waited ${waited.toFixed(0)} s for a quiet control plane`);
}

/** This project's controller: create, image report, refresh, new node, idle, idle with refresh on. */
/**
 * The controller's flags in every bench run (before --controller-arg, which may override them). kwok plays
 * the kubelets of all the nodes in one process on the machine's 2 cores: at 1,000 nodes x 50 images it was
 * still starting the create's pods a minute after the status was final, so pods of hundreds of nodes went
 * past the default 60 s --pod-start-deadline-duration and their caches ended Failed, while the floor, which
 * has no deadline, waited for them. A real kubelet takes its pod within seconds; the bench gives kwok 5
 * minutes, as it gives kwok's node leases 5 minutes (bench/cluster.sh).
 */
export const BENCH_CONTROLLER_ARGS = ['--pod-start-deadline-duration=5m'];

export async function runOurs(env: BenchEnv, s: Scenario, w: Windows, extraArgs: string[]): Promise<{ result: OursResult; jobs: k8s.V1Job[] }> {
  await restartApiserver(env, `ours ${scenarioKey(s)}`);
  const core = env.kc.makeApiClient(k8s.CoreV1Api);
  const ics = new ImageCaches(env.kc);
  const ns = await createNamespace(core, 'kfb');
  const id = await chartIdentity(env.kc, ns);
  const observer = await new NamespaceObserver(env.kc, ns).start();
  const specs = cacheSpecs(s, `s${scenarioKey(s)}-${ns.slice(-4)}`);
  const names = specs.map((c) => c.name);
  const joiner = `kfb-join-${joiners++}-${ns.slice(-4)}`;
  const nodeOptions = [...(env.controllerNodeOptions ?? []), ...(env.heapDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${env.heapDir}`] : [])].join(' ');
  let ctrl = new BenchController(id, ns, ['--image-cache-refresh-frequency=0s', ...BENCH_CONTROLLER_ARGS, ...extraArgs], env.controllerFrom, nodeOptions);
  try {
    await ctrl.start();
    await sleep(2000); // the first relist's echoes settle; start-up is not part of the figures
    await quiet(env, `ours ${scenarioKey(s)}`);
    // --- create -> Succeeded
    env.log(`ours ${scenarioKey(s)}: create`);
    let mark = env.audit.mark();
    const before = await scrapeRequestTotals(env.kc);
    const cpu0 = ctrl.cpuNow();
    const cp0 = env.clusterDir ? controlPlaneCpu(env.clusterDir) : undefined;
    const apiLog = env.clusterDir ? new ApiserverLog(env.clusterDir) : undefined;
    const apiLogMark = apiLog?.mark() ?? 0;
    const createWatch = await watchFinal(env.kc, ns, names, Reason.ImageCacheCreate, Date.now());
    const t0 = Date.now();
    await Promise.all(specs.map((c) => ics.create(ns, c.name, c.spec)));
    const created = await createWatch.done(900_000);
    const cpuCreate = ctrl.cpuNow() - cpu0;
    const controlPlaneCpuCreate = cp0 && env.clusterDir ? cpuDelta(cp0, controlPlaneCpu(env.clusterDir)) : undefined;
    if (apiLog) env.log(`ours ${scenarioKey(s)}: during the create ${formatWatchCloses(apiLog.closesSince(apiLogMark))}`);
    const after = await scrapeRequestTotals(env.kc);
    const createSeconds = (created.at - t0) / 1000;
    const jobs = observer.jobUids.size;
    const pods = observer.podUids.size;
    const podsSucceeded = observer.podsDone.length;
    const createTimeline = timeline(observer.jobSeenAt, observer.podsDone.map((p) => p.at), t0);
    const jobTemplates = [...observer.jobs];
    const statusBytes = Math.max(...created.caches.map((c) => Buffer.byteLength(JSON.stringify(c.status))));
    const finalStatus = [...new Set(created.caches.map((c) => c.status!.status))];
    const create = await requestsBetween(env, mark, id.user, t0, created.at);
    let heap: string | undefined;
    const peakBeforeSnapshot = ctrl.peakRssBytes();
    if (env.heapDir) {
      const file = await ctrl.heapSnapshot(env.heapDir);
      heap = formatHeap(summariseHeap(JSON.parse(fs.readFileSync(file, 'utf8')) as Parameters<typeof summariseHeap>[0], 15));
      // tens of MB; the summary is kept in the results (BENCH_KEEP_HEAP_SNAPSHOTS=DIR moves the file there, for a viewer)
      const keep = process.env.BENCH_KEEP_HEAP_SNAPSHOTS;
      if (keep) {
        const kept = path.join(keep, `${scenarioKey(s)}.${path.basename(file)}`);
        fs.mkdirSync(keep, { recursive: true });
        fs.copyFileSync(file, kept);
        env.log(`ours ${scenarioKey(s)}: heap snapshot kept as ${kept}`);
      }
      fs.rmSync(file);
      env.log(`ours ${scenarioKey(s)}: heap snapshot taken and summarised`);
    }
    const apiserver = deltaCounts(before, after);
    // --- the images reported in every node's status, as kubelet does after a pull
    env.log(`ours ${scenarioKey(s)}: node status reports`);
    mark = env.audit.mark();
    const tr = Date.now();
    const imagesOf = (i: number) => specs[s.caches > 1 ? i % s.caches : 0]!.spec.cacheSpec[0]!.images;
    await env.nodes.reportImages(imagesOf, s.nodes);
    await sleep(3000);
    const nodeReport = await requestsBetween(env, mark, id.user, tr, Date.now());
    // --- refresh of the unchanged cache
    env.log(`ours ${scenarioKey(s)}: refresh`);
    mark = env.audit.mark();
    const jobsBeforeRefresh = observer.jobUids.size;
    const refreshWatch = await watchFinal(env.kc, ns, names, Reason.ImageCacheRefresh, Date.now());
    const t1 = Date.now();
    await Promise.all(names.map((n) => ics.annotate(ns, n, Annotation.Refresh)));
    const refreshed = await refreshWatch.done(900_000);
    const refreshSeconds = (refreshed.at - t1) / 1000;
    const refresh = await requestsBetween(env, mark, id.user, t1, refreshed.at);
    const refreshJobs = observer.jobUids.size - jobsBeforeRefresh;
    // --- a new node: Ready -> its images cached
    env.log(`ours ${scenarioKey(s)}: new node`);
    mark = env.audit.mark();
    const jobsBeforeJoin = observer.jobUids.size;
    const tj = Date.now();
    const joinAfterSeconds = (tj - created.at) / 1000;
    let newNodeSeconds = NaN;
    let newNodeSteps: PodTimeline | undefined;
    let newNodeError: string | undefined;
    try {
      const joined = await env.nodes.join(env.kc, joiner, groupOf(0));
      const images = specs[0]!.spec.cacheSpec[0]!.images;
      const cachedAt = await observer.nodeCached(joiner, images, tj, Number(process.env.BENCH_NODE_TIMEOUT_MS ?? 120_000));
      newNodeSeconds = (cachedAt - joined.ready) / 1000;
      newNodeSteps = observer.podTimeline(joiner, tj, joined.ready);
      if (process.env.BENCH_DEBUG) env.log(`joiner ${joiner}: POST at ${new Date(tj).toISOString()}, created ${new Date(joined.created).toISOString()}, Ready seen ${new Date(joined.ready).toISOString()}, cached ${new Date(cachedAt).toISOString()}`);
      await env.nodes.reportNodeImages(joiner, images);
    } catch (err) {
      newNodeError = err instanceof Error ? err.message : String(err);
      env.log(`ours ${scenarioKey(s)}: ${newNodeError}; the controller's log: ${ctrl.saveLogs(path.join(os.tmpdir(), `kfb-controller-${ns}.log`))}`);
    }
    await sleep(3000); // the status write that follows belongs to this phase
    const newNode = await requestsBetween(env, mark, id.user, tj, Date.now());
    const newNodeJobs = observer.jobUids.size - jobsBeforeJoin;
    // --- idle, refresh off
    let idle: Requests | undefined;
    if (w.idleSeconds > 0) {
      // idle means nothing left to do: the clean-up of the phases before (the finished Jobs' deletes,
      // paced at 20/s and held back while another operation runs) ends first
      const batch = env.kc.makeApiClient(k8s.BatchV1Api);
      const tc = Date.now();
      while ((await batch.listNamespacedJob({ namespace: ns, limit: 1 })).items.length > 0 && Date.now() - tc < 300_000) await sleep(2000);
      env.log(`ours ${scenarioKey(s)}: the earlier phases' Jobs deleted ${((Date.now() - tc) / 1000).toFixed(0)} s after the new node phase; idle ${w.idleSeconds} s`);
      await sleep(5000);
      mark = env.audit.mark();
      const ti = Date.now();
      await sleep(w.idleSeconds * 1000);
      idle = await requestsBetween(env, mark, id.user, ti, Date.now());
    }
    // writing a heap snapshot takes memory of its own: with --heap-snapshot the peak is the one before it
    const peakRssBytes = env.heapDir ? peakBeforeSnapshot : ctrl.peakRssBytes();
    const cpuSeconds = ctrl.cpuSinceReady();
    await ctrl.stop();
    // --- idle with refresh on: one period, the middle of [ready, ready + 2 periods] (one tick in it)
    let refreshOn: Requests | undefined;
    let refreshOnJobs: number | undefined;
    if (w.refreshPeriodSeconds > 0) {
      env.log(`ours ${scenarioKey(s)}: refresh on, one period of ${w.refreshPeriodSeconds} s`);
      ctrl = new BenchController(id, ns, [`--image-cache-refresh-frequency=${w.refreshPeriodSeconds}s`, ...BENCH_CONTROLLER_ARGS, ...extraArgs], env.controllerFrom, nodeOptions);
      await ctrl.start();
      const p = w.refreshPeriodSeconds * 1000;
      const from = Date.now() + p / 2;
      mark = env.audit.mark();
      const jobsBefore = observer.jobUids.size;
      await sleep(p * 1.5);
      refreshOn = await requestsBetween(env, mark, id.user, from, from + p);
      refreshOnJobs = observer.jobUids.size - jobsBefore;
      await ctrl.stop();
    }
    return {
      jobs: jobTemplates,
      result: {
        createSeconds, createTimeline, refreshSeconds, newNodeSeconds, ...(newNodeSteps ? { newNodeSteps } : {}), newNodeError, joinAfterSeconds, jobs, pods, podsSucceeded, refreshJobs, newNodeJobs, create, nodeReport, refresh, newNode,
        idleSeconds: w.idleSeconds, idle, refreshPeriodSeconds: w.refreshPeriodSeconds, refreshOn, refreshOnJobs,
        apiserverCreate: [...apiserver.entries()].sort((a, b) => b[1] - a[1]), apiserverCreateTotal: total(apiserver),
        peakRssBytes, readyRssBytes: ctrl.readyRssBytes(), heap, cpuCreateSeconds: cpuCreate, controlPlaneCpuCreate, cpuSeconds, statusBytes, finalStatus,
      },
    };
  } catch (err) {
    env.log(`ours ${scenarioKey(s)} failed; the controller's log: ${ctrl.saveLogs(path.join(os.tmpdir(), `kfb-controller-${ns}.log`))}`);
    throw err;
  } finally {
    observer.stop();
    await ctrl.stop();
    await env.nodes.deleteNode(joiner);
    await cleanupNamespace(env, ns);
    await id.cleanup();
  }
}

/** When the floor's new node joins: as long after its create as ours' did, with the same node status reports first. */
export interface FloorJoin { afterSeconds: number }

/** The floor: the controller's own Jobs of the create phase, created directly and waited for; then a new node (`join`). */
export async function runFloorScenario(env: BenchEnv, s: Scenario, templates: k8s.V1Job[], concurrency = 32, join?: FloorJoin): Promise<FloorFigures> {
  await restartApiserver(env, `floor ${scenarioKey(s)}`);
  const core = env.kc.makeApiClient(k8s.CoreV1Api);
  const ns = await createNamespace(core, 'kfb-floor');
  const id = await chartIdentity(env.kc, ns, 'kfb-floor');
  // the same instrument as on ours (a Job and a pod watch of the namespace, in this process): without it
  // the API server encoded and sent every Job event for ours' run only (a 500-node floor took 16.3 s
  // without it, 18.3 s with it)
  const observer = await new NamespaceObserver(env.kc, ns).start();
  const joiner = `kfb-floor-join-${joiners++}-${ns.slice(-4)}`;
  try {
    env.log(`floor ${scenarioKey(s)}: ${templates.length} Jobs, ${concurrency} creates in flight`);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(id.kubeconfig);
    const mark = env.audit.mark();
    // the floor's node status reports below are writes, as ours' were: the nodes start with none
    if (join) await env.nodes.reportImages(() => [], s.nodes);
    const before = await scrapeRequestTotals(env.kc);
    await quiet(env, `floor ${scenarioKey(s)}`);
    const cp0 = env.clusterDir ? controlPlaneCpu(env.clusterDir) : undefined;
    const apiLog = env.clusterDir ? new ApiserverLog(env.clusterDir) : undefined;
    const apiLogMark = apiLog?.mark() ?? 0;
    const t0 = Date.now();
    const r = await runFloor(kc, ns, templates, concurrency);
    const done = Date.now();
    const cp = cp0 && env.clusterDir ? cpuDelta(cp0, controlPlaneCpu(env.clusterDir)) : undefined;
    if (apiLog) env.log(`floor ${scenarioKey(s)}: during the create ${formatWatchCloses(apiLog.closesSince(apiLogMark))}`);
    const after = await scrapeRequestTotals(env.kc);
    const requests = await requestsBetween(env, mark, id.user, t0, done);
    const figures: FloorFigures = { ...r, requests, apiserverTotal: total(deltaCounts(before, after)), ...(cp ? { controlPlaneCpu: cp } : {}) };
    if (join && templates[0]) Object.assign(figures, await floorNewNode(env, s, kc, ns, observer, templates, joiner, done + join.afterSeconds * 1000));
    return figures;
  } finally {
    observer.stop();
    await env.nodes.deleteNode(joiner);
    await cleanupNamespace(env, ns);
    await id.cleanup();
  }
}

/** The floor's new node: the nodes report their images (as in ours' run), the node joins at `joinAt`, its Job is created at Ready. */
async function floorNewNode(env: BenchEnv, s: Scenario, kc: k8s.KubeConfig, ns: string, observer: NamespaceObserver, templates: k8s.V1Job[], joiner: string, joinAt: number): Promise<Pick<FloorFigures, 'newNodeSeconds' | 'newNodeSteps' | 'newNodeError'>> {
  const template = templates[0]!;
  const images = (template.spec?.template.spec?.containers ?? []).map((c) => c.image ?? '');
  await env.nodes.reportImages(() => images, s.nodes);
  await sleep(Math.max(0, joinAt - Date.now()));
  env.log(`floor ${scenarioKey(s)}: new node`);
  const tj = Date.now();
  try {
    const joined = await env.nodes.join(env.kc, joiner, groupOf(0));
    const job = recreatableJob(template, ns, templates.length);
    job.spec!.template.spec!.nodeSelector = { 'kubernetes.io/hostname': joiner };
    await kc.makeApiClient(k8s.BatchV1Api).createNamespacedJob({ namespace: ns, body: job });
    const cachedAt = await observer.nodeCached(joiner, images, tj, Number(process.env.BENCH_NODE_TIMEOUT_MS ?? 120_000));
    const steps = observer.podTimeline(joiner, tj, joined.ready);
    return { newNodeSeconds: (cachedAt - joined.ready) / 1000, ...(steps ? { newNodeSteps: steps } : {}) };
  } catch (err) {
    const newNodeError = err instanceof Error ? err.message : String(err);
    env.log(`floor ${scenarioKey(s)}: ${newNodeError}`);
    return { newNodeError };
  }
}

/** The original's strategy on the same scenario (create only: it has no node watch, refresh is its timer). */
export async function runOriginalScenario(env: BenchEnv, s: Scenario): Promise<OriginalFigures> {
  await restartApiserver(env, `original ${scenarioKey(s)}`);
  const core = env.kc.makeApiClient(k8s.CoreV1Api);
  const ics = new ImageCaches(env.kc);
  const ns = await createNamespace(core, 'kfb-orig');
  const id = await chartIdentity(env.kc, ns);
  const observer = await new NamespaceObserver(env.kc, ns).start();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(id.kubeconfig);
  const original = new OriginalStrategy(kc, ns);
  try {
    env.log(`original ${scenarioKey(s)}: ${s.nodes * s.images * s.caches} Jobs at ${5}/s`);
    await original.start();
    const specs = cacheSpecs(s, `o${scenarioKey(s)}-${ns.slice(-4)}`);
    const mark = env.audit.mark();
    const before = await scrapeRequestTotals(env.kc);
    const t0 = Date.now();
    const results = await Promise.all(specs.map(async (c) => {
      await ics.create(ns, c.name, c.spec);
      return original.create(c.name, t0);
    }));
    const after = await scrapeRequestTotals(env.kc);
    const seconds = Math.max(...results.map((r) => r.seconds));
    const requests = await requestsBetween(env, mark, id.user, t0, t0 + seconds * 1000 + 1000);
    return { seconds, jobs: observer.jobUids.size, pods: observer.podUids.size, requests, apiserverTotal: total(deltaCounts(before, after)),
      status: [...new Set(results.map((r) => r.status))].join(',') };
  } finally {
    original.stop();
    observer.stop();
    await cleanupNamespace(env, ns);
    await id.cleanup();
  }
}
