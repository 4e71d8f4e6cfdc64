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
//     it is returned in lostJobs for the runner to delete, and its work gets a Job again (the same name),
//     until redoLostUntil (the operation's pull deadline); after that its images fail with PodsDeleted.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { chunk, imageKey, type Action, type ImageWork, type NodeWork, type OperationPlan } from './operation-plan.js';
import type { PairResult } from './status-computation.js';
import { expire, indexPodsByJob, jobComplete, jobOutcomes, podsLost, podsOfJob, type ImageOutcome } from '../jobs/job-results.js';
import { readJobWork } from '../jobs/job-labels.js';
import { parseImageReference } from '../images/image-reference.js';

/** Why a Job's pods could not be created (the Job controller's FailedCreate Event). */
export interface CreateFailure {
  reason: string;
  message: string;
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

/** The object's creation time, or `otherwise` when it has none. */
function created(obj: V1Job | V1Pod, otherwise: number): number {
  const t = obj.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : otherwise;
}

/** The outcome of every image of every Job, with the start and pull deadlines applied. */
function jobResults(input: ProgressInput): { covered: Map<string, ImageOutcome>; settled: string[]; podless: string[]; lost: V1Job[]; nextDeadline?: number } {
  const { now, pullDeadlineMs } = input;
  const startDeadlineMs = Math.min(input.startDeadlineMs, pullDeadlineMs);
  const covered = new Map<string, ImageOutcome>();
  const settled: string[] = [];
  const podless: string[] = [];
  const lost: V1Job[] = [];
  let nextDeadline: number | undefined;
  const wake = (t: number) => { nextDeadline = nextDeadline === undefined ? t : Math.min(nextDeadline, t); };

  const candidates = indexPodsByJob(input.pods);
  for (const job of input.jobs) {
    const work = readJobWork(job.metadata?.annotations);
    if (!work) continue;
    const name = job.metadata?.name ?? '';
    const born = created(job, now);
    const own = candidates(job);
    const pods = podsOfJob(job, own);
    const started = pods.some(podStarted);
    // The start deadline runs from the pod's creation: the time the Job controller takes to create it
    // (hundreds of Jobs at once on a busy control plane) is not the node's. A Job with no pod yet fails
    // at once on the Job controller's FailedCreate (its Event says why), else at the pull deadline.
    const podBorn = pods.length ? Math.min(...pods.map((p) => created(p, born))) : undefined;
    const startBy = podBorn === undefined ? born + pullDeadlineMs : Math.min(podBorn + startDeadlineMs, born + pullDeadlineMs);
    const createFailure = input.createFailures.get(name);
    if (podsLost(job, own)) {
      const redo = now < (input.redoLostUntil ?? Infinity);
      const message = `the pods of Job ${name} were deleted before they ended${redo ? '; its work gets a new Job' : ''}`;
      for (const [container, specImages] of Object.entries(work.containers)) {
        const o: ImageOutcome = { container, specImages, state: redo ? 'pending' : 'failed', reason: 'PodsDeleted', message };
        for (const img of specImages) covered.set(pairKey(work.node, work.action, img), o);
      }
      if (redo) lost.push(job);
      else settled.push(`${job.metadata?.namespace ?? ''}/${name}`);
      continue;
    }
    if (pods.length === 0 && !jobComplete(job)) {
      if (now - born >= PODLESS_GRACE_MS) podless.push(name);
      else wake(born + PODLESS_GRACE_MS); // look again when a missing pod means something
    }
    let allFinal = true;
    for (let o of jobOutcomes(job, work, own)) {
      if (o.state === 'pending') {
        if (!started && (createFailure || now >= startBy)) {
          o = { ...o, state: 'failed', ...notStartedFailure(job, pods, createFailure) };
        } else if (now >= born + pullDeadlineMs) {
          o = expire(o);
        } else {
          wake(started ? born + pullDeadlineMs : startBy);
          allFinal = false;
        }
      }
      for (const img of o.specImages) covered.set(pairKey(work.node, work.action, img), o);
    }
    if (allFinal) settled.push(`${job.metadata?.namespace ?? ''}/${name}`);
  }
  return { covered, settled, podless, lost, nextDeadline };
}

/** Compares the plan with the Jobs: results per pair, the Jobs to create, and when to look again. */
export function operationProgress(input: ProgressInput): Progress {
  const { covered, settled, podless, lost, nextDeadline } = jobResults(input);
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
    for (const { work, message } of node.invalid) results.push(pair(work, 'pull', 'failed', 'InvalidImageName', message));
    for (const w of node.alreadyPresent) {
      // present on the node: done, unless a Job of this operation pulled it and failed (its outcome is the truth)
      const o = covered.get(pairKey(node.node, 'pull', w.image));
      results.push(o && o.state === 'failed' ? pair(w, 'pull', o.state, o.reason, o.message) : pair(w, 'pull', 'succeeded'));
    }
    for (const action of ['pull', 'delete'] as const) {
      const uncovered: ImageWork[] = [];
      for (const w of action === 'pull' ? node.pulls : node.deletes) {
        const o = covered.get(pairKey(node.node, action, w.image));
        if (o) results.push(pair(w, action, o.state, o.reason, o.message));
        else uncovered.push(w);
      }
      if (uncovered.length === 0) continue;
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
  }
  return { results, create, deferred, settledJobs: settled, podlessJobs: podless, lostJobs: lost, ...(nextDeadline !== undefined ? { nextDeadline } : {}) };
}
