// reconcile(namespace/name): read the current ImageCache and move it one step towards its desired state.
// Level-based: the same state gives the same answer whatever event woke it (controller-runtime style).
//   Processing  -> the operation in the record takes its next step (create/update/refresh/purge reconciler)
//   otherwise   -> leftover Jobs are deleted, then the next operation, if any trigger asks for one, starts
// Reads come from the watch-fed cache (no GET per reconcile); every write is conditional on the
// resourceVersion it was decided from, so a stale read costs one 409 and a fresh look, never a wrong write.
import type { ImageCache, OperationType } from '../api/imagecache.js';
import { Status } from '../api/constants.js';
import { nextOperation } from '../planning/next-operation.js';
import { operationFromReason } from '../planning/status-computation.js';
import type { ImageCacheApi } from '../kube/imagecache-api.js';
import type { Logger } from '../operator/logger.js';
import { StatusConflict } from '../status/status-writer.js';
import { OperationRunner, type StepResult } from './operation-runner.js';
import type { OperationReconciler } from './operation-reconciler.js';
import { createReconciler } from './create-reconciler.js';
import { updateReconciler } from './update-reconciler.js';
import { refreshReconciler } from './refresh-reconciler.js';
import { purgeReconciler } from './purge-reconciler.js';
import type { PendingTriggers } from './pending-triggers.js';
import { effectiveSpec, sameRetiring, sameSpec, usesWorkloads, type EffectiveSpec, type WorkloadImages } from '../planning/workload-images.js';

export { PendingTriggers } from './pending-triggers.js';

export const RECONCILERS: Record<OperationType, OperationReconciler> = {
  create: createReconciler,
  update: updateReconciler,
  refresh: refreshReconciler,
  purge: purgeReconciler,
};

export type ReconcileResult = { requeueAfterMs?: number; operation?: OperationType };

export interface CacheReader {
  /** The cache as the watch last delivered it (or as the controller last wrote it), if known. */
  read(key: string): ImageCache | undefined;
  /** Records an object fresher than what the watch delivered (a write's answer, a GET). */
  remember(cache: ImageCache): void;
}

export class ImageCacheReconciler {
  constructor(
    private readonly api: ImageCacheApi,
    private readonly runner: OperationRunner,
    private readonly triggers: PendingTriggers,
    private readonly log: Logger,
    private readonly retainJobs: boolean,
    private readonly caches?: CacheReader,
    /** Told, when an operation ends, the nodes where the cache now has every image (warm before work). */
    private readonly onWarm?: (key: string, nodes: readonly string[]) => void,
    /** The workloads whose images caches with a workloadSelector follow (--workload-images). */
    private readonly workloads?: { list(): readonly WorkloadImages[]; graceMs: number },
  ) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    if (!namespace || !name) throw new Error(`unexpected key format: "${key}"`);
    const cache = this.caches?.read(key) ?? (await this.fetch(namespace, name));
    if (!cache) {
      // deleted: its Jobs in its namespace go with it (owner reference); the others are deleted here
      this.triggers.forget(key);
      this.runner.awaited.forget(key);
      await this.runner.deleteOrphanedJobs(namespace, name);
      return {};
    }
    if (cache.metadata.deletionTimestamp) {
      this.runner.awaited.forget(key);
      return {};
    }
    try {
      return await this.reconcileCache(key, cache);
    } catch (err) {
      if (!(err instanceof StatusConflict)) throw err;
      // someone changed the object since it was read: decide again from the current one, at once
      this.log.debug('image cache changed while being reconciled; looking again', { cache: key });
      await this.fetch(namespace, name);
      return { requeueAfterMs: 0 };
    }
  }

  private async reconcileCache(key: string, cache: ImageCache): Promise<ReconcileResult> {
    const name = cache.metadata.name ?? '';
    if (cache.status?.status === Status.Processing) {
      const op = cache.status.operation;
      if (op?.id && op.type in RECONCILERS && op.cacheSpec) {
        return this.result(key, op.type, await this.runner.step(cache, op, RECONCILERS[op.type]));
      }
      // Processing written by another controller version (no operation record): run that operation anew
      // rather than leaving the cache Aborted.
      const type = operationFromReason(cache.status.reason) ?? 'create';
      this.log.info(`Adopting image cache ${name} left Processing without an operation record`, { cache: key, type });
      return this.result(key, type, await this.runner.start(cache, { type, cause: 'resumed after restart' }, RECONCILERS[type]));
    }

    this.runner.awaited.forget(key); // no operation in progress (whoever ended it)
    if (!this.retainJobs) {
      const leftovers = await this.runner.deleteJobs(cache);
      if (leftovers > 0) this.log.debug('deleted Jobs of finished operations', { cache: key, jobs: leftovers });
    }
    // images that follow workloads: the spec to apply, and the images in their grace period
    let effective: EffectiveSpec | undefined;
    if (this.workloads && usesWorkloads(cache)) {
      effective = effectiveSpec(cache, this.workloads.list(), Date.now(), this.workloads.graceMs);
      if (!sameRetiring(effective.retiring, cache.status?.retiringImages)) {
        await this.runner.updateStatus(cache, { retiringImages: effective.retiring });
        return { requeueAfterMs: 0 };
      }
    }
    const applied = cache.status?.lastAppliedSpec?.cacheSpec;
    const next = nextOperation({
      cache,
      refreshDue: this.triggers.isRefreshDue(key),
      joined: this.triggers.joined(key),
      workloadImagesChanged: effective !== undefined && applied !== undefined && !sameSpec(effective.cacheSpec, applied),
    });
    if (!next) {
      this.triggers.dropDisallowed(key, cache);
      // a grace period that ends re-plans the cache then
      return effective?.nextExpiryMs ? { requeueAfterMs: Math.max(0, effective.nextExpiryMs - Date.now()) + 100 } : {};
    }
    if (effective) next.cacheSpec = effective.cacheSpec;
    const wait = next.nodes ? this.triggers.nodeWorkDelay(key) : 0;
    if (wait > 0) return { requeueAfterMs: wait }; // node-triggered work is rate-limited per cache
    const res = await this.runner.start(cache, next, RECONCILERS[next.type]);
    // only the operation that does the work consumes its trigger
    this.triggers.consume(key, next);
    return this.result(key, next.type, res);
  }

  /** GETs the cache and records it as the freshest known copy. */
  private async fetch(namespace: string, name: string): Promise<ImageCache | undefined> {
    const cache = await this.api.get(namespace, name);
    if (cache) this.caches?.remember(cache);
    return cache;
  }

  private result(key: string, operation: OperationType, r: StepResult): ReconcileResult {
    if (!r.done) return { requeueAfterMs: r.requeueAfterMs, operation };
    // nodes that joined during the operation and got every image from it need no refresh of their own
    this.triggers.consumeNodes(key, r.fullyCovered);
    if (r.warm.length > 0) this.onWarm?.(key, r.warm);
    // When an operation ends, look again at once: a trigger that arrived meanwhile starts the next one.
    return { requeueAfterMs: 0, operation };
  }
}
