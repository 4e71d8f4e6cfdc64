// The progress of one operation (pure): the plan compared with the Jobs that exist.
//
// For every (node, action, image) pair of the plan it answers one of:
//   covered   a Job of this operation handles it: its outcome (succeeded, failed, or pending until a deadline)
//   to create no Job handles it yet: it goes into a new Job (chunked, within the create budget)
//   deferred  no Job yet and no room under --jobs-max-surge: it waits for a Job to end
// and when to look again (the nearest deadline). Invariants the unit tests hold it to:
//   - every pending pair has a Job with a deadline, or is in a Job being created, or is deferred;
//   - a Job's name is derived from its work (operation, node, action, the images it covers), so two
//     different pieces of work never share a name, and the same work always gets the same name;
//   - a pending outcome turns into a failure at its pod's start deadline (counted from the pod's creation;
//     never started: unschedulable, node not running pods), on its Job's FailedCreate (pods not created),
//     or at its Job's pull deadline (a Job still without a pod included), so no pair waits beyond them;
//   - a Job whose pods were deleted before they ended (jobs/job-results.ts podsLost) is not a failure:
//     it is returned in lostJobs for the runner to delete, and its work gets a Job again (the runner names it anew),
//     until redoLostUntil (the operation's pull deadline); after that its images fail with PodsDeleted.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { chunk, imageKey, type Action, type ImageWork, type NodeWork, type OperationPlan } from './operation-plan.js';
import type { PairResult } from './status-computation.js';
import { expire, indexPodsByJob, jobComplete, jobOutcomes, podsLost, podsOfJob, type ImageOutcome } from '../jobs/job-results.js';
import { readJobWork, type JobWork } from '../jobs/job-labels.js';
import { parseImageReference } from '../images/image-reference.js';
import { stringInterner } from '../util/memo.js';

/** Why a Job's pods could not be created (the Job controller's FailedCreate Event). */
export interface CreateFailure {
  reason: string;
  message: string;
}

/**
 * The Job controller's FailedCreate messages of failures it retries itself (the API server unreachable,
 * overloaded or timing out): its pod comes later, so they are no reason to fail the Job's images.
 * Anything else (Pod Security, quota, an invalid pod) is taken as the reason the pod cannot be created.
 */
const TRANSIENT_CREATE_FAILURE = /connection refused|connection reset|i\/o timeout|TLS handshake timeout|context deadline exceeded|http2: client connection lost|\bEOF\b|Timeout: request did not complete|the server is currently unable to handle the request|the server was unable to return a response|has received too many requests|etcdserver: /i;

/** Whether a FailedCreate message says why the pod cannot be created, rather than a failure the Job controller retries. */
export function createFailureIsFinal(message: string): boolean {
  return !TRANSIENT_CREATE_FAILURE.test(message);
}

/** A Job to create: the work of one node, one action, at most maxImagesPerJob images. */
export interface JobRequest {
  node: NodeWork;
  action: Action;
  images: ImageWork[];
}

export interface ProgressInput {
  plan: OperationPlan;
  /** The Jobs of this operation (seen by the watch, plus those created and not yet seen). */
  jobs: readonly V1Job[];
  pods: readonly V1Pod[];
  now: number;
  /** --image-pull-deadline-duration, from a Job's creation. */
  pullDeadlineMs: number;
  /** A Job whose pod has not started this long after the pod's creation fails (at most the pull deadline); a Job with no pod fails on its FailedCreate or at the pull deadline. */
  startDeadlineMs: number;
  maxImagesPerJob: number;
  /** How many Jobs may be created now (--jobs-max-surge less the Jobs running); Infinity when uncapped. */
  createBudget: number;
  /** FailedCreate reasons of Jobs whose pods the Job controller could not create (by Job name). */
  createFailures: ReadonlyMap<string, CreateFailure>;
  /** Whether a Job can be built for this node and action (a delete Job needs a known runtime socket). */
  buildable(node: NodeWork, action: Action): CreateFailure | undefined;
  /** Caps on pulls beyond --jobs-max-surge (per node, per registry host); absent = none. */
  throttle?: Throttle;
  /** Until when (absolute ms) a Job whose pods were deleted is redone; absent = always. */
  redoLostUntil?: number;
}

