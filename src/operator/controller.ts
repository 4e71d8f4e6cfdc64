// Wiring of the ImageCache controller (sample-controller's shape):
//   SDK ImageCache events ─┐
//   Node / Job / Pod watches ├─► work queue (per key, deduplicated, backoff) ─► ImageCacheReconciler
//   refresh timer ─────────┘
import type * as k8s from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import type { ControllerConfig } from '../config/controller-config.js';
import { IMAGE_MANAGER_SELECTOR, Status } from '../api/constants.js';
import { WorkQueue, runWorkers } from '../queue/work-queue.js';
import { ImageCacheApi } from '../kube/imagecache-api.js';
import { restartingInformer, type RestartingInformer } from '../kube/informers.js';
import { sharedWatchThread } from '../kube/watch-thread.js';
import { apiErrorLogFields } from '../kube/api-errors.js';
import { StatusWriter } from '../status/status-writer.js';
import { EventRecorder } from '../status/event-recorder.js';
import { COUNTS_WRITE_INTERVAL_MS, OperationRunner } from '../reconcilers/operation-runner.js';
import type { OwnedKind } from '../reconcilers/awaited-jobs.js';
import { ImageCacheReconciler, PendingTriggers } from '../reconcilers/imagecache-reconciler.js';
import { entryMatchesNode, nodeIsReady } from '../planning/node-selection.js';
import { hasWarmingTaint } from '../planning/warming.js';
import { NodeWarmer } from './node-warmer.js';
import { WorkloadWatch } from './workload-watch.js';
import { usesWorkloads } from '../planning/workload-images.js';
import { LABEL_CACHE_UID } from '../jobs/job-labels.js';
import { ImageCacheIndex, ImageCacheOperator } from './imagecache-operator.js';
import type { Logger } from './logger.js';
import type { ControllerMetrics } from './metrics.js';

export class Controller {
  readonly queue: WorkQueue;
  readonly index = new ImageCacheIndex();
  readonly triggers = new PendingTriggers();
  private readonly api: ImageCacheApi;
  private nodes!: RestartingInformer<k8s.V1Node>;
  private jobs!: RestartingInformer<k8s.V1Job>;
  private pods!: RestartingInformer<k8s.V1Pod>;
  private operator?: ImageCacheOperator;
  private runner?: OperationRunner;
  private refreshTimer?: NodeJS.Timeout;
  private workers?: Promise<void>;
  private started = false;
  private stopping = false;
  private workersEnded = false;
  private withdrawCacheSeries?: () => void;

  constructor(
    private readonly config: ControllerConfig,
    private readonly kc: k8s.KubeConfig,
    private readonly log: Logger,
    private readonly metrics?: ControllerMetrics,
  ) {
    this.api = new ImageCacheApi(kc);
    this.queue = new WorkQueue({
      baseDelayMs: 1000,
      maxDelayMs: 300_000,
      onDepthChange: (d) => this.metrics?.workqueueDepth.set(d),
      onRetry: () => this.metrics?.workqueueRetries.inc(),
    });
  }

  /** True once every watch has listed successfully and the workers run. */
  ready(): boolean {
    return this.started && !this.stopping && (this.nodes?.synced() ?? false) && (this.jobs?.synced() ?? false) && (this.pods?.synced() ?? false) && (this.operator?.synced() ?? false) && (this.workloads?.synced() ?? true);
  }

  /**
   * Liveness: false when the work loop is wedged: the workers ended without a shutdown, or a
   * reconcile has been running longer than wedgedAfterMs (a reconcile is one step of an operation).
   */
  healthy(wedgedAfterMs = 10 * 60_000): { ok: boolean; reason?: string } {
    if (this.workersEnded && !this.stopping) return { ok: false, reason: 'the reconcile workers stopped' };
    const oldest = this.queue.oldestInFlight();
    if (oldest && oldest.ms > wedgedAfterMs) {
      return { ok: false, reason: `reconcile of ${oldest.key} has been running for ${Math.round(oldest.ms / 1000)} s` };
    }
    return { ok: true };
  }

