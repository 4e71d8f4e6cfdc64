// On the purge annotation: delete every image of the cache from every matching node (delete Jobs run the
// project's CRI client in the controller's namespace), then remove the annotation. Purge wins over
// refresh: a refresh annotation set with it (or during it) is consumed too, so the images are never pulled
// back. Nothing is left applied, so the timer does not refresh a purged cache.
import { Annotation } from '../api/constants.js';
import type { OperationReconciler } from './operation-reconciler.js';
import { specOf } from './operation-reconciler.js';

export const purgeReconciler: OperationReconciler = {
  type: 'purge',
  planInput: (cache, op, nodes, pullPolicy) => ({ type: 'purge', cacheSpec: specOf(cache, op), nodes, pullPolicy, nodeFilter: op.nodes }),
  annotationsToRemove: [Annotation.Purge, Annotation.Refresh],
  appliedSpecAfter: () => [],
};
