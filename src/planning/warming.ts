// Warm before work (pure): when the controller lifts a node's startup taint (kubefledged.io/warming).
//   - no cache selects the node            -> lift it now (nothing to wait for)
//   - every cache that selects it is warm  -> lift it (Normal Event)
//   - the deadline passed                  -> lift it anyway (Warning Event naming the caches still cold),
//                                             so a stopped or failing controller cannot fence nodes forever
// A cache is warm on a node once an operation that pulled its whole spec onto that node ended without a
// failure there.
import type { V1Node } from '@kubernetes/client-node';
import { WARMING_TAINT_KEY } from '../api/constants.js';

export type WarmingDecision =
  | { action: 'wait'; cold: string[]; retryAtMs: number }
  | { action: 'lift'; why: 'warm' | 'no-cache' }
  | { action: 'lift'; why: 'deadline'; cold: string[] };

export function hasWarmingTaint(node: V1Node): boolean {
  return (node.spec?.taints ?? []).some((t) => t.key === WARMING_TAINT_KEY);
}

/** When the node started warming: its creation (the taint is set at registration). */
export function warmingSince(node: V1Node, nowMs: number): number {
  const t = node.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : nowMs;
}

export function warmingDecision(input: {
  node: V1Node;
  /** keys of the caches whose spec selects the node */
  selecting: readonly string[];
  /** keys of the caches warm on this node */
  warm: ReadonlySet<string>;
  nowMs: number;
  deadlineMs: number;
}): WarmingDecision {
  const cold = input.selecting.filter((k) => !input.warm.has(k)).sort();
  if (input.selecting.length === 0) return { action: 'lift', why: 'no-cache' };
  if (cold.length === 0) return { action: 'lift', why: 'warm' };
  const deadline = warmingSince(input.node, input.nowMs) + input.deadlineMs;
  if (input.nowMs >= deadline) return { action: 'lift', why: 'deadline', cold };
  return { action: 'wait', cold, retryAtMs: deadline };
}
