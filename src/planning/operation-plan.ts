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
import { TARGET_ALL, entryMatchesNode, nodeHostname, nodeImageNames, skipReason, type SkipReason, type TargetingPolicy } from './node-selection.js';
import { compareText } from '../util/compare.js';
import { sharedCopies } from '../util/memo.js';

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

/** What the spec asks of one node: its images by key, and its pull pods' tolerations; or why it is left out. */
interface NodePairs {
  /** Selected by at least one entry (its image map may still be empty). */
  selected: boolean;
  images: Map<string, ImageWork>;
  /** Union of the selecting entries' tolerations; undefined = every taint. */
  tolerations: V1Toleration[] | undefined;
  /** The first entry's reason to leave the node out, when no entry selects it. */
  skipped?: SkipReason;
}

function nodePairs(cacheSpec: readonly CacheSpecEntry[], node: V1Node, policy: TargetingPolicy): NodePairs {
  const out: NodePairs = { selected: false, images: new Map(), tolerations: [] };
  for (const entry of cacheSpec) {
    if (!entryMatchesNode(node, entry)) continue;
    const reason = skipReason(node, entry, policy);
    if (reason) {
      out.skipped ??= reason;
      continue;
    }
    out.selected = true;
    out.tolerations = out.tolerations === undefined || entry.tolerations === undefined ? undefined : [...out.tolerations, ...(entry.tolerations as V1Toleration[])];
    for (const image of entry.images ?? []) {
      const key = imageKey(image);
      const work = out.images.get(key);
      if (!work) out.images.set(key, { image, specImages: [image] });
      else if (!work.specImages.includes(image)) work.specImages.push(image);
    }
  }
  if (out.selected) delete out.skipped;
  for (const [key, w] of out.images) out.images.set(key, sharedImageWork(w));
  return out;
}

/**
 * One frozen ImageWork for each distinct (image, spellings), shared by every node whose spec asks for
 * it: at 1,000 nodes x 50 images the plans held 50,000 of them, kept beside the node objects.
 */
const sharedImageWork = sharedCopies<ImageWork>((w) => JSON.stringify([w.image, w.specImages]), (w) => {
  Object.freeze(w.specImages);
  return Object.freeze(w);
});

/** True when the image must be pulled although the node may have it (spec §3.2). */
export function mustPull(image: string, pullPolicy: PullPolicy, nodeImages: readonly string[]): boolean {
  if (pullPolicy !== 'IfNotPresent') return true;
  if (isLatestOrUntagged(image)) return true;
  return !imageMatchesNodeImage(image, nodeImages);
}

/** One node's part of a plan: its work (absent when there is none), or why it is left out. */
interface NodePlan {
  work?: NodeWork;
  skipped?: SkippedNode;
}

/**
 * Each node's part of a plan depends on the node object and the planning inputs alone, and the
 * informer replaces a node object on every change: so it is worked out once per (node object, inputs)
 * and kept beside the node object. Every pass of an operation plans again (level-based), which at 1,000
 * nodes x 50 images re-read 50,000 (node, image) pairs about once a second. The parts are shared
 * between passes: they are frozen.
 */
const nodePlans = new WeakMap<V1Node, Map<number, NodePlan>>();
/** The planning inputs (but the nodes), as small numbers: a node keeps its parts for a few of them. */
const contexts = new Map<string, number>();
const MAX_CONTEXTS = 1_000;
const MAX_PARTS_PER_NODE = 32;

function contextId(input: PlanInput, policy: TargetingPolicy): number {
  const key = JSON.stringify([input.type, input.cacheSpec, input.type === 'update' ? input.previousCacheSpec ?? [] : null, input.pullPolicy, !!input.onlyMissing, policy]);
  let id = contexts.get(key);
  if (id === undefined) {
    if (contexts.size >= MAX_CONTEXTS) contexts.clear();
    // ids are never reused: a node's part for a forgotten context is never taken for a new one
    contexts.set(key, (id = ++lastContextId));
  }
  return id;
}
let lastContextId = 0;

function planNode(node: V1Node, input: PlanInput, policy: TargetingPolicy): NodePlan {
  const name = node.metadata?.name ?? '';
  const selection = nodePairs(input.cacheSpec, node, policy);
  const previous = input.type === 'update' ? nodePairs(input.previousCacheSpec ?? [], node, policy).images : new Map<string, ImageWork>();
  const work: NodeWork = {
    node: name,
    hostname: nodeHostname(node),
    runtimeVersion: node.status?.nodeInfo?.containerRuntimeVersion ?? '',
    pulls: [],
    deletes: [],
    alreadyPresent: [],
    invalid: [],
    ...(selection.selected && selection.tolerations !== undefined ? { tolerations: dedupe(selection.tolerations) } : {}),
  };
  const wanted = selection.selected ? selection.images : new Map<string, ImageWork>();
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
      for (const [key, w] of wanted) if (!previous.has(key)) classify(w, 'pull');
      for (const [key, w] of previous) if (!wanted.has(key)) classify(w, 'delete');
      break;
  }
  const part: NodePlan = {};
  if (count(work) > 0) {
    for (const list of [work.pulls, work.deletes, work.alreadyPresent]) for (const w of list) Object.freeze(Object.freeze(w).specImages);
    for (const i of work.invalid) Object.freeze(Object.freeze(i.work).specImages);
    part.work = Object.freeze(work);
  }
  if (selection.skipped) part.skipped = Object.freeze({ node: name, hostname: nodeHostname(node), reason: selection.skipped });
  return Object.freeze(part);
}

function count(work: NodeWork): number {
  return work.pulls.length + work.deletes.length + work.alreadyPresent.length + work.invalid.length;
}

export function planOperation(input: PlanInput): OperationPlan {
  const filter = input.nodeFilter ? new Set(input.nodeFilter) : undefined;
  const policy = input.targeting ?? TARGET_ALL;
  const context = contextId(input, policy);
  const plan: OperationPlan = { nodes: [], desired: 0, skipped: [] };
  const parts: { name: string; part: NodePlan }[] = [];
  for (const node of input.nodes) {
    const name = node.metadata?.name ?? '';
    if (filter && !filter.has(name)) continue;
    let known = nodePlans.get(node);
    if (!known) nodePlans.set(node, (known = new Map()));
    let part = known.get(context);
    if (!part) {
      if (known.size >= MAX_PARTS_PER_NODE) known.clear();
      known.set(context, (part = planNode(node, input, policy)));
    }
    parts.push({ name, part });
  }
  parts.sort((a, b) => compareText(a.name, b.name));
  for (const { part } of parts) {
    if (part.work) {
      plan.nodes.push(part.work);
      plan.desired += count(part.work);
    }
    if (part.skipped) plan.skipped.push(part.skipped);
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