  async start(): Promise<void> {
    const { config, log, kc } = this;
    const core = kc.makeApiClient(CoreV1Api);
    const onRestart = (resource: string) => () => this.metrics?.watchRestarts.inc({ resource });
    // this term (the leader's) exports the per-cache series from its index until it stops
    this.withdrawCacheSeries = this.metrics?.exportCaches(() => this.index.all().map(([, cache]) => cache));

    // the caches keep only the fields the controller reads (kube/informer-transforms.ts INFORMER_SHAPES);
    // each lists its path in pages (kube/informers.ts) and watches it, skipping the parts nobody reads
    // unparsed (kube/watch-line.ts). Nodes first, on this thread: their number decides whether the Jobs
    // and pods are read on the watch thread (--watch-thread, kube/watch-thread.ts).
    this.nodes = restartingInformer<k8s.V1Node>({
      kc, path: '/api/v1/nodes', log, resource: 'nodes', onRestart: onRestart('nodes'), shape: 'node', thread: null,
      onChange: (verb, node) => this.onNode(verb, node),
    });
    // ImageCache events through the SDK (its watch replaced by a list + watch, see imagecache-operator.ts):
    // the first list enqueues every existing cache, so a restarted controller resumes each operation.
    this.operator = new ImageCacheOperator({
      index: this.index, enqueue: (key) => this.queue.add(key), log, kc, onRestart: onRestart('imagecaches'),
    });
    // No reconcile before every watch has listed once: a failed list is not a sync (nothing is planned
    // from an empty cache). Waits through 429s, 5xx and outages; a lasting missing permission rejects.
    try {
      const operatorSynced = this.operator.start();
      operatorSynced.catch(() => undefined); // awaited below; a rejection while the nodes list is not unhandled
      await this.nodes.start();
      if (this.stopping) {
        await this.stopWatches();
        return;
      }
      const nodeCount = this.nodes.list().length;
      const thread = watchThreadFor(config.watchThread, nodeCount) ? sharedWatchThread() : null;
      log.info(thread ? 'the Jobs and pods are read on a thread of their own' : 'the Jobs and pods are read on the main thread', {
        watchThread: config.watchThread, nodes: nodeCount,
      });
      this.jobs = restartingInformer<k8s.V1Job>({
        kc, path: '/apis/batch/v1/jobs',
        labelSelector: IMAGE_MANAGER_SELECTOR, log, resource: 'jobs', onRestart: onRestart('jobs'), shape: 'job', thread,
        onChange: (verb, job) => {
          if (verb === 'delete') this.runner?.tracker.gone(job);
          this.enqueueOwner(verb, 'job', job);
        },
      });
      this.pods = restartingInformer<k8s.V1Pod>({
        kc, path: '/api/v1/pods',
        labelSelector: IMAGE_MANAGER_SELECTOR, log, resource: 'pods', onRestart: onRestart('pods'), shape: 'pod', thread,
        onChange: (verb, pod) => this.enqueueOwner(verb, 'pod', pod),
      });
      await Promise.all([this.jobs.start(), this.pods.start(), operatorSynced]);
    } catch (err) {
      await this.stopWatches();
      throw err;
    }
    if (this.stopping) return;
    log.info('watches synced', {
      nodes: this.nodes.list().length, jobs: this.jobs.list().length, pods: this.pods.list().length, imagecaches: this.index.all().length,
    });

    const runner = this.runner = new OperationRunner({
      api: this.api,
      status: new StatusWriter(this.api),
      events: new EventRecorder(this.api, log),
      log,
      settings: {
        pullPolicy: config.imagePullPolicy,
        serviceAccountName: config.serviceAccountName,
        jobPriorityClassName: config.jobPriorityClassName,
        imageDeleteJobHostNetwork: config.imageDeleteJobHostNetwork,
        criSocketPath: config.criSocketPath,
        criClientImage: config.criClientImage,
        busyboxImage: config.busyboxImage,
        imagePullDeadlineMs: config.imagePullDeadlineMs,
        maxImagesPerJob: config.maxImagesPerJob,
        jobRetentionPolicy: config.jobRetentionPolicy,
        jobsMaxSurge: config.jobsMaxSurge,
        podStartDeadlineMs: config.podStartDeadlineMs,
        deleteJobNamespace: config.namespace,
        failureLimits: { maxNodesPerImage: config.statusMaxFailedNodesPerImage, maxMessageLength: 256 },
        maxPullPodsPerNode: config.maxPullPodsPerNode,
        maxPullsPerRegistry: config.maxPullsPerRegistry,
        targeting: {
          skipCordoned: config.skipCordonedNodes,
          skipNotReady: config.skipNotReadyNodes,
          operatingSystems: config.targetNodeOs,
          architectures: config.targetNodeArchitectures,
        },
      },
      remember: (cache) => this.index.setIfNewer(cache),
      requeue: (key, afterMs) => this.queue.addAfter(key, afterMs),
      listNodes: () => this.nodes.list(),
      listJobs: () => this.jobs.list(),
      listPods: () => this.pods.list(),
      now: () => new Date(),
      hooks: {
        onJobCreated: (kind) => this.metrics?.jobsCreated.inc({ kind }),
        onOperationFinished: (op, status, results) => {
          for (const r of results) {
            if (r.state !== 'pending') this.metrics?.imageResults.inc({ action: r.action, result: r.state });
          }
          this.metrics?.reconcileTotal.inc({ operation: op.type, result: status.status });
        },
      },
    });
    if (config.warmNodes) {
      this.warmer = new NodeWarmer({
        core, log, deadlineMs: config.warmingDeadlineMs,
        listNodes: () => this.nodes.list(),
        selecting: (node) => this.cachesSelecting(node),
        onLifted: (why) => log.debug('warming taint lifted', { why }),
      });
    }
    if (config.workloadImages) {
      // caches that follow workloads: a workload change in a namespace re-plans its caches
      this.workloads = new WorkloadWatch(kc, log, (namespace) => {
        for (const [key, cache] of this.index.all()) if (cache.metadata.namespace === namespace && usesWorkloads(cache)) this.queue.add(key);
      });
      await this.workloads.start();
    }
    const workloads = this.workloads;
    const reconciler = new ImageCacheReconciler(this.api, runner, this.triggers, log, config.jobRetentionPolicy === 'retain', {
      read: (key) => this.index.get(key),
      remember: (cache) => this.index.setIfNewer(cache),
    }, (key, nodes) => this.warmer?.markWarm(key, nodes),
    workloads ? { list: () => workloads.list(), graceMs: config.workloadImageGraceMs } : undefined);

    this.workers = runWorkers(this.queue, config.workers, async (key) => {
      const started = process.hrtime.bigint();
      let operation = 'none';
      try {
        const res = await reconciler.reconcile(key);
        operation = res.operation ?? 'none';
        return res;
      } finally {
        this.metrics?.reconcileDuration.observe({ operation }, Number(process.hrtime.bigint() - started) / 1e9);
        this.metrics?.operationsInProgress.set(this.index.all().filter(([, c]) => c.status?.status === 'Processing').length);
      }
    }, log, apiErrorLogFields).finally(() => {
      this.workersEnded = true;
    });

    if (config.imageCacheRefreshFrequencyMs > 0) {
      this.refreshTimer = setInterval(() => void this.refreshAll(), config.imageCacheRefreshFrequencyMs);
    }
    this.started = true;
    if (this.warmer) {
      // a node still tainted (it joined while no controller ran, or before a restart) is cached onto now
      for (const node of this.nodes.list()) if (hasWarmingTaint(node) && nodeIsReady(node)) this.cacheOntoNode(node, false);
      this.warmer.start();
    }
    log.info('controller started', { workers: config.workers, refreshFrequencyMs: config.imageCacheRefreshFrequencyMs });
  }

