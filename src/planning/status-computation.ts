// Status computation (pure): operation results -> the ImageCache status the original's readers expect.
import type { ImageCacheCounts, ImageCacheStatus, NodeReasonMessage, OperationRecord, OperationType } from '../api/imagecache.js';
import { Message, Reason, Status } from '../api/constants.js';
import type { Action } from './operation-plan.js';

/** The outcome of one (image, node) pair of an operation. */
export interface PairResult {
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
  for (const list of Object.values(failures)) list.sort((a, b) => a.node.localeCompare(b.node));
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
