// The ImageCache API (kubefledged.io/v1alpha2): types and identity.
// Field names and shapes are the compatibility contract of the original kube-fledged.

export const GROUP = 'kubefledged.io';
export const VERSION = 'v1alpha2';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'ImageCache';
export const PLURAL = 'imagecaches';
export const SINGULAR = 'imagecache';
export const SHORT_NAME = 'ic';

export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

/** The node affinity of a pod spec, required part only (what the controller can guarantee when it plans). */
export interface CacheNodeAffinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: {
      nodeSelectorTerms: { matchExpressions?: NodeSelectorRequirement[] }[];
    };
  };
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

/** A metav1.LabelSelector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: NodeSelectorRequirement[];
}

/** An image no workload uses any more, kept for a grace period from `since`. */
export interface RetiringImage {
  /** Index of the cacheSpec entry. */
  entry: number;
  image: string;
  since: string;
}

export interface CacheSpecEntry {
  images: string[];
  nodeSelector?: Record<string, string>;
  /** Additive: required node affinity, ANDed with nodeSelector. */
  affinity?: CacheNodeAffinity;
  /** Additive: the taints the pull pods tolerate; absent = every taint (the original's behaviour). */
  tolerations?: Toleration[];
  /** Additive: also cache the images of the Deployments, StatefulSets, DaemonSets and CronJobs of the cache's namespace matching this. */
  workloadSelector?: LabelSelector;
}

export interface LocalObjectReference {
  name: string;
}

export interface ImageCacheSpec {
  cacheSpec: CacheSpecEntry[];
  imagePullSecrets?: LocalObjectReference[];
}

/** One failed (image, node) pair in status.failures[image]. */
export interface NodeReasonMessage {
  /** Value of the node's kubernetes.io/hostname label (as the original reports it). */
  node: string;
  reason: string;
  message: string;
}

/** Aggregate counts of the current or last operation (additive, optional). */
export interface ImageCacheCounts {
  /** (image, node) pairs the operation covers. */
  desired: number;
  /** Pairs finished successfully (pulled, deleted, or already present). */
  succeeded: number;
  /** Pairs that failed. */
  failed: number;
  /** Pairs still pending or running. */
  pending: number;
}

/** A condition (the metav1.Condition shape, without observedGeneration). */
export interface ImageCacheCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface ImageCacheStatus {
  status: string;
  reason: string;
  message: string;
  failures?: Record<string, NodeReasonMessage[]>;
  /** Additive: per image, how many failed nodes `failures` leaves out (it lists at most a few per image). */
  failuresOmitted?: Record<string, number>;
  startTime: string;
  completionTime?: string;
  /** Additive: images no workload uses any more, kept until their grace period ends. */
  retiringImages?: RetiringImage[];
  /** Additive: conditions beside the original strings (pull Secrets exposing images, pull Secrets not found). */
  conditions?: ImageCacheCondition[];
  /** Additive: nodes the cache selects that were left out (cordoned, NotReady, platform), by reason. */
  skippedNodes?: { reason: string; count: number; nodes: string[] }[];
  /** Additive: metadata.generation the status describes. */
  observedGeneration?: number;
  /** Additive: progress counts. */
  counts?: ImageCacheCounts;
  /** Additive: the operation in flight or last run, recorded so a restarted controller resumes it. */
  operation?: OperationRecord;
  /** Additive: what the last completed operation left on the nodes (the base of an update's diff). */
  lastAppliedSpec?: { cacheSpec: CacheSpecEntry[] };
}

export type OperationType = 'create' | 'update' | 'refresh' | 'purge';

export interface OperationRecord {
  /** Short random id; every Job of the operation carries it in the label kubefledged.io/operation. */
  id: string;
  type: OperationType;
  /** metadata.generation of the spec the operation applies. */
  generation: number;
  /** When set, only these nodes are covered (a refresh for nodes that joined). */
  nodes?: string[];
  /** The cacheSpec the operation applies, fixed when it starts (a later edit becomes the next operation). Dropped when it ends. */
  cacheSpec?: CacheSpecEntry[];
  /** Pull only what the nodes' status says is missing (a node back from a short NotReady). */
  onlyMissing?: boolean;
  /** An operation covering part of the cache keeps the failures it does not evaluate again. Dropped when it ends. */
  previousFailures?: Record<string, NodeReasonMessage[]>;
}

export interface ObjectMetaLite {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
}

export interface ImageCache {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMetaLite;
  spec: ImageCacheSpec;
  status?: ImageCacheStatus;
}