/**
 * How many more pulls may start now (all caches count): pull pods on a node (--max-pull-pods-per-node),
 * and images being pulled from a registry host across the cluster (--max-pulls-per-registry).
 */
export interface Throttle {
  nodeSlots(node: string): number;
  registrySlots(registry: string): number;
  readonly maxPodsPerNode: number;
  readonly maxPullsPerRegistry: number;
}

/** The registry host of an image reference ("docker.io" for Docker Hub names). */
export function registryOf(image: string): string {
  const parsed = parseImageReference(image);
  return parsed.ok ? parsed.ref.registry : '';
}

export interface Progress {
  /** One result per (node, action, image) pair of the plan. */
  results: PairResult[];
  /** Jobs to create now. */
  create: JobRequest[];
  /** Jobs left for later: no room under --jobs-max-surge. */
  deferred: number;
  /** Jobs (namespace/name) of this operation every image of which has a final outcome (no longer running). */
  settledJobs: string[];
  /** Jobs without pods, past a short grace: where to look for a FailedCreate reason. */
  podlessJobs: string[];
  /** Jobs whose pods were deleted before they ended: to delete, so that their work gets a new Job. */
  lostJobs: V1Job[];
  /** Absolute time (ms) to look again: the nearest deadline of a pending outcome, or the end of a pod-less Job's grace. */
  nextDeadline?: number;
}

/** Pods may take a moment to appear; after this a pod-less Job is worth a FailedCreate look-up. */
export const PODLESS_GRACE_MS = 2_000;

/** True when the node's kubelet has taken the pod up (it reports container statuses or a phase past Pending). */
export function podStarted(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  if (phase && phase !== 'Pending') return true;
  return (pod.status?.containerStatuses?.length ?? 0) > 0 || (pod.status?.initContainerStatuses?.length ?? 0) > 0;
}

/** Why a Job's pod has not started: the scheduler's word, the FailedCreate Event, or the original's wording. */
export function notStartedFailure(job: V1Job, pods: readonly V1Pod[], createFailure: CreateFailure | undefined): CreateFailure {
  const name = job.metadata?.name ?? '';
  if (pods.length === 0) {
    return createFailure ?? { reason: `No pods matched job ${name}`, message: `No pods matched job ${name}` };
  }
  const scheduled = pods[0]?.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    return { reason: scheduled.reason || 'Unschedulable', message: scheduled.message || `pod ${pods[0]?.metadata?.name} could not be scheduled` };
  }
  return { reason: 'Pending', message: 'Check if node is ready' };
}

/** Where a pair is found among the Jobs: node|action|image key. */
export function pairKey(node: string, action: Action, image: string): string {
  return `${node}|${action}|${imageKey(image)}`;
}

const sharedKey = stringInterner(20_000);

/**
 * Where a pair is found among the Jobs of its node (a pass groups the Jobs' outcomes by node first):
 * action|image key, one string for every node. A key per (node, image) was 2 strings of about 80 bytes
 * for each of 50,000 pairs at 1,000 nodes x 50 images, kept beside the Jobs and the plan.
 */
function nodePairKey(action: Action, image: string): string {
  return sharedKey(`${action}|${imageKey(image)}`);
}

/** The object's creation time, or `otherwise` when it has none. */
function created(obj: V1Job | V1Pod, otherwise: number): number {
  const t = obj.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : otherwise;
}

/**
 * What a pass reads from one Job and its pods that does not depend on the time: the Job's work, its
 * pods, whether one started, and each container's outcome (pending ones before any deadline). The
 * informer replaces an object on every change, so these are worked out once per (Job object, pod
 * objects) and kept beside the Job object: at 1,000 nodes x 50 images a pass re-read 50,000 container
 * outcomes (and built their keys) about once a second, most of the controller's CPU in an operation.
 */
