// Images that follow workloads (pure). A cacheSpec entry with a workloadSelector also caches every image
// (containers and init containers) of the Deployments, StatefulSets, DaemonSets and CronJobs of the cache's
// namespace whose labels match it. When a workload stops using an image, the image stays in the cache for
// a grace period (status.retiringImages records since when), unless another matching workload still uses
// it; after the grace the next update deletes it from the nodes.
import type { CacheSpecEntry, ImageCache, LabelSelector, RetiringImage } from '../api/imagecache.js';
import { requirementMatches } from './node-selection.js';

/** The parts of a workload the controller keeps (apps/v1 Deployment, StatefulSet, DaemonSet; batch/v1 CronJob). */
export interface WorkloadImages {
  kind: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  images: string[];
}

interface PodSpecLike { containers?: { image?: string }[]; initContainers?: { image?: string }[] }
interface WorkloadLike {
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: { template?: { spec?: PodSpecLike }; jobTemplate?: { spec?: { template?: { spec?: PodSpecLike } } } };
}

/** Only what the controller reads of a workload: its identity, labels and the images of its pod template. */
export function workloadImages(kind: string, obj: WorkloadLike): WorkloadImages {
  const pod = kind === 'CronJob' ? obj.spec?.jobTemplate?.spec?.template?.spec : obj.spec?.template?.spec;
  const images = [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].map((c) => c.image).filter((i): i is string => !!i);
  return { kind, namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '', labels: obj.metadata?.labels ?? {}, images: [...new Set(images)] };
}

/** A metav1.LabelSelector: matchLabels ANDed with matchExpressions; {} matches everything. */
export function labelSelectorMatches(labels: Record<string, string>, selector: LabelSelector): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return byLabels && (selector.matchExpressions ?? []).every((r) => requirementMatches(labels, r));
}

export function usesWorkloads(cache: ImageCache): boolean {
  return (cache.spec.cacheSpec ?? []).some((e) => e.workloadSelector !== undefined);
}

export interface EffectiveSpec {
  /** The entries with their workload images added (what an operation applies). */
  cacheSpec: CacheSpecEntry[];
  /**
   * What status.retiringImages must say: images in their grace period, and those whose grace ended
   * but that the cache still has applied (they stay recorded until the update that deletes them ends).
   */
  retiring: RetiringImage[];
  /** When the next grace period ends (ms), if any. */
  nextExpiryMs?: number;
}

/**
 * The spec an operation applies: each entry's images, plus the images of the matching workloads, plus
 * the images that left the workloads less than graceMs ago (and are in what the cache last applied).
 */
export function effectiveSpec(cache: ImageCache, workloads: readonly WorkloadImages[], nowMs: number, graceMs: number): EffectiveSpec {
  const applied = cache.status?.lastAppliedSpec?.cacheSpec ?? [];
  const before = cache.status?.retiringImages ?? [];
  const retiring: RetiringImage[] = [];
  let nextExpiryMs: number | undefined;
  const cacheSpec = (cache.spec.cacheSpec ?? []).map((entry, i) => {
    if (!entry.workloadSelector) return entry;
    const own = entry.images ?? [];
    const used = new Set<string>();
    for (const w of workloads) {
      if (w.namespace === cache.metadata.namespace && labelSelectorMatches(w.labels, entry.workloadSelector)) for (const img of w.images) used.add(img);
    }
    const images = [...own, ...[...used].filter((img) => !own.includes(img)).sort()];
    // images the cache applied for this entry that neither the entry nor a workload has any more
    for (const img of applied[i]?.images ?? []) {
      if (images.includes(img)) continue;
      const since = before.find((r) => r.entry === i && r.image === img)?.since ?? new Date(nowMs).toISOString();
      const ends = new Date(since).getTime() + graceMs;
      retiring.push({ entry: i, image: img, since });
      if (nowMs < ends) {
        images.push(img);
        nextExpiryMs = nextExpiryMs === undefined ? ends : Math.min(nextExpiryMs, ends);
      }
    }
    const { workloadSelector: _w, ...rest } = entry;
    return { ...rest, images, workloadSelector: entry.workloadSelector };
  });
  return { cacheSpec, retiring, ...(nextExpiryMs !== undefined ? { nextExpiryMs } : {}) };
}

/** status.retiringImages after an operation: the records of images the cache still has applied. */
export function retiringAfter(retiring: readonly RetiringImage[] | undefined, applied: readonly CacheSpecEntry[]): RetiringImage[] {
  return (retiring ?? []).filter((r) => (applied[r.entry]?.images ?? []).includes(r.image));
}

/** Whether two retiring lists say the same (order of keys and entries ignored). */
export function sameRetiring(a: readonly RetiringImage[] | undefined, b: readonly RetiringImage[] | undefined): boolean {
  const key = (l: readonly RetiringImage[] | undefined) => (l ?? []).map((r) => `${r.entry}\n${r.image}\n${new Date(r.since).getTime()}`).sort().join('|');
  return key(a) === key(b);
}

/** Whether two specs cover the same images on the same selections (image order ignored). */
export function sameSpec(a: readonly CacheSpecEntry[], b: readonly CacheSpecEntry[]): boolean {
  if (a.length !== b.length) return false;
  const key = (e: CacheSpecEntry) => canonical({ ...e, images: [...(e.images ?? [])].sort() });
  return a.every((e, i) => key(e) === key(b[i]!));
}

/** JSON with object keys sorted (what the API server stores may come back in another key order). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
