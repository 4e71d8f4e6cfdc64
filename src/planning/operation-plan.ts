// The operation planner (pure): spec x nodes x node images -> the work of one operation, per node.
//   create / refresh : every image of the spec on every matching node (minus images already present
//                      when the pull policy is IfNotPresent)
//   update           : pull the (node, image) pairs the new spec adds, delete the pairs it drops,
//                      compared with the spec the previous operation applied (status.lastAppliedSpec)
//   purge            : delete every image of the spec on every matching node
import type { V1Node, V1Toleration } from '@kubernetes/client-node';
import type { CacheSpecEntry, OperationType } from '../api/imagecache.js';
import {
  imageMatchesNodeImage,
  isLatestOrUntagged,
  normalizeImageReference,
  parseImageReference,
} from '../images/image-reference.js';
import { TARGET_ALL, nodeHostname, nodeImageNames, selectNodes, type SkipReason, type TargetingPolicy } from './node-selection.js';
import { compareText } from '../util/compare.js';

export type Action = 'pull' | 'delete';
export type PullPolicy = 'IfNotPresent' | 'Always';

/** One image to act on, on one node. `specImages` are the strings of the spec that denote it. */
export interface ImageWork {
  /** The reference used in the Job (the first spelling found in the spec). */
  image: string;
  /** Every spelling in the spec that denotes this image (status.failures is keyed by these). */
  specImages: string[];
}

export interface NodeWork {
  node: string;
  hostname: string;
  runtimeVersion: string;
  pulls: ImageWork[];
  deletes: ImageWork[];
  /** Spec images already on the node: no Job needed, counted as done. */
  alreadyPresent: ImageWork[];
  /** Spec images that are not valid references: failed without a Job. */
  invalid: { work: ImageWork; message: string }[];
  /** Tolerations of the node's pull pods: the union of the covering entries'; undefined = every taint. */
  tolerations?: V1Toleration[];
}

/** A node the spec selects but the targeting policy leaves out. */
export interface SkippedNode {
  node: string;
  hostname: string;
  reason: SkipReason;
}

export interface OperationPlan {
  nodes: NodeWork[];
  /** (image, node) pairs the operation covers. */
  desired: number;
  /** Nodes selected by the spec and left out by the targeting policy (not selected by any other entry). */
  skipped: SkippedNode[];
}

export interface PlanInput {
  type: OperationType;
  cacheSpec: readonly CacheSpecEntry[];
  /** The spec the previous operation left on the nodes (update only). */
  previousCacheSpec?: readonly CacheSpecEntry[];
  nodes: readonly V1Node[];
  pullPolicy: PullPolicy;
  /** Only these nodes (by name), when set. */
  nodeFilter?: readonly string[];
  /** Pull only images the node's status does not list, whatever their tag or the pull policy. */
  onlyMissing?: boolean;
  /** Which selected nodes are left out (cordoned, NotReady, platform); default: none (the original). */
  targeting?: TargetingPolicy;
}

/** Key that identifies an image whatever its spelling (nginx == docker.io/library/nginx:latest). */
export function imageKey(image: string): string {
  return normalizeImageReference(image) ?? image;
}

type Pairs = Map<string, Map<string, ImageWork>>; // node name -> image key -> work

interface Selection {
  pairs: Pairs;
  /** node name -> tolerations of its pods (undefined = every taint) */
  tolerations: Map<string, V1Toleration[] | undefined>;
  skipped: Map<string, SkippedNode>;
}

