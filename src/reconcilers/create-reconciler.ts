// On create: pull every image of the spec onto every matching node.
import type { OperationReconciler } from './operation-reconciler.js';

export const createReconciler: OperationReconciler = {
  type: 'create',
  planInput: (_cache, op, nodes, pullPolicy) => ({ type: 'create', cacheSpec: op.cacheSpec, nodes, pullPolicy, nodeFilter: op.nodes }),
  appliedSpecAfter: (op) => op.cacheSpec,
};