  /** The periodic refresh: every cache is due; the reconciler skips Processing and purged ones. */
  private async refreshAll(): Promise<void> {
    try {
      for (const cache of await this.api.listAll()) {
        const key = this.index.setIfNewer(cache);
        this.triggers.markRefreshDue(key);
        this.queue.add(key);
      }
    } catch (err) {
      this.log.warn('periodic refresh: could not list image caches; next tick retries', apiErrorLogFields(err));
    }
  }

  private warmer?: NodeWarmer;
  private workloads?: WorkloadWatch;

  /** Keys of the caches whose spec selects the node. */
  private cachesSelecting(node: k8s.V1Node): string[] {
    return this.index.all().filter(([, c]) => (c.spec?.cacheSpec ?? []).some((e) => entryMatchesNode(node, e))).map(([k]) => k);
  }

  /** Every cache that selects the node gets a refresh of it (all images, or only what is missing). */
  private cacheOntoNode(node: k8s.V1Node, onlyMissing: boolean): number {
    const name = node.metadata?.name ?? '';
    const keys = this.cachesSelecting(node);
    for (const key of keys) {
      this.triggers.addJoinedNode(key, name, { onlyMissing });
      this.queue.add(key);
    }
    return keys.length;
  }

  /** Nodes by name: when each last became NotReady (to tell a flap from a join), and the labels last seen. */
  private readonly nodeState = new Map<string, { ready: boolean; everReady: boolean; cordoned: boolean; notReadySince?: number; labels: Record<string, string> }>();

