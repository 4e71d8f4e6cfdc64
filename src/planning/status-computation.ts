// Status computation (pure): operation results -> the ImageCache status the original's readers expect.
import type { ImageCacheCounts, ImageCacheStatus, NodeReasonMessage, OperationRecord, OperationType } from '../api/imagecache.js';
import { Message, Reason, Status } from '../api/constants.js';
import type { Action, SkippedNode } from './operation-plan.js';
import { compareText } from '../util/compare.js';

/** The outcome of one (image, node) pair of an operation. */
export interface PairResult {
  /** The node's name. */
  node?: string;
  /** kubernetes.io/hostname of the node. */
  hostname: string;
  action: Action;
  specImages: string[];
  state: 'succeeded' | 'failed' | 'pending';
  reason: string;
  message: string;
}

export const REASON_BY_OPERATION: Record<OperationType, string> = {
  create: Reason.ImageCacheCreate,
  update: Reason.ImageCacheUpdate,
  refresh: Reason.ImageCacheRefresh,
  purge: Reason.ImageCachePurge,
};

export const PROCESSING_MESSAGE: Record<OperationType, string> = {
  create: Message.PullingImages,
  update: Message.UpdatingCache,
  refresh: Message.RefreshingCache,
  purge: Message.PurgeCache,
};

export function operationFromReason(reason: string | undefined): OperationType | undefined {
  return (Object.keys(REASON_BY_OPERATION) as OperationType[]).find((t) => REASON_BY_OPERATION[t] === reason);
}

export function countResults(results: readonly PairResult[]): ImageCacheCounts {
  const c: ImageCacheCounts = { desired: results.length, succeeded: 0, failed: 0, pending: 0 };
  for (const r of results) c[r.state] += 1;
  return c;
}

/** The status written when an operation starts (spec §2.7 step 3): failures reset, startTime now. */
export function processingStatus(operation: OperationRecord, now: Date, previous?: ImageCacheStatus): ImageCacheStatus {
  return {
    status: Status.Processing,
    reason: REASON_BY_OPERATION[operation.type],
    message: PROCESSING_MESSAGE[operation.type],
    failures: {},
    startTime: now.toISOString(),
    counts: { desired: 0, succeeded: 0, failed: 0, pending: 0 },
    operation,
    observedGeneration: previous?.observedGeneration,
    lastAppliedSpec: previous?.lastAppliedSpec,
  };
}

/** failures: image (as written in the spec) -> [{node, reason, message}], sorted for a stable status. */
export function failuresOf(results: readonly PairResult[]): Record<string, NodeReasonMessage[]> {
  const failures: Record<string, NodeReasonMessage[]> = {};
  for (const r of results) {
    if (r.state !== 'failed') continue;
    for (const image of r.specImages) {
      (failures[image] ??= []).push({ node: r.hostname, reason: r.reason, message: r.message });
    }
  }
  for (const list of Object.values(failures)) list.sort((a, b) => compareText(a.node, b.node));
  return failures;
}

/**
 * Final status of an operation (spec §2.8): NoImagesPulledOrDeleted when it covered no (image, node)
 * pair; Failed when any pair failed (the delete wording when only deletions failed); else Succeeded
 * (the delete wording when the operation only deleted).
 */
export function finalStatusFields(type: OperationType, results: readonly PairResult[]): Pick<ImageCacheStatus, 'status' | 'reason' | 'message' | 'failures' | 'counts'> {
  const reason = REASON_BY_OPERATION[type];
  const counts = countResults(results);
  if (results.length === 0) {
    return { status: Status.NoImagesPulledOrDeleted, reason, message: Message.NoImagesPulledOrDeleted, failures: {}, counts };
  }
  const failed = results.filter((r) => r.state === 'failed');
  if (failed.length > 0) {
    const pullFailed = failed.some((r) => r.action === 'pull');
    return {
      status: Status.Failed,
      reason,
      message: pullFailed ? Message.ImagePullFailedForSomeImages : Message.ImageDeleteFailedForSomeImages,
      failures: failuresOf(results),
      counts,
    };
  }
  const onlyDeletes = results.every((r) => r.action === 'delete');
  return {
    status: Status.Succeeded,
    reason,
    message: onlyDeletes ? Message.ImagesDeletedSuccessfully : Message.ImagesPulledSuccessfully,
    failures: {},
    counts,
  };
}

