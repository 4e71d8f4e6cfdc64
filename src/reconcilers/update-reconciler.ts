// On a spec edit: pull only the added images and delete only the removed ones, on the selected nodes,
// compared with what the previous operation left on the nodes (status.lastAppliedSpec). It covers only
// the diff, so its status carries the earlier failures of the pairs it leaves alone (the whole cache),
// and it consumes no node-join trigger (a node that joined still needs all of its images).
import type { OperationReconciler } from './operation-reconciler.js';
import { specOf } from './operation-reconciler.js';

export const updateReconciler: OperationReconciler = {
  type: 'update',
  planInput: (cache, op, nodes, pullPolicy) => ({
    type: 'update',
    cacheSpec: specOf(cache, op),
    previousCacheSpec: cache.status?.lastAppliedSpec?.cacheSpec ?? [],
    nodes,
    pullPolicy,
    nodeFilter: op.nodes,
  }),
  annotationsToRemove: [],
  appliedSpecAfter: (op) => op.cacheSpec ?? [],
};