  /**
   * The node watch: a node that joins (or becomes Ready for the first time, or is labelled into a cache's
   * selector) gets every image of every cache that selects it; a node back from a short NotReady
   * (--node-flap-window) gets only what its status says is missing. Node-triggered work is batched and
   * rate-limited per cache (PendingTriggers), so a flapping pool cannot start a storm of Jobs.
   */
  private onNode(verb: 'add' | 'update' | 'delete', node: k8s.V1Node): void {
    const name = node.metadata?.name ?? '';
    if (verb === 'delete') {
      this.nodeState.delete(name);
      this.triggers.removeNode(name);
      return;
    }
    const now = Date.now();
    const ready = nodeIsReady(node);
    const labels = node.metadata?.labels ?? {};
    const before = this.nodeState.get(name);
    this.nodeState.set(name, {
      ready,
      everReady: ready || (before?.everReady ?? false),
      cordoned: node.spec?.unschedulable === true,
      labels,
      ...(ready ? {} : { notReadySince: before && !before.ready ? before.notReadySince : now }),
    });
    if (!this.config.nodeWatch || !this.started || !ready) return;

    const flapWindow = this.config.nodeFlapWindowMs;
    const returned = before !== undefined && !before.ready; // Ready again, or Ready for the first time
    const flapped = returned && before.everReady;
    const uncordoned = before !== undefined && before.cordoned && node.spec?.unschedulable !== true;
    const shortAbsence = flapped && before.notReadySince !== undefined && now - before.notReadySince <= flapWindow;
    let count = 0;
    for (const [key, cache] of this.index.all()) {
      for (const e of cache.spec?.cacheSpec ?? []) {
        if (!entryMatchesNode(node, e)) continue;
        const matchedBefore = before !== undefined && entryMatchesNode({ metadata: { labels: before.labels } }, e);
        if (before === undefined || returned || uncordoned || !matchedBefore) {
          this.triggers.addJoinedNode(key, name, { onlyMissing: shortAbsence && matchedBefore });
          this.queue.addAfter(key, nodeChangeDelayMs(cache.status?.status === Status.Processing, this.runner?.lastPassMs ?? 0));
          count += 1;
        }
        break;
      }
    }
    if (count === 0) return;
    if (shortAbsence) this.log.info(`node ${name} is ready again: caching only what it is missing`, { node: name, caches: count });
    else this.log.info(`node ${name} is ready: caching images onto it`, { node: name, caches: count });
  }

  /**
   * A change of one of a cache's Jobs or pods: its cache is looked at again, not at once. An operation
   * sees about seven such changes per node (pod created, scheduled, started, ended; Job status); a pass
   * over a 1,000-node cache plans 1,000 nodes against 1,000 Jobs and pods, tens of ms, and passes back to
   * back, one per change, kept a core busy on a 2-core machine while the control plane was running the
   * very pods the operation waits for.
   * - A change that ends the last Job the last pass saw running (reconcilers/awaited-jobs.ts) brings the
   *   pass forward to OWNER_COALESCE_MIN_MS: the operation may be done.
   * - A change that ends a Job while work waits for a slot, or any deletion, brings it forward to
   *   OWNER_COALESCE_FACTOR times the last pass's planning time (between the bounds below), which folds
   *   the changes meanwhile into one pass (a 100-node pass plans in about 3 ms: 30 ms; a 1,000-node one
   *   in about 60 ms: 0.6 s).
   * - Any other change only moves a pod along: its pass comes OWNER_WAIT_MS later, when the progress
   *   counts may be written again. A 200-node create made 77 passes with every change counted, about a
   *   third of the controller's CPU in it.
   */
  private enqueueOwner(verb: 'add' | 'update' | 'delete', kind: OwnedKind, obj: k8s.V1Job | k8s.V1Pod): void {
    const key = this.index.keyOfUid(obj.metadata?.labels?.[LABEL_CACHE_UID]);
    if (!key) return;
    const urgency = this.runner?.awaited.urgency(key, verb, kind, obj) ?? 'soon';
    this.queue.addAfter(key, urgency === 'now' ? OWNER_COALESCE_MIN_MS : urgency === 'soon' ? ownerCoalesceMs(this.runner?.lastPassMs ?? 0) : OWNER_WAIT_MS);
  }

