// What the controller does next for a cache that is not Processing (pure). Triggers are levels, not
// events, so nothing is lost when they arrive during an operation: they are simply still true after it.
import type { CacheSpecEntry, ImageCache, OperationType } from '../api/imagecache.js';
import { Annotation, Reason, Status } from '../api/constants.js';

export interface NextOperationInput {
  cache: ImageCache;
  /** The periodic refresh is due for this cache. */
  refreshDue: boolean;
  /** Nodes that joined (or became Ready) and match the cache, not yet covered. */
  joined: JoinedNodes;
  /** The images the cache's workloads use differ from what it last applied. */
  workloadImagesChanged?: boolean;
}

/** Nodes to cache onto: every image (new to the cache), or only what their status says is missing (back from a short NotReady). */
export interface JoinedNodes {
  full: readonly string[];
  onlyMissing: readonly string[];
}

export interface NextOperation {
  type: OperationType;
  /** Only these nodes, when set. */
  nodes?: string[];
  /** Pull only what the nodes' status says is missing. */
  onlyMissing?: boolean;
  /** The spec to apply when it is not the object's (workload images added). */
  cacheSpec?: CacheSpecEntry[];
  /** Why: for the log. */
  cause: string;
}

/** A purged cache, or one the original failed validation on, is not refreshed by the timer (spec §2.6). */
export function refreshAllowed(cache: ImageCache): boolean {
  const st = cache.status;
  if (!st?.status) return false;
  if (st.status === Status.Processing) return false;
  if (st.status === Status.Failed && st.reason === Reason.CacheSpecValidationFailed) return false;
  return st.reason !== Reason.ImageCachePurge;
}

export function specChanged(cache: ImageCache): boolean {
  const st = cache.status;
  const generation = cache.metadata.generation;
  // A status without observedGeneration was written by the original controller: treat it as current.
  if (generation === undefined || st?.observedGeneration === undefined) return false;
  return generation > st.observedGeneration;
}

export function nextOperation(input: NextOperationInput): NextOperation | undefined {
  const { cache } = input;
  const annotations = cache.metadata.annotations ?? {};
  if (cache.metadata.deletionTimestamp) return undefined;
  if (!cache.status?.status) return { type: 'create', cause: 'new image cache' };
  if (cache.status.status === Status.Processing) return undefined;
  if (Annotation.Purge in annotations) return { type: 'purge', cause: `annotation ${Annotation.Purge}` };
  if (specChanged(cache)) return { type: 'update', cause: `spec changed (generation ${cache.metadata.generation})` };
  if (input.workloadImagesChanged && cache.status.reason !== Reason.ImageCachePurge) {
    return { type: 'update', cause: 'the images of the selected workloads changed' };
  }
  if (Annotation.Refresh in annotations) return { type: 'refresh', cause: `annotation ${Annotation.Refresh}` };
  if (input.refreshDue && refreshAllowed(cache)) return { type: 'refresh', cause: 'periodic refresh' };
  if (refreshAllowed(cache)) {
    const { full, onlyMissing } = input.joined;
    if (full.length > 0) return { type: 'refresh', nodes: [...full].sort(), cause: `node(s) joined: ${full.join(', ')}` };
    if (onlyMissing.length > 0) {
      return { type: 'refresh', nodes: [...onlyMissing].sort(), onlyMissing: true, cause: `node(s) back from NotReady: ${onlyMissing.join(', ')}` };
    }
  }
  return undefined;
}