interface JobFacts {
  /** The candidate pods the facts were read from (identity): other pods, other facts. */
  readonly own: readonly V1Pod[];
  readonly work: JobWork;
  readonly name: string;
  readonly jobKey: string;
  /** The Job's creationTimestamp (ms); absent for a Job known only from its create: it is born at each pass. */
  readonly bornAt?: number;
  readonly pods: readonly V1Pod[];
  readonly started: boolean;
  /** Creation time of the Job's first pod, if it has one. */
  readonly podBorn?: number;
  readonly lost: boolean;
  readonly complete: boolean;
  /** Each container's outcome, with the pair keys of its images. */
  readonly outcomes: readonly Covered[];
  /** Whether one of the outcomes is pending (the deadlines apply to it). */
  readonly pending: boolean;
}

/** The outcome of one container of a Job, and the pair keys (nodePairKey) of the images it covers. */
interface Covered {
  readonly outcome: ImageOutcome;
  readonly keys: readonly string[];
}

const factsOf = new WeakMap<V1Job, JobFacts>();

/**
 * An outcome with its pair keys, once per outcome object and action: a shared outcome (every node's
 * "succeeded" of the same container and images, job-results.ts) gives one shared Covered, whose keys
 * are the same strings on every node (nodePairKey).
 */
const covers = new WeakMap<ImageOutcome, Partial<Record<Action, Covered>>>();