  /**
   * Graceful stop: no new work (the queue and the refresh timer stop at once), the reconciles in
   * flight get drainTimeoutMs to finish their step (state is in the API: whatever is left, the next
   * leader adopts), then the watches stop. Resolves true when the drain finished in time.
   */
  async stop(drainTimeoutMs = 20_000): Promise<boolean> {
    this.stopping = true;
    this.withdrawCacheSeries?.();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    this.warmer?.stop();
    let timer: NodeJS.Timeout | undefined;
    const inFlight = this.queue.inFlight();
    const drained = await Promise.race([
      this.queue.shutDownWithDrain().then(() => this.workers).then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), drainTimeoutMs); }),
    ]);
    if (timer) clearTimeout(timer);
    if (!drained) {
      this.log.warn(`shutdown: ${this.queue.inFlight()} reconcile(s) still running after ${drainTimeoutMs} ms; leaving them to the next leader`, { inFlight: this.queue.inFlight() });
    } else if (inFlight > 0) {
      this.log.info('shutdown: reconciles in flight finished', { inFlight });
    }
    await this.stopWatches();
    return drained;
  }

  private async stopWatches(): Promise<void> {
    await Promise.all([this.nodes?.stop(), this.jobs?.stop(), this.pods?.stop(), this.operator?.stopWatches(), this.workloads?.stop()]);
  }
}

/** --watch-thread=auto turns the watch thread on from this many nodes (listed at start-up). */
export const WATCH_THREAD_AUTO_NODES = 500;

/**
 * Whether the Jobs and pods are read on the watch thread (--watch-thread; never by default). What it
 * prevents: a busy main thread (a long planning pass, a large list page) leaving a watch's buffers full
 * until kube-apiserver closes it. What it costs: a worker thread's isolate and its messages, 11 MiB at
 * start-up and 20 MiB at the peak of a 1,000 x 50 x 10 create. At 1,000 nodes the bench showed the
 * cost and never the gain: kube-apiserver closed the thread's watches with everyone else's when its own
 * dispatch fell behind, and the runs with and without it spread alike (docs/benchmark.md "The watch
 * thread off by default").
 */
export function watchThreadFor(mode: 'auto' | 'always' | 'never', nodes: number): boolean {
  return mode === 'always' || (mode === 'auto' && nodes >= WATCH_THREAD_AUTO_NODES);
}

const OWNER_COALESCE_FACTOR = 10;
const OWNER_COALESCE_MIN_MS = 20;
const OWNER_COALESCE_MAX_MS = 1_000;

/**
 * When a node's join (or return, or label change) reaches its cache: at once when the cache is idle (a
 * new node gets its images within a second); while an operation of the cache runs, after
 * OWNER_COALESCE_FACTOR times the last pass's planning time, so that a pool of nodes coming back together
 * makes one pass, not one per node (the operation's passes plan the nodes as they are; the next
 * operation takes the joined nodes up). 459 nodes back from NotReady during a 500-node create made as
 * many passes, a third of the controller's CPU in it.
 */
export function nodeChangeDelayMs(cacheProcessing: boolean, lastPassMs: number): number {
  return cacheProcessing ? ownerCoalesceMs(lastPassMs) : 0;
}

/** A Job's or pod's change that does not move its operation on: its pass comes with the next progress write (see enqueueOwner). */
export const OWNER_WAIT_MS = COUNTS_WRITE_INTERVAL_MS;

/** How long a Job or pod change waits for others before its cache's next pass (see enqueueOwner). */
export function ownerCoalesceMs(lastPassMs: number): number {
  return Math.min(OWNER_COALESCE_MAX_MS, Math.max(OWNER_COALESCE_MIN_MS, Math.round(OWNER_COALESCE_FACTOR * lastPassMs)));
}
