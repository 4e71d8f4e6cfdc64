// Which nodes a cacheSpec entry covers (pure).
//   nodeSelector                      exact label match (AND); absent or {} = every node (the original)
//   affinity.nodeAffinity.required…   nodeSelectorTerms ORed, matchExpressions ANDed within a term
//                                     (In, NotIn, Exists, DoesNotExist, Gt, Lt), ANDed with nodeSelector
//   tolerations                       absent = tolerate every taint (the original); present = a node is
//                                     covered only when they tolerate its NoSchedule/NoExecute taints
// and, by the controller's targeting policy, which selected nodes are skipped (and reported): cordoned,
// NotReady, or an OS / architecture the pull pod cannot run on.
import type { V1Node, V1NodeSelectorRequirement, V1Taint, V1Toleration } from '@kubernetes/client-node';
import { HOSTNAME_LABEL, WARMING_TAINT_KEY } from '../api/constants.js';
import type { CacheSpecEntry } from '../api/imagecache.js';

/** Which selected nodes are left out, and why. Each switch restores the original's behaviour when off. */
export interface TargetingPolicy {
  skipCordoned: boolean;
  skipNotReady: boolean;
  /** kubernetes.io/os values the pull pod runs on; empty = any. */
  operatingSystems: readonly string[];
  /** kubernetes.io/arch values the images of the project run on; empty = any. */
  architectures: readonly string[];
}

/** The original's behaviour: every selected node, whatever its state. */
export const TARGET_ALL: TargetingPolicy = { skipCordoned: false, skipNotReady: false, operatingSystems: [], architectures: [] };

export type SkipReason = 'Cordoned' | 'NotReady' | 'UnsupportedPlatform' | 'TaintNotTolerated';

/** Exact-match label selector: every pair must be present (AND); an empty or absent selector matches all nodes. */
export function nodeMatchesSelector(node: V1Node, selector: Record<string, string> | undefined): boolean {
  const labels = node.metadata?.labels ?? {};
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** One matchExpression of a node selector term, as the scheduler evaluates it. */
export function requirementMatches(labels: Record<string, string>, r: V1NodeSelectorRequirement): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return has && values.includes(value!);
    case 'NotIn': return !has || !values.includes(value!);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1 || !/^-?\d+$/.test(value!) || !/^-?\d+$/.test(values[0]!)) return false;
      const a = BigInt(value!);
      const b = BigInt(values[0]!);
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default: return false;
  }
}

/** The entry's required node affinity: terms ORed, expressions ANDed; absent = every node. */
export function nodeMatchesAffinity(node: V1Node, entry: Pick<CacheSpecEntry, 'affinity'>): boolean {
  const terms = entry.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return true;
  const labels = node.metadata?.labels ?? {};
  return terms.some((t) => (t.matchExpressions ?? []).every((r) => requirementMatches(labels, r)));
}

/** Whether a toleration tolerates a taint (the scheduler's rule). */
export function tolerates(t: V1Toleration, taint: V1Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if ((t.operator ?? 'Equal') === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/**
 * Whether the tolerations (absent = all) tolerate every NoSchedule / NoExecute taint of the node. The
 * warming taint does not count: it is there to be lifted once the images are on the node.
 */
export function toleratesNode(node: V1Node, tolerations: readonly V1Toleration[] | undefined): boolean {
  if (tolerations === undefined) return true;
  return (node.spec?.taints ?? [])
    .filter((taint) => (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && taint.key !== WARMING_TAINT_KEY)
    .every((taint) => tolerations.some((t) => tolerates(t, taint)));
}

/** Whether the entry selects the node by labels (nodeSelector AND affinity). */
export function entryMatchesNode(node: V1Node, entry: Pick<CacheSpecEntry, 'nodeSelector' | 'affinity'>): boolean {
  return nodeMatchesSelector(node, entry.nodeSelector) && nodeMatchesAffinity(node, entry);
}

export function nodeIsReady(node: V1Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Why the policy leaves a selected node out, if it does. */
export function skipReason(node: V1Node, entry: Pick<CacheSpecEntry, 'tolerations'>, policy: TargetingPolicy): SkipReason | undefined {
  if (policy.operatingSystems.length || policy.architectures.length) {
    const labels = node.metadata?.labels ?? {};
    const os = labels['kubernetes.io/os'] ?? node.status?.nodeInfo?.operatingSystem;
    const arch = labels['kubernetes.io/arch'] ?? node.status?.nodeInfo?.architecture;
    if ((os && policy.operatingSystems.length && !policy.operatingSystems.includes(os))
      || (arch && policy.architectures.length && !policy.architectures.includes(arch))) return 'UnsupportedPlatform';
  }
  if (policy.skipCordoned && node.spec?.unschedulable) return 'Cordoned';
  if (policy.skipNotReady && !nodeIsReady(node)) return 'NotReady';
  if (!toleratesNode(node, entry.tolerations)) return 'TaintNotTolerated';
  return undefined;
}

/** The nodes an entry covers, and those it selects but the policy leaves out. */
export function selectNodes(
  nodes: readonly V1Node[],
  entry: Pick<CacheSpecEntry, 'nodeSelector' | 'affinity' | 'tolerations'>,
  policy: TargetingPolicy = TARGET_ALL,
): { selected: V1Node[]; skipped: { node: V1Node; reason: SkipReason }[] } {
  const selected: V1Node[] = [];
  const skipped: { node: V1Node; reason: SkipReason }[] = [];
  for (const n of nodes) {
    if (!entryMatchesNode(n, entry)) continue;
    const reason = skipReason(n, entry, policy);
    if (reason) skipped.push({ node: n, reason });
    else selected.push(n);
  }
  return { selected, skipped };
}

/** The name status.failures reports for a node: its kubernetes.io/hostname label (as the original), else its name. */
export function nodeHostname(node: V1Node): string {
  return node.metadata?.labels?.[HOSTNAME_LABEL] ?? node.metadata?.name ?? '';
}

/** Every image name the node's runtime reports (node.status.images[].names). */
export function nodeImageNames(node: V1Node): readonly string[] {
  // once per node object (the informer replaces the object on every change): every pass asks it for
  // every image of every cache, and the same array lets imageMatchesNodeImage keep its index of it
  let names = imageNamesOf.get(node);
  if (!names) imageNamesOf.set(node, (names = Object.freeze((node.status?.images ?? []).flatMap((i) => i.names ?? []))));
  return names;
}
const imageNamesOf = new WeakMap<V1Node, readonly string[]>();
