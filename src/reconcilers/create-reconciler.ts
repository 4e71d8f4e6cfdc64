// On create: pull every image of the spec onto every node its selector matches (images already on a node
// are skipped with IfNotPresent). The status reports every (image, node) pair; the spec becomes what the
// cache has applied (the base of the next update's diff).
import type { OperationReconciler } from './operation-reconciler.js';
import { specOf } from './operation-reconciler.js';

export const createReconciler: OperationReconciler = {
  type: 'create',
  planInput: (cache, op, nodes, pullPolicy) => ({ type: 'create', cacheSpec: specOf(cache, op), nodes, pullPolicy, nodeFilter: op.nodes }),
  annotationsToRemove: [],
  appliedSpecAfter: (op) => op.cacheSpec ?? [],
};
