// On a spec edit: pull only the added images and delete only the removed ones, on the selected nodes,
// compared with what the previous operation left on the nodes (status.lastAppliedSpec).
import type { OperationReconciler } from './operation-reconciler.js';

export const updateReconciler: OperationReconciler = {
  type: 'update',
  planInput: (cache, op, nodes, pullPolicy) => ({
    type: 'update',
    cacheSpec: op.cacheSpec,
    previousCacheSpec: cache.status?.lastAppliedSpec?.cacheSpec ?? [],
    nodes,
    pullPolicy,
    nodeFilter: op.nodes,
  }),
  appliedSpecAfter: (op) => op.cacheSpec,
};
