// On the refresh annotation, the refresh timer, or nodes joining: pull the spec's images again (images
// already on a node are skipped with IfNotPresent; a node back from a short NotReady gets only what its
// status says is missing), then remove the refresh annotation. A refresh of some nodes carries the earlier
// failures of the other nodes, so the status describes the whole cache.
import { Annotation } from '../api/constants.js';
import type { OperationReconciler } from './operation-reconciler.js';
import { specOf } from './operation-reconciler.js';

export const refreshReconciler: OperationReconciler = {
  type: 'refresh',
  planInput: (cache, op, nodes, pullPolicy) => ({
    type: 'refresh', cacheSpec: specOf(cache, op), nodes, pullPolicy, nodeFilter: op.nodes, onlyMissing: op.onlyMissing,
  }),
  annotationsToRemove: [Annotation.Refresh],
  appliedSpecAfter: (op) => op.cacheSpec ?? [],
};
