// Prometheus metrics of the controller (prom-client), served on /metrics by the health server.
// One registry per controller instance (no global state), so tests and several instances never clash.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Status } from '../api/constants.js';
import type { ImageCache } from '../api/imagecache.js';
import { operationFromReason } from '../planning/status-computation.js';

export interface ControllerMetrics {
  registry: Registry;
  /** Operations reconciled to an end, by operation (create|update|refresh|purge) and final status. */
  reconcileTotal: Counter<'operation' | 'result'>;
  /** Duration of one reconcile call, by operation. */
  reconcileDuration: Histogram<'operation'>;
  /** Keys waiting in the work queue. */
  workqueueDepth: Gauge;
  /** Keys re-queued with backoff after a failed reconcile. */
  workqueueRetries: Counter;
  /** Watches (re)started after an error or close, by resource. */
  watchRestarts: Counter<'resource'>;
  /** Jobs created, by kind (pull|delete). */
  jobsCreated: Counter<'kind'>;
  /** Per-image, per-node outcomes, by action (pull|delete) and result (succeeded|failed). */
  imageResults: Counter<'action' | 'result'>;
  /** ImageCache operations currently in progress. */
  operationsInProgress: Gauge;
  /** 1 while this replica holds the leader Lease (or runs without leader election), else 0. */
  leader: Gauge;
  /** Event-loop delay since the previous scrape (p99 and max), in seconds: a busy loop delays Lease renewals. */
  eventLoopDelay: Gauge<'quantile'>;
  /** API requests retried by the request layer (429, 5xx, refused/reset connections, timeouts). */
  apiRetries: Counter;
  /** Per cache: 1 for its current status.status, 0 for the other statuses (computed at each scrape). */
  imageCacheStatus: Gauge<'imagecache_namespace' | 'imagecache' | 'status'>;
  /** Per cache while it is Processing: status.startTime in Unix seconds, by operation. */
  operationStartTime: Gauge<'imagecache_namespace' | 'imagecache' | 'operation'>;
  /** --image-pull-deadline-duration in seconds (the KubeFledgedOperationProcessingTooLong alert compares with it). */
  imagePullDeadline: Gauge;
  /**
   * Makes the caches a source of the per-cache series (the leader's term passes its index). Returns the
   * function that withdraws it again (the term ends): from then on no per-cache series until another
   * term exports, so a standby replica never doubles the leader's series.
   */
  exportCaches(source: CacheSource): () => void;
}

/** The ImageCaches the controller knows now (the leader's index). */
export type CacheSource = () => readonly ImageCache[];

/** The statuses every cache has a kubefledged_imagecache_status series for (the strings the controller writes). */
export const CACHE_STATUSES: readonly string[] = [Status.Processing, Status.Succeeded, Status.Failed, Status.Aborted, Status.NoImagesPulledOrDeleted];

export interface CacheStatusSeries {
  labels: { imagecache_namespace: string; imagecache: string; status: string };
  value: 0 | 1;
}

export interface OperationStartSeries {
  labels: { imagecache_namespace: string; imagecache: string; operation: string };
  /** Unix seconds. */
  value: number;
}

/**
 * The per-cache series of a set of caches (pure). Every cache has one status series per CACHE_STATUSES
 * entry (1 for its current status, 0 for the others; all 0 before its first status), plus one for a
 * status outside that list (e.g. Unknown) when it has one. A Processing cache with a readable startTime
 * also has a start-time series labelled with its operation (status.operation, else its reason).
 */
export function imageCacheSeries(caches: readonly ImageCache[]): { status: CacheStatusSeries[]; started: OperationStartSeries[] } {
  const status: CacheStatusSeries[] = [];
  const started: OperationStartSeries[] = [];
  for (const cache of caches) {
    const id = { imagecache_namespace: cache.metadata.namespace ?? '', imagecache: cache.metadata.name ?? '' };
    const current = cache.status?.status;
    for (const s of CACHE_STATUSES) status.push({ labels: { ...id, status: s }, value: s === current ? 1 : 0 });
    if (current && !CACHE_STATUSES.includes(current)) status.push({ labels: { ...id, status: current }, value: 1 });
    if (current !== Status.Processing) continue;
    const startMs = Date.parse(cache.status?.startTime ?? '');
    if (Number.isNaN(startMs)) continue;
    const operation = cache.status?.operation?.type ?? operationFromReason(cache.status?.reason) ?? 'unknown';
    started.push({ labels: { ...id, operation }, value: startMs / 1000 });
  }
  return { status, started };
}

