// The steps every operation shares, as small named functions the reconcilers' story is told with:
//   start   write Processing with the operation record (before any Job exists)
//   step    plan, compare the plan with the Jobs (planning/operation-progress.ts), create what is missing,
//           look up why pods could not be created, report progress
//   finish  remove the trigger annotations, write the final status (the whole cache), record the Event,
//           delete the Jobs
// Everything needed to resume lives in the API (status.operation and the labelled Jobs), so a restarted
// controller continues where the last one stopped; what only this process knows (Jobs just created or
// deleted, FailedCreate reasons) is in the JobTracker and only saves requests.
import { randomBytes } from 'node:crypto';
import type { V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import type { ImageCache, ImageCacheStatus, OperationRecord } from '../api/imagecache.js';
import { Status } from '../api/constants.js';
import { planOperation, type Action, type NodeWork, type OperationPlan, type PullPolicy } from '../planning/operation-plan.js';
import { createFailureIsFinal, operationProgress, pairKey, registryOf, type CreateFailure, type JobRequest, type Throttle } from '../planning/operation-progress.js';
import {
  cacheCounts, cacheStatusFields, carriedFailures, processingStatus,
  type CacheScope, type FailureLimits, type PairResult,
} from '../planning/status-computation.js';
import type { NextOperation } from '../planning/next-operation.js';
import { ConditionType, EXPOSURE_MESSAGE, EXPOSURE_REASON, SECRET_NOT_FOUND_REASON, becameTrue, cacheConditions } from '../planning/cache-conditions.js';
import type { TargetingPolicy } from '../planning/node-selection.js';
import { retiringAfter } from '../planning/workload-images.js';
import { buildDeleteJob, buildPullJob, jobNameOf, jobNamespace, type JobSettings, type JobTarget } from '../jobs/job-factory.js';
import { slimJob } from '../kube/informer-transforms.js';
import { jobFinished } from '../jobs/job-results.js';
import { LABEL_ACTION, LABEL_CACHE_NAMESPACE, LABEL_CACHE_UID, LABEL_OPERATION, labelValue, readJobWork } from '../jobs/job-labels.js';
import { selectCriSocket } from '../cri/runtime-socket.js';
import { isUnsatisfiable, type ImageCacheApi } from '../kube/imagecache-api.js';
import type { StatusWriter } from '../status/status-writer.js';
import type { EventRecorder } from '../status/event-recorder.js';
import type { Logger } from '../operator/logger.js';
import { specOf, type OperationReconciler } from './operation-reconciler.js';
import { AwaitedJobs } from './awaited-jobs.js';
import { JobTracker, jobKey, type Reservation } from './job-tracker.js';

export interface RunnerSettings extends JobSettings {
  pullPolicy: PullPolicy;
  maxImagesPerJob: number;
  jobRetentionPolicy: 'delete' | 'retain';
  /** Max concurrently running Jobs (all caches); 0 = unlimited. */
  jobsMaxSurge: number;
  /** A Job whose pod has not started this long after its creation fails for its node (at most the pull deadline). */
  podStartDeadlineMs: number;
  failureLimits?: FailureLimits;
  /** Which selected nodes are left out and reported (cordoned, NotReady, platform); default: none. */
  targeting?: TargetingPolicy;
  /** --max-pull-pods-per-node; 0 = unlimited. */
  maxPullPodsPerNode?: number;
  /** --max-pulls-per-registry (images being pulled from one registry host across the cluster); 0 = unlimited. */
  maxPullsPerRegistry?: number;
}

export interface RunnerHooks {
  onJobCreated?(action: Action): void;
  onOperationFinished?(op: OperationRecord, status: ImageCacheStatus, results: readonly PairResult[]): void;
}

export interface RunnerDeps {
  api: ImageCacheApi;
  status: StatusWriter;
  events: EventRecorder;
  log: Logger;
  settings: RunnerSettings;
  listNodes(): readonly V1Node[];
  listJobs(): readonly V1Job[];
  listPods(): readonly V1Pod[];
  now(): Date;
  /** Called with every object a write returns, so the next read is not older than what was written. */
  remember?(cache: ImageCache): void;
  /** Reconcile the cache again after ms (a finished operation's Job whose delete failed is tried again then). */
  requeue?(key: string, afterMs: number): void;
  hooks?: RunnerHooks;
}

/**
 * done: the final status; the nodes the operation covered with every image of the spec (create, full
 * refresh), and of those the ones where nothing failed (the cache is warm there).
 */
export type StepResult =
  | { done: true; status: ImageCacheStatus; fullyCovered: string[]; warm: string[] }
  | { done: false; requeueAfterMs: number };

const MAX_REQUEUE_MS = 30_000;
const API_PARALLELISM = 8;
/**
 * Job creates in flight: what a bulk create is bound by once the client-side limit is lifted
 * (--kube-api-qps=auto against an API server with Priority and Fairness). At 8, 100 creates took
 * 1.7-2.0 s at a loaded API server, while the floor's client makes them in 0.7 s with 32.
 */
const CREATE_PARALLELISM = 32;
/** Progress counts of a Processing cache are written at most this often (the final status at once). */
export const COUNTS_WRITE_INTERVAL_MS = 1_000;
/**
 * A finished operation's Jobs are deleted while no operation is in progress (they wait for one to end,
 * and pause when one starts), for at most this long from the start of the clean-up or of the stretch of
 * operations that began after it (a node that joined): after it they are deleted anyway.
 */
export const DELETE_DEFER_MAX_MS = 60_000;
/**
 * ... and while the Job controller has not yet marked ended the Jobs whose pods have ended (its queue is
 * behind), for at most this long in all. It marks each Job with 2-3 writes after its pod ends: after a
 * 1,000-node x 50-image create it was still 90 s behind when the status was final, and deletes made
 * meanwhile (with the garbage collector's pod deletes) halved its pace. A node that joined then waited
 * 35 s for its pod behind that queue; 1-2 s with this wait.
 */
export const DELETE_JOB_CONTROLLER_WAIT_MAX_MS = 180_000;
const DELETE_DEFER_POLL_MS = 250;
/**
 * The clean-up keeps at most this many pods of deleted Jobs going (deletes in flight count as one each):
 * it deletes at the pace the control plane removes their pods (the garbage collector, the Job
 * controller's finalizers, the nodes), so it never builds a backlog that a node joining meanwhile waits
 * behind. Deleting 1,000 Jobs of 50 containers at the client's pace left the Job controller 38 s behind.
 */
export const DELETE_BACKLOG_MAX_PODS = 16;
/** A pod that does not go holds the clean-up back for at most this long per delete. */
export const DELETE_BACKLOG_WAIT_MAX_MS = 10_000;
/** A pod marked for deletion this long ago is stuck (its node is gone, say): it is no longer counted. */
export const DELETE_BACKLOG_STUCK_MS = 30_000;
/** A finished operation's Job whose delete failed: the cache is reconciled again after this. */
const DELETE_RETRY_MS = 5_000;

export function newOperationId(): string {
  // 6 characters of [a-z0-9]: part of Job names and of a label value
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function cacheKey(cache: ImageCache): string {
  return `${cache.metadata.namespace}/${cache.metadata.name}`;
}

/** Runs fn over items, at most `limit` at a time (bulk creates and deletes never flood the API server). */
export async function inBatches<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The slots a batch of Job requests takes: surge, pull pods per node, pulls per registry. */
function reservationOf(requests: readonly JobRequest[]): Reservation {
  const r: Reservation = { jobs: requests.length, nodes: new Map(), registries: new Map() };
  for (const req of requests) {
    if (req.action !== 'pull') continue;
    r.nodes.set(req.node.node, (r.nodes.get(req.node.node) ?? 0) + 1);
    for (const w of req.images) {
      const reg = registryOf(w.image);
      r.registries.set(reg, (r.registries.get(reg) ?? 0) + 1);
    }
  }
  return r;
}

/** An operation that covers only part of the cache (a diff, or some nodes): its status must carry the rest. */
function partial(op: OperationRecord): boolean {
  return op.type === 'update' || (op.nodes !== undefined && op.nodes.length > 0);
}

/** The whole cache as it stands: every (node, image) pair its spec selects now. */
export function wholeCacheScope(
  op: OperationRecord, cache: ImageCache, nodes: readonly V1Node[], plan: OperationPlan, pullPolicy: PullPolicy, targeting?: TargetingPolicy,
): CacheScope {
  if (!partial(op)) return { desired: plan.desired, wants: () => false };
  const whole = planOperation({ type: 'create', cacheSpec: specOf(cache, op), nodes, pullPolicy, targeting });
  // built on the first question only: most passes carry no earlier failure and never ask
  let wanted: Set<string> | undefined;
  const wants = (image: string, hostname: string): boolean => {
    if (!wanted) {
      wanted = new Set<string>();
      for (const n of whole.nodes) {
        for (const w of [...n.pulls, ...n.alreadyPresent, ...n.invalid.map((i) => i.work)]) {
          for (const img of w.specImages) wanted.add(`${n.hostname}\n${img}`);
        }
      }
    }
    return wanted.has(`${hostname}\n${image}`);
  };
  return { desired: whole.desired, wants };
}

export class OperationRunner {
  readonly tracker: JobTracker;
  /** Per cache, the Jobs its last pass found running: which Job and pod changes bring the next pass forward. */
  readonly awaited = new AwaitedJobs();
  /** The background deletes of finished operations' Jobs, one batch after the other. */
  private reaping: Promise<void> = Promise.resolve();
  private readonly queuedDeletes = new Set<string>();
  /** Background deletes sent and not yet answered. */
  private deletesInFlight = 0;
  /** When the present stretch of operations in progress began, as the clean-up saw it (undefined: none running). */
  private operationsSince: number | undefined;
  /** When each cache's progress counts were last written (ms). */
  private readonly countsWritten = new Map<string, number>();
  /** CPU time (ms) of the last pass's planning (plan, progress, counts: pure, synchronous), of any cache. */
  lastPassMs = 0;

  constructor(private readonly deps: RunnerDeps) {
    this.tracker = new JobTracker(() => deps.now().getTime());
  }

  /** Jobs of one cache (by uid: two caches with one name in two namespaces never mix), in every namespace. */
  jobsOf(cache: ImageCache, operationId?: string): V1Job[] {
    const uid = cache.metadata.uid;
    return this.tracker.view(this.deps.listJobs()).filter((j) => {
      const l = j.metadata?.labels ?? {};
      return l[LABEL_CACHE_UID] === uid && (operationId === undefined || l[LABEL_OPERATION] === operationId);
    });
  }

  /** Writes the Processing status with the operation record, then takes the first step. */
  async start(cache: ImageCache, next: NextOperation, reconciler: OperationReconciler): Promise<StepResult> {
    const op: OperationRecord = {
      id: newOperationId(),
      type: next.type,
      generation: cache.metadata.generation ?? 0,
      cacheSpec: next.cacheSpec ?? cache.spec.cacheSpec ?? [],
      ...(next.nodes ? { nodes: next.nodes } : {}),
      ...(next.onlyMissing ? { onlyMissing: true } : {}),
    };
    // an operation that covers part of the cache keeps the earlier failures it does not evaluate again
    if (partial(op) && Object.keys(cache.status?.failures ?? {}).length > 0) op.previousFailures = cache.status?.failures;
    const conditions = cacheConditions(cache, this.deps.now());
    const updated = await this.deps.status.write(cache, { ...processingStatus(op, this.deps.now(), cache.status), ...(conditions.length ? { conditions } : {}) });
    this.deps.remember?.(updated);
    if (becameTrue(cache.status?.conditions, conditions, ConditionType.PullSecretsExposeImages)) {
      await this.deps.events.record(cache, 'Warning', EXPOSURE_REASON, EXPOSURE_MESSAGE);
    }
    this.deps.log.info(`Starting to sync image cache ${cache.metadata.name}(${op.type})`, {
      cache: cacheKey(cache), operation: op.id, cause: next.cause, nodes: op.nodes,
    });
    return this.step(updated, op, reconciler);
  }

  /** One level-based pass over a Processing cache. Idempotent: the same state gives the same actions. */
  async step(cache: ImageCache, op: OperationRecord, reconciler: OperationReconciler): Promise<StepResult> {
    const { settings } = this.deps;
    const passStart = performance.now();
    const now = this.deps.now().getTime();
    const nodes = this.deps.listNodes();
    const plan = planOperation({ ...reconciler.planInput(cache, op, nodes, settings.pullPolicy), targeting: settings.targeting });
    // until then lost work is redone, and a create waits for an earlier same-named Job's pods to go
    const redoLostUntil = operationStart(cache, now) + settings.imagePullDeadlineMs;
    const jobs = this.jobsOf(cache, op.id);

    // 1. what the Jobs say, and what is missing (pure)
    const budget = this.createBudget();
    const progress = operationProgress({
      plan, jobs, pods: this.deps.listPods(), now,
      pullDeadlineMs: settings.imagePullDeadlineMs,
      startDeadlineMs: settings.podStartDeadlineMs,
      maxImagesPerJob: settings.maxImagesPerJob,
      createBudget: budget,
      createFailures: this.tracker.createFailures,
      buildable: (node, action) => (action === 'delete' ? this.deleteJobUnbuildable(node) : undefined),
      throttle: this.throttle(),
      redoLostUntil,
    });
    this.tracker.settle(progress.settledJobs);
    // what of this pass is still running, from the same snapshot: only a change that ends one of these
    // Jobs brings the next pass forward (awaited-jobs.ts)
    const key = cacheKey(cache);
    const settledNow = new Set(progress.settledJobs);
    const running = jobs.map(jobKey).filter((k) => !settledNow.has(k));
    this.awaited.record(key, running, progress.create.length > 0 || progress.deferred > 0 || progress.lostJobs.length > 0);
    this.lastPassMs = performance.now() - passStart;
    // the slots of the Jobs to create are taken now, before any await: a reconcile of another cache
    // running meanwhile sees them taken
    const reservation = reservationOf(progress.create);
    this.tracker.reserve(reservation);
    let creates: { created: number; retry: boolean };
    let foundFailures: boolean;
    const results = progress.results;
    try {
      // 2. why pods could not be created (PSA, quota, ...): seconds after, not at the deadline
      foundFailures = await this.lookUpCreateFailures(jobs, progress.podlessJobs);
      // 3. the Jobs that are missing, and the Jobs whose pods were deleted (their work gets a new Job)
      creates = await this.createJobs(cache, op, progress.create, results, now < redoLostUntil);
      await this.redoLostJobs(cache, progress.lostJobs);
    } finally {
      this.tracker.release(reservation);
    }
    if (creates.retry) this.awaited.markCreating(key);

    const pending = results.some((r) => r.state === 'pending');
    if (!pending && !foundFailures) {
      this.awaited.forget(key);
      const status = await this.finish(cache, op, reconciler, results, nodes, plan);
      const full = op.type === 'create' || (op.type === 'refresh' && !op.onlyMissing);
      const covered = full ? plan.nodes.map((n) => n.node) : [];
      const failed = new Set(results.filter((r) => r.state === 'failed').map((r) => r.node));
      return { done: true, status, fullyCovered: covered, warm: covered.filter((n) => !failed.has(n)) };
    }
    // 4. progress counts of the whole cache
    const countStart = performance.now();
    const scope = wholeCacheScope(op, cache, nodes, plan, settings.pullPolicy, settings.targeting);
    const counts = cacheCounts(results, scope, carriedFailures(op.previousFailures, results, scope));
    this.lastPassMs += performance.now() - countStart;
    const old = cache.status?.counts;
    // progress counts are written at most once a COUNTS_WRITE_INTERVAL_MS per cache (the final status
    // always): passes come every few tens of ms while pods start, and a write for each was most of the
    // controller's requests after its creates (70 status patches in a 9 s 200-node create)
    let countsDue: number | undefined;
    if (!old || old.desired !== counts.desired || old.succeeded !== counts.succeeded || old.failed !== counts.failed || old.pending !== counts.pending) {
      const next = (this.countsWritten.get(key) ?? 0) + COUNTS_WRITE_INTERVAL_MS;
      if (!old || now >= next) {
        this.deps.remember?.(await this.deps.status.update(cache, { counts }));
        if (this.countsWritten.size >= 10_000) this.countsWritten.clear();
        this.countsWritten.set(key, now);
      } else {
        countsDue = next - now;
      }
    }
    const wait = foundFailures ? 0
      : creates.retry ? 2_000
        : creates.created > 0 || progress.lostJobs.length > 0 ? 1_000
          : progress.deferred > 0 || progress.podlessJobs.length > 0 ? 1_000
            : Math.max(500, Math.min(MAX_REQUEUE_MS, (progress.nextDeadline ?? now + MAX_REQUEUE_MS) - now + 100));
    return { done: false, requeueAfterMs: countsDue !== undefined ? Math.min(wait, Math.max(countsDue, 1)) : wait };
  }

  /** How many Jobs may be created now under --jobs-max-surge (all caches count). */
  private createBudget(): number {
    const surge = this.deps.settings.jobsMaxSurge;
    if (surge <= 0) return Infinity;
    return Math.max(0, surge - this.tracker.running(this.tracker.view(this.deps.listJobs())));
  }

  /** Pull slots left per node and per registry host, counted over the running pull Jobs of every cache. */
  private throttle(): Throttle | undefined {
    const maxPodsPerNode = this.deps.settings.maxPullPodsPerNode ?? 0;
    const maxPullsPerRegistry = this.deps.settings.maxPullsPerRegistry ?? 0;
    if (maxPodsPerNode <= 0 && maxPullsPerRegistry <= 0) return undefined;
    const perNode = new Map<string, number>();
    const perRegistry = new Map<string, number>();
    for (const job of this.tracker.view(this.deps.listJobs())) {
      if (job.metadata?.labels?.[LABEL_ACTION] !== 'pull' || !this.tracker.isRunning(job)) continue;
      const work = readJobWork(job.metadata?.annotations);
      if (!work) continue;
      perNode.set(work.node, (perNode.get(work.node) ?? 0) + 1);
      for (const images of Object.values(work.containers)) {
        const reg = registryOf(images[0] ?? '');
        perRegistry.set(reg, (perRegistry.get(reg) ?? 0) + 1);
      }
    }
    return {
      maxPodsPerNode,
      maxPullsPerRegistry,
      nodeSlots: (node) => (maxPodsPerNode > 0 ? maxPodsPerNode - (perNode.get(node) ?? 0) - this.tracker.nodeInFlight(node) : Infinity),
      registrySlots: (reg) => (maxPullsPerRegistry > 0 ? maxPullsPerRegistry - (perRegistry.get(reg) ?? 0) - this.tracker.registryInFlight(reg) : Infinity),
    };
  }

  private deleteJobUnbuildable(node: NodeWork): CreateFailure | undefined {
    const socket = selectCriSocket(node.runtimeVersion, this.deps.settings.criSocketPath);
    return socket.ok ? undefined : { reason: socket.reason, message: socket.message };
  }

  /**
   * Reads the FailedCreate Events of the namespaces of Jobs that have no pods (one LIST per namespace,
   * at most every 5 s each); true when a new reason was found for one of them.
   */
  private async lookUpCreateFailures(jobs: readonly V1Job[], podless: readonly string[]): Promise<boolean> {
    const wanted = new Set(podless);
    const namespaces = new Set(jobs.filter((j) => wanted.has(j.metadata?.name ?? '')).map((j) => j.metadata?.namespace ?? ''));
    let found = false;
    await inBatches([...namespaces].filter((ns) => this.tracker.shouldLookUp(`ns/${ns}`)), API_PARALLELISM, async (ns) => {
      try {
        for (const e of await this.deps.api.jobCreateFailures(ns)) {
          const name = e.involvedObject?.name ?? '';
          if (!wanted.has(name) || this.tracker.createFailures.has(name)) continue;
          // the API server was unreachable or overloaded: the Job controller retries, its pod comes later
          if (!createFailureIsFinal(e.message ?? '')) continue;
          this.tracker.createFailures.set(name, { reason: 'FailedCreate', message: e.message ?? `the Job controller could not create a pod of Job ${name}` });
          found = true;
        }
      } catch (err) {
        this.deps.log.debug('could not read the FailedCreate Events of a namespace', { namespace: ns, error: String(err) });
      }
    });
    return found;
  }

  /** Deletes the Jobs whose pods were deleted before they ended; the next step creates their work anew. */
  private async redoLostJobs(cache: ImageCache, lost: readonly V1Job[]): Promise<void> {
    if (lost.length === 0) return;
    for (const j of lost) {
      this.deps.log.info(`Job ${j.metadata?.name ?? ''}: its pods were deleted before they ended; it is created again`, { cache: cacheKey(cache) });
    }
    await this.deleteAll(lost);
  }

  /** Builds and creates the Jobs asked for; a create that can never succeed fails its images at once. */
  private async createJobs(
    cache: ImageCache, op: OperationRecord, requests: readonly JobRequest[], results: PairResult[], waitForLingering: boolean,
  ): Promise<{ created: number; retry: boolean }> {
    const { settings, log, api } = this.deps;
    // where each pair's result is, built only when a create fails (it covers every pair of the operation)
    let index: Map<string, number> | undefined;
    const fail = (req: JobRequest, f: CreateFailure) => {
      if (!index) {
        index = new Map();
        results.forEach((r, i) => { for (const img of r.specImages) index!.set(pairKey(r.node ?? '', r.action, img), i); });
      }
      for (const w of req.images) {
        const i = index.get(pairKey(req.node.node, req.action, w.image));
        if (i !== undefined) results[i] = { ...results[i]!, state: 'failed', reason: f.reason, message: f.message };
      }
    };
    // Each Job is built when its create is sent, not all at once: at 1,000 nodes x 50 images the Jobs of
    // a create are 50,000 containers of objects, and one kept until the watch shows it is its slim form.
    const jobs: { req: JobRequest; target: JobTarget; name: string; first: string; attempt: number }[] = [];
    const build = (target: JobTarget, action: Action) => (action === 'pull' ? { ok: true as const, job: buildPullJob(target, settings) } : buildDeleteJob(target, settings));
    for (const req of requests) {
      const base: JobTarget = { cache, operationId: op.id, node: req.node, images: req.images };
      // work whose Job this process made before in this operation is made again under a new name
      const first = jobNameOf(base, req.action);
      const attempt = this.tracker.nextAttempt(op.id, first);
      const target = attempt > 0 ? { ...base, attempt } : base;
      const name = attempt > 0 ? jobNameOf(target, req.action) : first;
      const known = this.tracker.createFailures.get(name);
      if (known) fail(req, known);
      else jobs.push({ req, target, name, first, attempt });
    }
    let created = 0;
    let retry = false;
    // A Job's name is its work's. kube-controller-manager's Job controller, handed a new Job under the
    // name of one deleted while it was creating or finalizing its pods, can fail its sync on the old uid
    // and wait out its expectations (5 minutes) without creating a pod: seen in the fault suite ("Jobs
    // deleted by hand", re-created 0.1 s after the delete; "No pods matched job" at the pull deadline).
    // So work this process made a Job for before in this operation gets a new name (attempt, above); and
    // a create under a name whose earlier Job's pods are still there (a restarted controller, which
    // starts its attempts at 0) waits, a second at a time, until they are gone, but not past the
    // operation's pull deadline (then it is made anyway, and its own deadlines apply).
    const lingering = waitForLingering && jobs.length > 0 ? lingeringJobNames(this.deps.listPods(), this.deps.listJobs()) : new Set<string>();
    {
      await inBatches(jobs, CREATE_PARALLELISM, async ({ req, target, name, first, attempt }) => {
        if (lingering.has(`${jobNamespace(cache, req.action, settings)}/${name}`)) {
          retry = true;
          log.debug(`Job ${name}: the pods of an earlier Job of that name are still going; created once they are gone`, { cache: cacheKey(cache) });
          return;
        }
        const built = build(target, req.action);
        if (!built.ok) { fail(req, built); return; }
        const job = built.job;
        try {
          const res = await api.createJob(job);
          this.tracker.created(slimJob(res === 'created' ? job : (await api.getJob(job.metadata?.namespace ?? '', name)) ?? job));
          this.tracker.createdAttempt(op.id, first, attempt);
          if (res === 'created') {
            created += 1;
            this.deps.hooks?.onJobCreated?.(req.action);
            log.info(`Job ${name} created (${req.action}:- ${req.images.map((w) => w.image).join(', ')} --> ${req.node.hostname})`, { cache: cacheKey(cache), ...(attempt > 0 ? { madeAgain: attempt, firstName: first } : {}) });
          }
        } catch (err) {
          const code = (err as { code?: number }).code;
          if (code === 403 || isUnsatisfiable(err)) {
            const f = { reason: 'FailedCreate', message: `Job ${name}: ${apiMessage(err)}` };
            this.tracker.createFailures.set(name, f);
            fail(req, f);
            log.warn(`Job ${name} could not be created`, { cache: cacheKey(cache), code, error: f.message });
          } else {
            retry = true;
            log.warn(`Job ${name} could not be created; retrying`, { cache: cacheKey(cache), code, error: apiMessage(err) });
          }
        }
      });
    }
    return { created, retry };
  }

  /** Final status, annotations, Event and Job clean-up. Each step is safe to repeat after a crash. */
  private async finish(
    cache: ImageCache, op: OperationRecord, reconciler: OperationReconciler, results: PairResult[],
    nodes: readonly V1Node[], plan: OperationPlan,
  ): Promise<ImageCacheStatus> {
    const { api, log, settings } = this.deps;
    const ns = cache.metadata.namespace ?? '';
    const name = cache.metadata.name ?? '';
    // 1. the trigger annotations first: a crash after it still resumes (the operation record drives it).
    //    Purge wins over refresh: a refresh asked for with (or during) a purge is consumed by it.
    const keys = reconciler.annotationsToRemove.filter((k) => k in (cache.metadata.annotations ?? {}));
    let current = cache;
    if (keys.length > 0) {
      current = await api.removeAnnotations(ns, name, keys);
      this.deps.remember?.(current);
      for (const k of keys) log.info(`Annotation ${k} removed from imagecache(${name})`, { cache: cacheKey(cache) });
    }
    // 2. the final status: the whole cache, and its conditions
    const missingSecret = await this.missingPullSecret(cache, op);
    const conditions = cacheConditions(cache, this.deps.now(), missingSecret);
    const scope = wholeCacheScope(op, cache, nodes, plan, settings.pullPolicy, settings.targeting);
    const { cacheSpec: _applied, previousFailures: _previous, ...record } = op;
    const appliedAfter = reconciler.appliedSpecAfter(op);
    const retiring = retiringAfter(cache.status?.retiringImages, appliedAfter);
    const status: ImageCacheStatus = {
      ...cacheStatusFields(op.type, results, scope, op.previousFailures, settings.failureLimits, plan.skipped),
      startTime: cache.status?.startTime ?? this.deps.now().toISOString(),
      completionTime: this.deps.now().toISOString(),
      observedGeneration: Math.max(op.generation, cache.status?.observedGeneration ?? 0),
      operation: record,
      lastAppliedSpec: { cacheSpec: appliedAfter },
      ...(conditions.length ? { conditions } : {}),
      ...(retiring.length ? { retiringImages: retiring } : {}),
    };
    this.deps.remember?.(await this.deps.status.write(current, status));
    if (becameTrue(cache.status?.conditions, conditions, ConditionType.PullSecretsFound, 'False')) {
      await this.deps.events.record(cache, 'Warning', SECRET_NOT_FOUND_REASON, conditions.find((c) => c.type === ConditionType.PullSecretsFound)!.message);
    }
    log.info(`Completed sync actions for image cache ${name}(${op.type})`, {
      cache: cacheKey(cache), operation: op.id, status: status.status, counts: status.counts,
    });
    // 3. the Event (best effort)
    await this.deps.events.record(cache, status.status === Status.Failed ? 'Warning' : 'Normal', status.reason, status.message);
    this.deps.hooks?.onOperationFinished?.(op, status, results);
    this.tracker.forgetOperation(op.id);
    // 4. the Jobs (also done for leftovers whenever the cache is not Processing)
    if (settings.jobRetentionPolicy === 'delete') await this.deleteJobs(cache);
    return status;
  }

  /**
   * The kubelet's word when a pull Secret of the cache could not be found: its FailedToRetrieveImagePullSecret
   * Event on a pull pod of this operation. Read once per operation, only for caches that name pull Secrets.
   */
  private async missingPullSecret(cache: ImageCache, op: OperationRecord): Promise<string | undefined> {
    if (!(cache.spec.imagePullSecrets ?? []).length || op.type === 'purge') return undefined;
    const jobs = new Set(this.jobsOf(cache, op.id).map((j) => j.metadata?.uid));
    const pods = new Set(this.deps.listPods().filter((p) => (p.metadata?.ownerReferences ?? []).some((o) => jobs.has(o.uid))).map((p) => p.metadata?.name));
    if (pods.size === 0) return undefined;
    try {
      const events = await this.deps.api.podEvents(cache.metadata.namespace ?? '', 'FailedToRetrieveImagePullSecret');
      return events.find((e) => pods.has(e.involvedObject?.name))?.message;
    } catch (err) {
      this.deps.log.debug('could not read pull pod Events', { cache: cacheKey(cache), error: String(err) });
      return undefined;
    }
  }

  /** Updates some status fields outside an operation (conditional on the cache's resourceVersion). */
  async updateStatus(cache: ImageCache, fields: Partial<ImageCacheStatus>): Promise<ImageCache> {
    const updated = await this.deps.status.update(cache, fields);
    this.deps.remember?.(updated);
    return updated;
  }

  /**
   * Deletes every Job of the cache (retention policy delete, when no operation runs), a few at a time, in
   * the background: the clean-up of 1,000 finished Jobs takes the client's budget for a minute, and a
   * reconcile that awaited it held the cache's key, so a node that joined meanwhile waited for it. The
   * Jobs leave the controller's view at once (JobTracker); a delete that fails puts its Job back in view
   * and the cache is reconciled again, which deletes it then. Resolves with how many Jobs it took on.
   */
  async deleteJobs(cache: ImageCache): Promise<number> {
    // a Job still waiting in the background queue is not taken on twice (no second DELETE, no 404)
    const jobs = this.jobsOf(cache).filter((j) => !this.queuedDeletes.has(jobKey(j)));
    for (const j of jobs) {
      this.tracker.deleted(j);
      this.queuedDeletes.add(jobKey(j));
    }
    const key = cacheKey(cache);
    this.reaping = this.reaping.then(() => {
      const started = this.deps.now().getTime();
      return inBatches(jobs, API_PARALLELISM, async (j) => {
        await this.controlPlaneFree(started);
        await this.backlogBelowMax();
        this.deletesInFlight += 1;
        try {
          await this.deleteFinished(key, j);
        } finally {
          this.deletesInFlight -= 1;
        }
      });
    });
    return jobs.length;
  }

  /** Resolves once fewer than DELETE_BACKLOG_MAX_PODS pods of deleted Jobs are going, or DELETE_BACKLOG_WAIT_MAX_MS later. */
  private async backlogBelowMax(): Promise<void> {
    const until = this.deps.now().getTime() + DELETE_BACKLOG_WAIT_MAX_MS;
    const backlog = () => lingeringPods(this.deps.listPods(), this.deps.listJobs(), this.deps.now().getTime()) + this.deletesInFlight;
    while (backlog() >= DELETE_BACKLOG_MAX_PODS && this.deps.now().getTime() < until) {
      await new Promise((r) => setTimeout(r, DELETE_DEFER_POLL_MS));
    }
  }

  /** One background delete; one that fails puts its Job back in view and reconciles its cache again. */
  private async deleteFinished(key: string, j: V1Job): Promise<void> {
    try {
      await this.deps.api.deleteJob(j.metadata?.namespace ?? '', j.metadata?.name ?? '');
    } catch (err) {
      this.tracker.undeleted(j);
      this.deps.log.debug('could not delete a finished Job; the cache is reconciled again', { cache: key, job: j.metadata?.name, error: apiMessage(err) });
      this.deps.requeue?.(key, DELETE_RETRY_MS);
    } finally {
      this.queuedDeletes.delete(jobKey(j));
    }
  }

  /**
   * Resolves once no operation is in progress (of any cache, this one's next included) and the Job
   * controller has caught up (jobControllerBehind), or once each wait's limit from `started` is past:
   * DELETE_DEFER_MAX_MS for the operations, DELETE_JOB_CONTROLLER_WAIT_MAX_MS for the Job controller.
   * The deletes of a finished operation's Jobs (and the pods the garbage collector deletes with them)
   * would take the control plane's time from the operations creating and running theirs. A 1,000-node
   * create of 10 caches made 654 such deletes while the last caches were still waiting for their pods,
   * and a node that joined during the clean-up of a 500-node x 50-image create waited 17 s for its pod
   * (the Job controller and the scheduler busy with the deletes' pods), against 0.1 s at 10 images.
   */
  private async controlPlaneFree(started: number): Promise<void> {
    const busy = (now: number) => (this.operationsRunning(now, started) && now < Math.max(started, this.operationsSince ?? started) + DELETE_DEFER_MAX_MS)
      || (now < started + DELETE_JOB_CONTROLLER_WAIT_MAX_MS && jobControllerBehind(this.deps.listJobs(), this.deps.listPods()));
    while (busy(this.deps.now().getTime())) {
      await new Promise((r) => setTimeout(r, DELETE_DEFER_POLL_MS));
    }
  }

  /**
   * Whether an operation is in progress, keeping when the present stretch of operations began: one that
   * starts after the clean-up found none running (a node that joined, say) holds it back for
   * DELETE_DEFER_MAX_MS from its own start, not from the clean-up's.
   */
  private operationsRunning(now: number, started: number): boolean {
    if (!this.awaited.anyInProgress()) {
      this.operationsSince = undefined;
      return false;
    }
    this.operationsSince ??= Math.max(now, started);
    return true;
  }

  /** Resolves once every background delete taken on so far has been answered (tests, shutdown). */
  async deletesSettled(): Promise<void> {
    await this.reaping;
  }

  /**
   * Jobs of a deleted cache that its owner reference does not reach: the delete Jobs in the controller's
   * namespace. (Jobs in the cache's namespace are garbage-collected through their owner reference.)
   */
  async deleteOrphanedJobs(namespace: string, name: string): Promise<number> {
    const jobs = this.tracker.view(this.deps.listJobs()).filter((j) => {
      const l = j.metadata?.labels ?? {};
      return j.metadata?.namespace !== namespace && l[LABEL_CACHE_NAMESPACE] === labelValue(namespace) && l.imagecache === labelValue(name);
    });
    return this.deleteAll(jobs);
  }

  private async deleteAll(jobs: readonly V1Job[]): Promise<number> {
    await inBatches(jobs, API_PARALLELISM, async (j) => {
      await this.deps.api.deleteJob(j.metadata?.namespace ?? '', j.metadata?.name ?? '');
      this.tracker.deleted(j);
    });
    return jobs.length;
  }
}

/**
 * Whether the Job controller is behind: a Job it has not marked ended (no Complete or Failed condition)
 * though every pod of it has ended. Jobs with a pod still going, or with no pod, do not count: only the
 * Job controller's own queue is waited for.
 */
export function jobControllerBehind(jobs: readonly V1Job[], pods: readonly V1Pod[]): boolean {
  const open = new Set<string>();
  for (const j of jobs) if (j.metadata?.uid && !jobFinished(j)) open.add(j.metadata.uid);
  if (open.size === 0) return false;
  const ended = new Map<string, boolean>();
  for (const p of pods) {
    const owner = (p.metadata?.ownerReferences ?? []).find((o) => o.kind === 'Job' && open.has(o.uid));
    if (!owner) continue;
    const done = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    ended.set(owner.uid, (ended.get(owner.uid) ?? true) && done);
  }
  for (const e of ended.values()) if (e) return true;
  return false;
}

/**
 * "namespace/name" of the Jobs that are gone (no Job of that name, or one with another uid) while pods
 * they owned remain: a Job must not be created under such a name yet (see createJobs).
 */
export function lingeringJobNames(pods: readonly V1Pod[], jobs: readonly V1Job[]): Set<string> {
  const out = new Set<string>();
  forEachLingering(pods, jobs, (key) => out.add(key));
  return out;
}

/**
 * How many pods remain of Jobs that are gone (the clean-up's backlog at the control plane), leaving out
 * pods marked for deletion more than DELETE_BACKLOG_STUCK_MS before `now` (stuck, not a backlog).
 */
export function lingeringPods(pods: readonly V1Pod[], jobs: readonly V1Job[], now: number): number {
  let n = 0;
  forEachLingering(pods, jobs, () => { n += 1; }, (p) => {
    const t = p.metadata?.deletionTimestamp;
    return t !== undefined && now - new Date(t).getTime() > DELETE_BACKLOG_STUCK_MS;
  });
  return n;
}

/** Calls fn with "namespace/name" of the gone Job for each pod such a Job owned (but the pods skipped). */
function forEachLingering(pods: readonly V1Pod[], jobs: readonly V1Job[], fn: (jobKey: string) => void, skip?: (pod: V1Pod) => boolean): void {
  const uids = new Map<string, string | undefined>();
  for (const j of jobs) uids.set(jobKey(j), j.metadata?.uid);
  for (const p of pods) {
    if (skip?.(p)) continue;
    for (const o of p.metadata?.ownerReferences ?? []) {
      if (o.kind !== 'Job') continue;
      const key = jobKey({ metadata: { namespace: p.metadata?.namespace, name: o.name } });
      if (!uids.has(key) || uids.get(key) !== o.uid) fn(key);
    }
  }
}

/** When the operation started (status.startTime), for its deadlines; `now` when unknown. */
function operationStart(cache: ImageCache, now: number): number {
  const t = Date.parse(cache.status?.startTime ?? '');
  return Number.isNaN(t) ? now : t;
}

/** The API's own message of an error (client-node wraps it in a JSON body). */
export function apiMessage(err: unknown): string {
  const e = err as { body?: unknown; message?: string };
  let body = e.body;
  if (typeof body === 'string') {
    try { body = JSON.parse(body); } catch { /* plain text */ }
  }
  const m = (body as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' ? m : typeof body === 'string' && body ? body : (e.message ?? String(err));
}