function coveredBy(outcome: ImageOutcome, action: Action): Covered {
  let byAction = covers.get(outcome);
  if (!byAction) covers.set(outcome, (byAction = {}));
  return (byAction[action] ??= Object.freeze({ outcome, keys: Object.freeze(outcome.specImages.map((img) => nodePairKey(action, img))) }));
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The facts of a Job, read again only when the Job or one of its candidate pods is another object. */
function jobFacts(job: V1Job, own: readonly V1Pod[], now: number): JobFacts | undefined {
  const known = factsOf.get(job);
  if (known && sameItems(known.own, own)) return known;
  const work = readJobWork(job.metadata?.annotations);
  if (!work) return undefined;
  const name = job.metadata?.name ?? '';
  const pods = podsOfJob(job, own);
  const outcomes = jobOutcomes(job, work, own).map((outcome) => coveredBy(outcome, work.action));
  const facts: JobFacts = {
    own: [...own],
    work,
    name,
    jobKey: `${job.metadata?.namespace ?? ''}/${name}`,
    ...(job.metadata?.creationTimestamp ? { bornAt: created(job, now) } : {}),
    pods,
    started: pods.some(podStarted),
    ...(pods.length ? { podBorn: Math.min(...pods.map((p) => created(p, now))) } : {}),
    lost: podsLost(job, own),
    complete: jobComplete(job),
    outcomes,
    pending: outcomes.some((c) => c.outcome.state === 'pending'),
  };
  factsOf.set(job, facts);
  return facts;
}

/**
 * What the Jobs of one node say this pass, Job by Job: the outcomes of a Job whose facts and deadline
 * states did not change since the last pass are the very same array (so a node whose Jobs all say the
 * same takes its results of the last pass: see nodeResults).
 */
type NodeCoverage = (readonly Covered[])[];

/** The outcome of every image of every Job, with the start and pull deadlines applied, by node. */
function jobResults(input: ProgressInput): { byNode: Map<string, NodeCoverage>; settled: string[]; podless: string[]; lost: V1Job[]; nextDeadline?: number } {
  const { now, pullDeadlineMs } = input;
  const startDeadlineMs = Math.min(input.startDeadlineMs, pullDeadlineMs);
  const byNode = new Map<string, NodeCoverage>();
  const cover = (node: string, outcomes: readonly Covered[]) => {
    const l = byNode.get(node);
    if (l) l.push(outcomes); else byNode.set(node, [outcomes]);
  };
  const settled: string[] = [];
  const podless: string[] = [];
  const lost: V1Job[] = [];
  let nextDeadline: number | undefined;
  const wake = (t: number) => { nextDeadline = nextDeadline === undefined ? t : Math.min(nextDeadline, t); };

  const candidates = indexPodsByJob(input.pods);
  for (const job of input.jobs) {
    const f = jobFacts(job, candidates(job), now);
    if (!f) continue;
    const { work, name, pods, started } = f;
    const born = f.bornAt ?? now;
    // The start deadline runs from the pod's creation: the time the Job controller takes to create it
    // (hundreds of Jobs at once on a busy control plane) is not the node's. A Job with no pod yet fails
    // at once on the Job controller's FailedCreate (its Event says why), else at the pull deadline.
    const startBy = f.podBorn === undefined ? born + pullDeadlineMs : Math.min(f.podBorn + startDeadlineMs, born + pullDeadlineMs);
    const createFailure = input.createFailures.get(name);
    if (f.lost) {
      const redo = now < (input.redoLostUntil ?? Infinity);
      const message = `the pods of Job ${name} were deleted before they ended${redo ? '; its work gets a new Job' : ''}`;
      cover(work.node, f.outcomes.map(({ outcome, keys }) => ({
        outcome: { container: outcome.container, specImages: outcome.specImages, state: redo ? 'pending' : 'failed', reason: 'PodsDeleted', message },
        keys,
      })));
      if (redo) lost.push(job);
      else settled.push(f.jobKey);
      continue;
    }
    if (pods.length === 0 && !f.complete) {
      if (now - born >= PODLESS_GRACE_MS) podless.push(name);
      else wake(born + PODLESS_GRACE_MS); // look again when a missing pod means something
    }
    if (!f.pending) {
      cover(work.node, f.outcomes);
      settled.push(f.jobKey);
      continue;
    }
    let allFinal = true;
    let changed: Covered[] | undefined;
    f.outcomes.forEach((c, i) => {
      let o = c.outcome;
      if (o.state !== 'pending') return;
      if (!started && (createFailure || now >= startBy)) {
        o = { ...o, state: 'failed', ...notStartedFailure(job, pods, createFailure) };
      } else if (now >= born + pullDeadlineMs) {
        o = expire(o);
      } else {
        wake(started ? born + pullDeadlineMs : startBy);
        allFinal = false;
        return;
      }
      (changed ??= [...f.outcomes])[i] = { outcome: o, keys: c.keys };
    });
    cover(work.node, changed ?? f.outcomes);
    if (allFinal) settled.push(f.jobKey);
  }
  return { byNode, settled, podless, lost, nextDeadline };
}

/** The pair keys of a node's work (nodePairKey of each image), once per NodeWork object. */
interface WorkKeys {
  readonly present: readonly string[];
  readonly pulls: readonly string[];
  readonly deletes: readonly string[];
}
const keysOf = new WeakMap<NodeWork, WorkKeys>();

function workKeys(node: NodeWork): WorkKeys {
  let k = keysOf.get(node);
  if (!k) {
    k = {
      present: node.alreadyPresent.map((w) => nodePairKey('pull', w.image)),
      pulls: node.pulls.map((w) => nodePairKey('pull', w.image)),
      deletes: node.deletes.map((w) => nodePairKey('delete', w.image)),
    };
    keysOf.set(node, k);
  }
  return k;
}

/**
 * The results of a node all of whose work has a Job, by what its Jobs said (identity): when a pass finds
 * the same (the same Job and pod objects, no deadline passed), it takes the same results.
 */
const nodeResults = new WeakMap<NodeWork, { coverage: NodeCoverage; results: readonly PairResult[] }>();

/** Compares the plan with the Jobs: results per pair, the Jobs to create, and when to look again. */
export function operationProgress(input: ProgressInput): Progress {
  const { byNode, settled, podless, lost, nextDeadline } = jobResults(input);
  const results: PairResult[] = [];
  const create: JobRequest[] = [];
  let budget = input.createBudget;
  let deferred = 0;
  const nodeUsed = new Map<string, number>();
  const registryUsed = new Map<string, number>();

  for (const node of input.plan.nodes) {
    const pair = (w: ImageWork, action: Action, state: PairResult['state'], reason = '', message = ''): PairResult => ({
      node: node.node, hostname: node.hostname, action, specImages: w.specImages, state, reason, message,
    });
    const coverage = byNode.get(node.node) ?? [];
    const known = nodeResults.get(node);
    if (known && sameItems(known.coverage, coverage)) {
      for (const r of known.results) results.push(r);
      continue;
    }
    const keys = workKeys(node);
    const covered = new Map<string, ImageOutcome>();
    for (const outcomes of coverage) for (const { outcome, keys: k } of outcomes) for (const key of k) covered.set(key, outcome);
    let allCovered = true;
    const first = results.length;
    for (const { work, message } of node.invalid) results.push(pair(work, 'pull', 'failed', 'InvalidImageName', message));
    node.alreadyPresent.forEach((w, i) => {
      // present on the node: done, unless a Job of this operation pulled it and failed (its outcome is the truth)
      const o = covered.get(keys.present[i]!);
      results.push(o && o.state === 'failed' ? pair(w, 'pull', o.state, o.reason, o.message) : pair(w, 'pull', 'succeeded'));
    });
    for (const action of ['pull', 'delete'] as const) {
      const uncovered: ImageWork[] = [];
      const actionKeys = action === 'pull' ? keys.pulls : keys.deletes;
      (action === 'pull' ? node.pulls : node.deletes).forEach((w, i) => {
        const o = covered.get(actionKeys[i]!);
        if (o) results.push(pair(w, action, o.state, o.reason, o.message));
        else uncovered.push(w);
      });
      if (uncovered.length === 0) continue;
      allCovered = false;
      const unbuildable = input.buildable(node, action);
      if (unbuildable) {
        for (const w of uncovered) results.push(pair(w, action, 'failed', unbuildable.reason, unbuildable.message));
        continue;
      }
      // pulls also wait for a slot on their node and from their registry
      let ready = uncovered;
      if (action === 'pull' && input.throttle) {
        const t = input.throttle;
        ready = [];
        const nodeFull = nodeUsed.get(node.node) ?? 0;
        if (t.maxPodsPerNode > 0 && t.nodeSlots(node.node) - nodeFull <= 0) {
          deferred += 1;
          for (const w of uncovered) results.push(pair(w, action, 'pending', 'PullDeferred', `Waiting: at most ${t.maxPodsPerNode} pull pods per node (--max-pull-pods-per-node)`));
          continue;
        }
        for (const w of uncovered) {
          const reg = registryOf(w.image);
          const used = registryUsed.get(reg) ?? 0;
          if (t.maxPullsPerRegistry > 0 && t.registrySlots(reg) - used <= 0) {
            results.push(pair(w, action, 'pending', 'PullDeferred', `Waiting: at most ${t.maxPullsPerRegistry} concurrent pulls from ${reg} (--max-pulls-per-registry)`));
            deferred += 1;
          } else {
            ready.push(w);
            registryUsed.set(reg, used + 1);
          }
        }
      }
      for (const images of chunk(ready, input.maxImagesPerJob)) {
        const nodeFull = input.throttle && action === 'pull' && input.throttle.maxPodsPerNode > 0
          && input.throttle.nodeSlots(node.node) - (nodeUsed.get(node.node) ?? 0) <= 0;
        if (budget > 0 && !nodeFull) {
          budget -= 1;
          if (action === 'pull') nodeUsed.set(node.node, (nodeUsed.get(node.node) ?? 0) + 1);
          create.push({ node, action, images });
          for (const w of images) results.push(pair(w, action, 'pending', 'JobPending', 'The Job is being created'));
        } else {
          deferred += 1;
          for (const w of images) {
            results.push(nodeFull
              ? pair(w, action, 'pending', 'PullDeferred', `Waiting: at most ${input.throttle!.maxPodsPerNode} pull pods per node (--max-pull-pods-per-node)`)
              : pair(w, action, 'pending', 'JobDeferred', 'Waiting for a Job slot (--jobs-max-surge)'));
            if (action === 'pull' && input.throttle) {
              const reg = registryOf(w.image);
              registryUsed.set(reg, (registryUsed.get(reg) ?? 1) - 1);
            }
          }
        }
      }
    }
    if (allCovered) nodeResults.set(node, { coverage, results: results.slice(first) });
  }
  return { results, create, deferred, settledJobs: settled, podlessJobs: podless, lostJobs: lost, ...(nextDeadline !== undefined ? { nextDeadline } : {}) };
}
