// reconcile(namespace/name): read the current ImageCache and move it one step towards its desired state.
// Level-based: the same state gives the same answer whatever event woke it (controller-runtime style).
import type { OperationType } from '../api/imagecache.js';
import { Status } from '../api/constants.js';
import { nextOperation } from '../planning/next-operation.js';
import { operationFromReason } from '../planning/status-computation.js';
import type { ImageCacheApi } from '../kube/imagecache-api.js';
import type { Logger } from '../operator/logger.js';
import { OperationRunner, type StepResult } from './operation-runner.js';
import type { OperationReconciler } from './operation-reconciler.js';
import { createReconciler } from './create-reconciler.js';
import { updateReconciler } from './update-reconciler.js';
import { refreshReconciler } from './refresh-reconciler.js';
import { purgeReconciler } from './purge-reconciler.js';

export const RECONCILERS: Record<OperationType, OperationReconciler> = {
  create: createReconciler,
  update: updateReconciler,
  refresh: refreshReconciler,
  purge: purgeReconciler,
};

/** Triggers that live in memory only: they are re-derived after a restart (timer, node watch). */
export class PendingTriggers {
  private readonly refreshDue = new Set<string>();
  private readonly joined = new Map<string, Set<string>>();

  markRefreshDue(key: string): void { this.refreshDue.add(key); }
  isRefreshDue(key: string): boolean { return this.refreshDue.has(key); }
  addJoinedNode(key: string, node: string): void {
    let s = this.joined.get(key);
    if (!s) this.joined.set(key, (s = new Set()));
    s.add(node);
  }
  joinedNodes(key: string): string[] { return [...(this.joined.get(key) ?? [])]; }
  /** An operation that covers the whole cache (or these nodes) consumes the matching triggers. */
  consume(key: string, type: OperationType, nodes?: readonly string[]): void {
    if (type === 'refresh' && nodes) {
      const s = this.joined.get(key);
      for (const n of nodes) s?.delete(n);
      return;
    }
    if (type !== 'purge') this.joined.delete(key);
    if (type !== 'purge') this.refreshDue.delete(key);
  }
  forget(key: string): void { this.refreshDue.delete(key); this.joined.delete(key); }
}

export type ReconcileResult = { requeueAfterMs?: number };

export class ImageCacheReconciler {
  constructor(
    private readonly api: ImageCacheApi,
    private readonly runner: OperationRunner,
    private readonly triggers: PendingTriggers,
    private readonly log: Logger,
    private readonly retainJobs: boolean,
  ) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    if (!namespace || !name) throw new Error(`unexpected key format: "${key}"`);
    const cache = await this.api.get(namespace, name);
    if (!cache) {
      this.triggers.forget(key); // deleted: its Jobs are garbage-collected through their owner reference
      return {};
    }
    if (cache.metadata.deletionTimestamp) return {};

    if (cache.status?.status === Status.Processing) {
      const op = cache.status.operation;
      if (op?.id && op.type in RECONCILERS) {
        return this.result(await this.runner.step(cache, op, RECONCILERS[op.type]));
      }
      // Processing written by another controller version (no operation record): run that operation anew
      // rather than leaving the cache Aborted.
      const type = operationFromReason(cache.status.reason) ?? 'create';
      this.log.info(`Adopting image cache ${name} left Processing without an operation record`, { cache: key, type });
      return this.result(await this.runner.start(cache, { type, cause: 'resumed after restart' }, RECONCILERS[type]));
    }

    if (!this.retainJobs) {
      const leftovers = await this.runner.deleteJobs(cache);
      if (leftovers > 0) this.log.debug('deleted Jobs of finished operations', { cache: key, jobs: leftovers });
    }
    const next = nextOperation({
      cache,
      refreshDue: this.triggers.isRefreshDue(key),
      joinedNodes: this.triggers.joinedNodes(key),
    });
    if (!next) {
      this.triggers.consume(key, 'refresh'); // a due refresh that is not allowed (purged cache) is dropped
      return {};
    }
    const res = await this.runner.start(cache, next, RECONCILERS[next.type]);
    this.triggers.consume(key, next.type, next.nodes);
    return this.result(res);
  }

  private result(r: StepResult): ReconcileResult {
    // When an operation ends, look again at once: a trigger that arrived meanwhile starts the next one.
    return r.done ? { requeueAfterMs: 0 } : { requeueAfterMs: r.requeueAfterMs };
  }
}

