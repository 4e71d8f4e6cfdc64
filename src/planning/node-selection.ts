// Which nodes a cacheSpec entry covers (pure).
import type { V1Node } from '@kubernetes/client-node';
import { HOSTNAME_LABEL } from '../api/constants.js';

/** Exact-match label selector: every pair must be present (AND); an empty or absent selector matches all nodes. */
export function nodeMatchesSelector(node: V1Node, selector: Record<string, string> | undefined): boolean {
  const labels = node.metadata?.labels ?? {};
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

export function selectNodes(nodes: readonly V1Node[], selector: Record<string, string> | undefined): V1Node[] {
  return nodes.filter((n) => nodeMatchesSelector(n, selector));
}

/** The name status.failures reports for a node: its kubernetes.io/hostname label (as the original), else its name. */
export function nodeHostname(node: V1Node): string {
  return node.metadata?.labels?.[HOSTNAME_LABEL] ?? node.metadata?.name ?? '';
}

export function nodeIsReady(node: V1Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Every image name the node's runtime reports (node.status.images[].names). */
export function nodeImageNames(node: V1Node): string[] {
  return (node.status?.images ?? []).flatMap((i) => i.names ?? []);
}