function desiredPairs(cacheSpec: readonly CacheSpecEntry[], nodes: readonly V1Node[], policy: TargetingPolicy): Selection {
  const pairs: Pairs = new Map();
  const tolerations = new Map<string, V1Toleration[] | undefined>();
  const skipped = new Map<string, SkippedNode>();
  for (const entry of cacheSpec) {
    const { selected, skipped: left } = selectNodes(nodes, entry, policy);
    for (const { node, reason } of left) {
      const name = node.metadata?.name ?? '';
      if (!skipped.has(name)) skipped.set(name, { node: name, hostname: nodeHostname(node), reason });
    }
    for (const node of selected) {
      const name = node.metadata?.name ?? '';
      let images = pairs.get(name);
      if (!images) pairs.set(name, (images = new Map()));
      const had = tolerations.has(name) ? tolerations.get(name) : [];
      tolerations.set(name, had === undefined || entry.tolerations === undefined ? undefined : [...had, ...(entry.tolerations as V1Toleration[])]);
      for (const image of entry.images ?? []) {
        const key = imageKey(image);
        const work = images.get(key);
        if (!work) images.set(key, { image, specImages: [image] });
        else if (!work.specImages.includes(image)) work.specImages.push(image);
      }
    }
  }
  for (const name of pairs.keys()) skipped.delete(name);
  return { pairs, tolerations, skipped };
}

/** True when the image must be pulled although the node may have it (spec §3.2). */
export function mustPull(image: string, pullPolicy: PullPolicy, nodeImages: readonly string[]): boolean {
  if (pullPolicy !== 'IfNotPresent') return true;
  if (isLatestOrUntagged(image)) return true;
  return !imageMatchesNodeImage(image, nodeImages);
}

export function planOperation(input: PlanInput): OperationPlan {
  const filter = input.nodeFilter ? new Set(input.nodeFilter) : undefined;
  const nodes = input.nodes.filter((n) => !filter || filter.has(n.metadata?.name ?? ''));
  const policy = input.targeting ?? TARGET_ALL;
  const selection = desiredPairs(input.cacheSpec, nodes, policy);
  const target = selection.pairs;
  const previous: Pairs = input.type === 'update' ? desiredPairs(input.previousCacheSpec ?? [], nodes, policy).pairs : new Map();
  const plan: OperationPlan = { nodes: [], desired: 0, skipped: [...selection.skipped.values()].sort((a, b) => compareText(a.node, b.node)) };

  for (const node of [...nodes].sort((a, b) => compareText(a.metadata?.name ?? '', b.metadata?.name ?? ''))) {
    const name = node.metadata?.name ?? '';
    const work: NodeWork = {
      node: name,
      hostname: nodeHostname(node),
      runtimeVersion: node.status?.nodeInfo?.containerRuntimeVersion ?? '',
      pulls: [],
      deletes: [],
      alreadyPresent: [],
      invalid: [],
      ...(selection.tolerations.get(name) !== undefined ? { tolerations: dedupe(selection.tolerations.get(name)!) } : {}),
    };
    const wanted = target.get(name) ?? new Map<string, ImageWork>();
    const had = previous.get(name) ?? new Map<string, ImageWork>();
    const onNode = nodeImageNames(node);

    const classify = (w: ImageWork, action: 'pull' | 'delete') => {
      const parsed = parseImageReference(w.image);
      if (!parsed.ok) {
        work.invalid.push({ work: w, message: parsed.error });
      } else if (action === 'delete') {
        work.deletes.push(w);
      } else if (input.onlyMissing ? !imageMatchesNodeImage(w.image, onNode) : mustPull(w.image, input.pullPolicy, onNode)) {
        work.pulls.push(w);
      } else {
        work.alreadyPresent.push(w);
      }
    };

    switch (input.type) {
      case 'create':
      case 'refresh':
        for (const w of wanted.values()) classify(w, 'pull');
        break;
      case 'purge':
        for (const w of wanted.values()) classify(w, 'delete');
        break;
      case 'update':
        for (const [key, w] of wanted) if (!had.has(key)) classify(w, 'pull');
        for (const [key, w] of had) if (!wanted.has(key)) classify(w, 'delete');
        break;
    }
    const count = work.pulls.length + work.deletes.length + work.alreadyPresent.length + work.invalid.length;
    if (count > 0) {
      plan.nodes.push(work);
      plan.desired += count;
    }
  }
  return plan;
}

/** Splits a list into chunks of at most `size` (one Job per chunk). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function dedupe<T>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => { const k = JSON.stringify(i); if (seen.has(k)) return false; seen.add(k); return true; });
}
