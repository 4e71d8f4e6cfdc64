// What differs between the four operations (create, update, refresh, purge); everything they share
// (planning, Jobs, results, status) is in operation-runner.ts.
import type { CacheSpecEntry, ImageCache, OperationRecord, OperationType } from '../api/imagecache.js';
import type { PlanInput, PullPolicy } from '../planning/operation-plan.js';
import type { V1Node } from '@kubernetes/client-node';

export interface OperationReconciler {
  readonly type: OperationType;
  /** The planner's input for this operation. */
  planInput(cache: ImageCache, op: OperationRecord, nodes: readonly V1Node[], pullPolicy: PullPolicy): PlanInput;
  /** What the cache has on the nodes once the operation is done (the next update diffs against it). */
  appliedSpecAfter(op: OperationRecord): CacheSpecEntry[];
  /** The trigger annotations the operation consumes: removed when it ends. */
  readonly annotationsToRemove: readonly string[];
}

/** The cacheSpec an operation applies: the one recorded when it started (the object's as a fallback). */
export function specOf(cache: ImageCache, op: OperationRecord): CacheSpecEntry[] {
  return op.cacheSpec ?? cache.spec.cacheSpec ?? [];
}
