// The shared engine of every operation: start (write Processing with the operation record), step
// (plan, create the missing Jobs, read results from pods, report progress) and finish (final status,
// annotation, Event, Job clean-up). Everything it needs to resume lives in the API (status.operation
// and the labelled Jobs), so a restarted controller continues where the last one stopped.
import { randomBytes } from 'node:crypto';
import type { V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import type { ImageCache, ImageCacheStatus, OperationRecord } from '../api/imagecache.js';
import { Status } from '../api/constants.js';
import { chunk, imageKey, planOperation, type Action, type ImageWork, type PullPolicy } from '../planning/operation-plan.js';
import { finalStatusFields, countResults, processingStatus, type PairResult } from '../planning/status-computation.js';
import type { NextOperation } from '../planning/next-operation.js';
import { buildDeleteJob, buildPullJob, type JobSettings } from '../jobs/job-factory.js';
import { expire, jobOutcomes, type ImageOutcome } from '../jobs/job-results.js';
import { LABEL_CACHE_UID, LABEL_OPERATION, readJobWork } from '../jobs/job-labels.js';
import type { ImageCacheApi } from '../kube/imagecache-api.js';
import type { StatusWriter } from '../status/status-writer.js';
import type { EventRecorder } from '../status/event-recorder.js';
import type { Logger } from '../operator/logger.js';
import type { OperationReconciler } from './operation-reconciler.js';

export interface RunnerSettings extends JobSettings {
  pullPolicy: PullPolicy;
  maxImagesPerJob: number;
  jobRetentionPolicy: 'delete' | 'retain';
  /** Max concurrently active Jobs (all caches); 0 = unlimited. */
  jobsMaxSurge: number;
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
  hooks?: RunnerHooks;
}

export type StepResult = { done: true; status: ImageCacheStatus } | { done: false; requeueAfterMs: number };

const MAX_REQUEUE_MS = 30_000;
const CREATE_PARALLELISM = 8;

export function newOperationId(): string {
  // 6 characters of [a-z0-9]: part of Job names and of a label value
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function cacheKey(cache: ImageCache): string {
  return `${cache.metadata.namespace}/${cache.metadata.name}`;
}

function jobIsActive(job: V1Job): boolean {
  return !(job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export class OperationRunner {
  constructor(private readonly deps: RunnerDeps) {}

  /** Jobs of one cache (by uid: two caches with one name in two namespaces never mix). */
  jobsOf(cache: ImageCache, operationId?: string): V1Job[] {
    const uid = cache.metadata.uid;
    return this.deps.listJobs().filter((j) => {
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
      cacheSpec: cache.spec.cacheSpec ?? [],
      ...(next.nodes ? { nodes: next.nodes } : {}),
    };
    const updated = await this.deps.status.write(cache, processingStatus(op, this.deps.now(), cache.status));
    this.deps.log.info(`Starting to sync image cache ${cache.metadata.name}(${op.type})`, {
      cache: cacheKey(cache), operation: op.id, cause: next.cause, nodes: op.nodes,
    });
    return this.step(updated, op, reconciler);
  }

  /** One level-based pass over a Processing cache. Idempotent: the same state gives the same actions. */
  async step(cache: ImageCache, op: OperationRecord, reconciler: OperationReconciler): Promise<StepResult> {
    const { settings, log } = this.deps;
    const now = this.deps.now().getTime();
    const plan = planOperation(reconciler.planInput(cache, op, this.deps.listNodes(), settings.pullPolicy));
    const opJobs = this.jobsOf(cache, op.id);
    const pods = this.deps.listPods();

    // Outcomes of the Jobs the operation already has, keyed by node|action|image.
    const covered = new Map<string, ImageOutcome>();
    let nextDeadline = Infinity;
    for (const job of opJobs) {
      const work = readJobWork(job.metadata?.annotations);
      if (!work) continue;
      const deadline = new Date(job.metadata?.creationTimestamp ?? now).getTime() + settings.imagePullDeadlineMs;
      for (let o of jobOutcomes(job, work, pods)) {
        if (o.state === 'pending') {
          if (now >= deadline) o = expire(o);
          else nextDeadline = Math.min(nextDeadline, deadline);
        }
        for (const img of o.specImages) covered.set(`${work.node}|${work.action}|${imageKey(img)}`, o);
      }
    }

    const results: PairResult[] = [];
    const toCreate: { job: V1Job; action: Action }[] = [];
    for (const node of plan.nodes) {
      const pair = (w: ImageWork, action: Action, state: PairResult['state'], reason = '', message = ''): PairResult => ({
        hostname: node.hostname, action, specImages: w.specImages, state, reason, message,
      });
      for (const { work, message } of node.invalid) results.push(pair(work, 'pull', 'failed', 'InvalidImageName', message));
      for (const w of node.alreadyPresent) {
        const o = covered.get(`${node.node}|pull|${imageKey(w.image)}`);
        results.push(o && o.state !== 'pending' ? pair(w, 'pull', o.state, o.reason, o.message) : pair(w, 'pull', 'succeeded'));
        if (!o) log.debug(`Job not created (image-already-present:- ${w.image} --> ${node.hostname}, runtime: ${node.runtimeVersion})`);
      }
      for (const action of ['pull', 'delete'] as const) {
        const uncovered: ImageWork[] = [];
        for (const w of action === 'pull' ? node.pulls : node.deletes) {
          const o = covered.get(`${node.node}|${action}|${imageKey(w.image)}`);
          if (o) results.push(pair(w, action, o.state, o.reason, o.message));
          else uncovered.push(w);
        }
        for (const [i, images] of chunk(uncovered, settings.maxImagesPerJob).entries()) {
          const target = { cache, operationId: op.id, node, chunkIndex: i, images };
          if (action === 'pull') {
            toCreate.push({ job: buildPullJob(target, settings), action });
            for (const w of images) results.push(pair(w, action, 'pending', 'JobPending', 'The Job is being created'));
          } else {
            const built = buildDeleteJob(target, settings);
            if (built.ok) {
              toCreate.push({ job: built.job, action });
              for (const w of images) results.push(pair(w, action, 'pending', 'JobPending', 'The Job is being created'));
            } else {
              for (const w of images) results.push(pair(w, action, 'failed', built.reason, built.message));
            }
          }
        }
      }
    }

    const deferred = await this.createJobs(cache, toCreate);
    const pending = results.some((r) => r.state === 'pending');
    if (!pending && deferred === 0) {
      return { done: true, status: await this.finish(cache, op, reconciler, results) };
    }
    const counts = countResults(results);
    const old = cache.status?.counts;
    if (!old || old.desired !== counts.desired || old.succeeded !== counts.succeeded || old.failed !== counts.failed || old.pending !== counts.pending) {
      await this.deps.status.update(cache, { counts });
    }
    const wait = deferred > 0 ? 2_000 : toCreate.length > 0 ? 1_000 : Math.max(500, Math.min(MAX_REQUEUE_MS, nextDeadline - now + 100));
    return { done: false, requeueAfterMs: wait };
  }

  /** Creates Jobs (bounded parallelism, --jobs-max-surge); returns how many were deferred. */
  private async createJobs(cache: ImageCache, jobs: { job: V1Job; action: Action }[]): Promise<number> {
    const { settings, log } = this.deps;
    let allowed = jobs.length;
    if (settings.jobsMaxSurge > 0) {
      const active = this.deps.listJobs().filter(jobIsActive).length;
      allowed = Math.max(0, Math.min(jobs.length, settings.jobsMaxSurge - active));
    }
    const batch = jobs.slice(0, allowed);
    for (let i = 0; i < batch.length; i += CREATE_PARALLELISM) {
      await Promise.all(batch.slice(i, i + CREATE_PARALLELISM).map(async ({ job, action }) => {
        const res = await this.deps.api.createJob(job);
        if (res === 'created') {
          this.deps.hooks?.onJobCreated?.(action);
          const work = readJobWork(job.metadata?.annotations);
          const images = Object.values(work?.containers ?? {}).map((s) => s[0]).join(', ');
          log.info(`Job ${job.metadata?.name} created (${action}:- ${images} --> ${work?.hostname})`, { cache: cacheKey(cache) });
        }
      }));
    }
    return jobs.length - batch.length;
  }

  /** Final status, annotation removal, Event and Job clean-up. Each step is safe to repeat after a crash. */
  private async finish(cache: ImageCache, op: OperationRecord, reconciler: OperationReconciler, results: PairResult[]): Promise<ImageCacheStatus> {
    const { api, log, settings } = this.deps;
    const ns = cache.metadata.namespace ?? '';
    const name = cache.metadata.name ?? '';
    // 1. the trigger annotation first: a crash after it still resumes (the operation record drives it)
    const key = reconciler.annotationToRemove;
    if (key && cache.metadata.annotations && key in cache.metadata.annotations) {
      await api.removeAnnotation(ns, name, key);
      log.info(`Annotation ${key} removed from imagecache(${name})`, { cache: cacheKey(cache) });
    }
    // 2. the final status
    const status: ImageCacheStatus = {
      ...finalStatusFields(op.type, results),
      startTime: cache.status?.startTime ?? this.deps.now().toISOString(),
      completionTime: this.deps.now().toISOString(),
      observedGeneration: Math.max(op.generation, cache.status?.observedGeneration ?? 0),
      operation: op,
      lastAppliedSpec: { cacheSpec: reconciler.appliedSpecAfter(op) },
    };
    await this.deps.status.write(cache, status);
    log.info(`Completed sync actions for image cache ${name}(${op.type})`, {
      cache: cacheKey(cache), operation: op.id, status: status.status, counts: status.counts,
    });
    // 3. the Event (best effort)
    await this.deps.events.record(cache, status.status === Status.Failed ? 'Warning' : 'Normal', status.reason, status.message);
    this.deps.hooks?.onOperationFinished?.(op, status, results);
    // 4. the Jobs (also done for leftovers whenever the cache is not Processing)
    if (settings.jobRetentionPolicy === 'delete') await this.deleteJobs(cache);
    return status;
  }

  /** Deletes every Job of the cache (retention policy delete, when no operation runs). */
  async deleteJobs(cache: ImageCache): Promise<number> {
    const jobs = this.jobsOf(cache);
    await Promise.all(jobs.map((j) => this.deps.api.deleteJob(j.metadata?.namespace ?? '', j.metadata?.name ?? '')));
    return jobs.length;
  }
}