/** What the whole cache covers now, beyond the pairs an operation evaluated (a diff, or nodes that joined). */
export interface CacheScope {
  /** Distinct (node, image) pairs the spec covers on the nodes it selects now. */
  desired: number;
  /** Whether the image, as the spec writes it, is still wanted on the node with this hostname. */
  wants(image: string, hostname: string): boolean;
}

/** Bounds of status.failures, so a cache failing on every node stays far below the API's object limit. */
export interface FailureLimits {
  /** Nodes listed per image; the rest are counted in failuresOmitted. */
  maxNodesPerImage: number;
  /** Characters kept of each message. */
  maxMessageLength: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = { maxNodesPerImage: 10, maxMessageLength: 256 };

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Keeps at most maxNodesPerImage nodes per image (sorted by node), messages cut to maxMessageLength. */
export function boundFailures(
  failures: Record<string, NodeReasonMessage[]>,
  limits: FailureLimits = DEFAULT_FAILURE_LIMITS,
): { failures: Record<string, NodeReasonMessage[]>; omitted: Record<string, number> } {
  const out: Record<string, NodeReasonMessage[]> = {};
  const omitted: Record<string, number> = {};
  for (const [image, list] of Object.entries(failures)) {
    const sorted = [...list].sort((a, b) => compareText(a.node, b.node));
    out[image] = sorted.slice(0, limits.maxNodesPerImage).map((f) => ({
      node: f.node, reason: truncate(f.reason, 128), message: truncate(f.message, limits.maxMessageLength),
    }));
    if (sorted.length > limits.maxNodesPerImage) omitted[image] = sorted.length - limits.maxNodesPerImage;
  }
  return { failures: out, omitted };
}

/**
 * Failures of the previous status that this operation did not evaluate again and that still hold: the
 * image is still wanted on that node. An update (only the diff) or a refresh of nodes that joined keeps
 * them, so the status goes on describing the whole cache.
 */
export function carriedFailures(
  previous: Record<string, NodeReasonMessage[]> | undefined,
  results: readonly PairResult[],
  scope: CacheScope,
): Record<string, NodeReasonMessage[]> {
  // most operations carry nothing: no set of every evaluated pair (50,000 strings at 1,000 x 50) for them
  if (!previous || Object.keys(previous).length === 0) return {};
  const evaluated = new Set<string>();
  for (const r of results) if (r.action === 'pull') for (const img of r.specImages) evaluated.add(`${r.hostname}\n${img}`);
  const carried: Record<string, NodeReasonMessage[]> = {};
  for (const [image, list] of Object.entries(previous ?? {})) {
    for (const f of list) {
      if (evaluated.has(`${f.node}\n${image}`) || !scope.wants(image, f.node)) continue;
      (carried[image] ??= []).push(f);
    }
  }
  return carried;
}

function mergeFailures(a: Record<string, NodeReasonMessage[]>, b: Record<string, NodeReasonMessage[]>): Record<string, NodeReasonMessage[]> {
  const out: Record<string, NodeReasonMessage[]> = {};
  for (const [image, list] of [...Object.entries(a), ...Object.entries(b)]) (out[image] ??= []).push(...list);
  for (const list of Object.values(out)) list.sort((x, y) => compareText(x.node, y.node));
  return out;
}

/** Counts of the whole cache: its pairs (plus the deletions of this operation), failed, pending, the rest succeeded. */
export function cacheCounts(results: readonly PairResult[], scope: CacheScope, carried: Record<string, NodeReasonMessage[]>): ImageCacheCounts {
  const op = countResults(results);
  const deletes = results.filter((r) => r.action === 'delete').length;
  const desired = Math.max(scope.desired + deletes, op.desired);
  const failed = op.failed + Object.values(carried).reduce((n, l) => n + l.length, 0);
  const pending = op.pending;
  return { desired, succeeded: Math.max(0, desired - failed - pending), failed, pending };
}

/**
 * The final status of an operation, describing the whole cache (spec §2.8 strings):
 *  - purge: its own results (deleted wording; Failed when a deletion failed);
 *  - otherwise: NoImagesPulledOrDeleted only when the spec selects no node and nothing was done; Failed
 *    when a pair of this operation failed or an earlier failure still holds; else Succeeded with the pulled
 *    wording (the deleted wording only when the cache has nothing left to cache).
 * failures are bounded (boundFailures); the count left out is in failuresOmitted.
 */
/** Skipped nodes by reason: how many, and the first few names. */
export function skippedSummary(skipped: readonly SkippedNode[], maxNames = 10): NonNullable<ImageCacheStatus['skippedNodes']> {
  const by = new Map<string, string[]>();
  for (const s of skipped) (by.get(s.reason) ?? by.set(s.reason, []).get(s.reason)!).push(s.hostname);
  return [...by.entries()].sort(([a], [b]) => compareText(a, b))
    .map(([reason, nodes]) => ({ reason, count: nodes.length, nodes: [...nodes].sort().slice(0, maxNames) }));
}

export function cacheStatusFields(
  type: OperationType,
  results: readonly PairResult[],
  scope: CacheScope | undefined,
  previousFailures: Record<string, NodeReasonMessage[]> | undefined,
  limits: FailureLimits = DEFAULT_FAILURE_LIMITS,
  skipped: readonly SkippedNode[] = [],
): Pick<ImageCacheStatus, 'status' | 'reason' | 'message' | 'failures' | 'counts' | 'failuresOmitted' | 'skippedNodes'> {
  const skip = skipped.length ? { skippedNodes: skippedSummary(skipped) } : {};
  const bounded = (f: Pick<ImageCacheStatus, 'status' | 'reason' | 'message' | 'failures' | 'counts'>) => {
    const b = boundFailures(f.failures ?? {}, limits);
    return { ...f, failures: b.failures, ...(Object.keys(b.omitted).length ? { failuresOmitted: b.omitted } : {}), ...skip };
  };
  if (type === 'purge' || !scope) {
    if (results.length === 0 && skipped.length > 0) {
      return { status: Status.NoImagesPulledOrDeleted, reason: REASON_BY_OPERATION[type], message: Message.AllSelectedNodesSkipped, failures: {}, counts: countResults(results), ...skip };
    }
    return bounded(finalStatusFields(type, results));
  }
  const reason = REASON_BY_OPERATION[type];
  const carried = carriedFailures(previousFailures, results, scope);
  const counts = cacheCounts(results, scope, carried);
  if (scope.desired === 0 && results.length === 0) {
    const message = skipped.length > 0 ? Message.AllSelectedNodesSkipped : Message.NoImagesPulledOrDeleted;
    return { status: Status.NoImagesPulledOrDeleted, reason, message, failures: {}, counts, ...skip };
  }
  const failures = mergeFailures(failuresOf(results), carried);
  if (Object.keys(failures).length > 0) {
    const pullFailed = Object.keys(carried).length > 0 || results.some((r) => r.state === 'failed' && r.action === 'pull');
    return bounded({
      status: Status.Failed, reason,
      message: pullFailed ? Message.ImagePullFailedForSomeImages : Message.ImageDeleteFailedForSomeImages,
      failures, counts,
    });
  }
  const deletedOnly = scope.desired === 0 && results.length > 0 && results.every((r) => r.action === 'delete');
  return {
    status: Status.Succeeded, reason,
    message: deletedOnly ? Message.ImagesDeletedSuccessfully : Message.ImagesPulledSuccessfully,
    failures: {}, counts, ...skip,
  };
}
