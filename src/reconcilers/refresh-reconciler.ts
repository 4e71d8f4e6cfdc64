// On the refresh annotation, the refresh timer, or nodes joining: pull the spec's images again
// (images already on a node are skipped with IfNotPresent), then remove the annotation.
import { Annotation } from '../api/constants.js';
import type { OperationReconciler } from './operation-reconciler.js';

export const refreshReconciler: OperationReconciler = {
  type: 'refresh',
  planInput: (_cache, op, nodes, pullPolicy) => ({ type: 'refresh', cacheSpec: op.cacheSpec, nodes, pullPolicy, nodeFilter: op.nodes }),
  appliedSpecAfter: (op) => op.cacheSpec,
  annotationToRemove: Annotation.Refresh,
};
