// On the purge annotation: delete every image of the cache from every matching node, then remove the
// annotation. Nothing is left applied, so the timer does not refresh a purged cache.
import { Annotation } from '../api/constants.js';
import type { OperationReconciler } from './operation-reconciler.js';

export const purgeReconciler: OperationReconciler = {
  type: 'purge',
  planInput: (_cache, op, nodes, pullPolicy) => ({ type: 'purge', cacheSpec: op.cacheSpec, nodes, pullPolicy, nodeFilter: op.nodes }),
  appliedSpecAfter: () => [],
  annotationToRemove: Annotation.Purge,
};