export interface MetricsOptions {
  /** Registry to register on; a new one by default. */
  registry?: Registry;
  /** Also collect Node.js process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
}

export function createControllerMetrics(opts: MetricsOptions = {}): ControllerMetrics {
  const registry = opts.registry ?? new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  // the per-cache series are computed from the exporting term's caches at each scrape: a deleted cache,
  // or a term that ended, leaves no series behind
  let source: CacheSource | undefined;
  const series = () => imageCacheSeries(source?.() ?? []);
  return {
    registry,
    reconcileTotal: new Counter({
      name: 'kubefledged_reconcile_total',
      help: 'ImageCache operations reconciled to an end, by operation and result',
      labelNames: ['operation', 'result'] as const,
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'kubefledged_reconcile_duration_seconds',
      help: 'Duration of one reconcile of an ImageCache key, by operation',
      labelNames: ['operation'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    workqueueDepth: new Gauge({
      name: 'kubefledged_workqueue_depth',
      help: 'ImageCache keys waiting in the work queue',
      registers,
    }),
    workqueueRetries: new Counter({
      name: 'kubefledged_workqueue_retries_total',
      help: 'ImageCache keys re-queued with backoff after a failed reconcile',
      registers,
    }),
    watchRestarts: new Counter({
      name: 'kubefledged_watch_restarts_total',
      help: 'Watches restarted after an error or a closed connection, by resource',
      labelNames: ['resource'] as const,
      registers,
    }),
    jobsCreated: new Counter({
      name: 'kubefledged_jobs_created_total',
      help: 'Image pull and delete Jobs created, by kind',
      labelNames: ['kind'] as const,
      registers,
    }),
    imageResults: new Counter({
      name: 'kubefledged_image_results_total',
      help: 'Per-image, per-node results of pull and delete operations',
      labelNames: ['action', 'result'] as const,
      registers,
    }),
    operationsInProgress: new Gauge({
      name: 'kubefledged_imagecache_operations_in_progress',
      help: 'ImageCache operations currently in progress',
      registers,
    }),
    leader: new Gauge({
      name: 'kubefledged_leader',
      help: '1 while this replica is the leader, else 0',
      registers,
    }),
    eventLoopDelay: new Gauge({
      name: 'kubefledged_event_loop_delay_seconds',
      help: 'Delay of the Node.js event loop since the previous scrape, by quantile (0.99, 1 = max); Lease renewals wait this long',
      labelNames: ['quantile'] as const,
      registers,
      collect() {
        this.set({ quantile: '0.99' }, loop.percentile(99) / 1e9);
        this.set({ quantile: '1' }, loop.max / 1e9);
        loop.reset();
      },
    }),
    apiRetries: new Counter({
      name: 'kubefledged_api_request_retries_total',
      help: 'API requests retried after a transient failure (429, 5xx, connection refused or reset, timeout)',
      registers,
    }),
    imageCacheStatus: new Gauge({
      name: 'kubefledged_imagecache_status',
      help: 'Per ImageCache (exported by the leader only): 1 for its current status.status, 0 for the other statuses',
      labelNames: ['imagecache_namespace', 'imagecache', 'status'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of series().status) this.set(s.labels, s.value);
      },
    }),
    operationStartTime: new Gauge({
      name: 'kubefledged_imagecache_operation_start_time_seconds',
      help: 'Per ImageCache while it is Processing (exported by the leader only): status.startTime of the operation, in Unix seconds',
      labelNames: ['imagecache_namespace', 'imagecache', 'operation'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of series().started) this.set(s.labels, s.value);
      },
    }),
    imagePullDeadline: new Gauge({
      name: 'kubefledged_image_pull_deadline_seconds',
      help: 'The controller\'s --image-pull-deadline-duration, in seconds',
      registers,
    }),
    exportCaches(next: CacheSource): () => void {
      source = next;
      return () => {
        if (source === next) source = undefined;
      };
    },
  };
}
