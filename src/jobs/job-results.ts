// Reading results from Jobs and their pods (pure): container statuses -> per-image outcomes.
import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import type { JobWork } from './job-labels.js';

export type OutcomeState = 'succeeded' | 'failed' | 'pending';

export interface ImageOutcome {
  container: string;
  specImages: string[];
  state: OutcomeState;
  reason: string;
  message: string;
}

function time(t: Date | string | undefined): number {
  return t ? new Date(t).getTime() : 0;
}

/** Pods of the Job, newest first (a replaced pod's newer attempt wins). */
export function podsOfJob(job: V1Job, pods: readonly V1Pod[]): V1Pod[] {
  const uid = job.metadata?.uid;
  const name = job.metadata?.name;
  return pods
    .filter((p) =>
      (p.metadata?.ownerReferences ?? []).some((o) => o.kind === 'Job' && (o.uid === uid || (!uid && o.name === name))),
    )
    .sort((a, b) => time(b.metadata?.creationTimestamp) - time(a.metadata?.creationTimestamp));
}

/**
 * The pods of many Jobs at once: an index by owner Job uid (and name, for a Job known before its uid),
 * built once per pass. `candidates(job)` are the only pods podsOfJob(job, ...) can return, so the
 * helpers below give the same answers on them as on every pod, without reading every pod for every
 * Job (1,000 Jobs x 1,000 pods on each pass of a 1,000-node operation).
 */
export function indexPodsByJob(pods: readonly V1Pod[]): (job: V1Job) => readonly V1Pod[] {
  const byUid = new Map<string, V1Pod[]>();
  const byName = new Map<string, V1Pod[]>();
  const add = (m: Map<string, V1Pod[]>, k: string | undefined, p: V1Pod) => {
    if (k === undefined) return;
    const l = m.get(k);
    if (l) { if (l[l.length - 1] !== p) l.push(p); } else m.set(k, [p]);
  };
  for (const p of pods) {
    for (const o of p.metadata?.ownerReferences ?? []) {
      if (o.kind !== 'Job') continue;
      add(byUid, o.uid, p);
      add(byName, o.name, p);
    }
  }
  return (job) => {
    const uid = job.metadata?.uid;
    return (uid ? byUid.get(uid) : byName.get(job.metadata?.name ?? '')) ?? [];
  };
}

/** Ended, one way or the other: its Complete or Failed condition is True. */
export function jobFinished(job: V1Job): boolean {
  return (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** Complete: its pod succeeded (every container exited 0), even when that pod was deleted since. */
export function jobComplete(job: V1Job): boolean {
  return (job.status?.conditions ?? []).some((c) => c.type === 'Complete' && c.status === 'True');
}

/**
 * The Job's work was lost, not failed: the Job controller ended it BackoffLimitExceeded (backoffLimit 0)
 * and none of its pods is left to say why. A pod that really failed stays (restartPolicy Never, no TTL);
 * the Job controller also counts a pod deleted before it ended as failed (pods deleted by hand, evicted,
 * removed by the pod GC), and that pod is gone.
 */
export function podsLost(job: V1Job, pods: readonly V1Pod[]): boolean {
  const failed = (job.status?.conditions ?? []).some((c) => c.type === 'Failed' && c.status === 'True' && c.reason === 'BackoffLimitExceeded');
  return failed && podsOfJob(job, pods).length === 0;
}

/** The runtime's words for an image the registry does not have (containerd, CRI-O, the CRI NotFound code). */
export const IMAGE_NOT_FOUND = /code = NotFound|manifest unknown|: not found\b|\bnot found: manifest/i;

function outcomeFromStatus(cs: V1ContainerStatus, action: JobWork['action']): Omit<ImageOutcome, 'container' | 'specImages'> {
  const t = cs.state?.terminated;
  if (t) {
    if (t.exitCode === 0) return { state: 'succeeded', reason: '', message: '' };
    return {
      state: 'failed',
      reason: t.reason || 'Error',
      message: (t.message ?? '').trim() || `container exited with code ${t.exitCode}`,
    };
  }
  // A pull container that runs has its image on the node: the pull is done.
  if (cs.state?.running && action === 'pull') return { state: 'succeeded', reason: '', message: '' };
  const w = cs.state?.waiting;
  // the registry says the image does not exist: that will not change by waiting for the deadline
  if (w && action === 'pull' && w.reason === 'ErrImagePull' && IMAGE_NOT_FOUND.test(w.message ?? '')) {
    return { state: 'failed', reason: w.reason, message: w.message ?? '' };
  }
  if (w) return { state: 'pending', reason: w.reason ?? 'Waiting', message: w.message ?? '' };
  return { state: 'pending', reason: 'ContainerCreating', message: '' };
}

/**
 * Per-container outcome of one Job. Pending outcomes carry the pod's current waiting reason, which
 * becomes the failure at the pull deadline (ErrImagePull, ImagePullBackOff, ContainerCreating, or
 * "Pending"/"Check if node is ready" when the pod never started).
 */
export function jobOutcomes(job: V1Job, work: JobWork, pods: readonly V1Pod[]): ImageOutcome[] {
  const mine = podsOfJob(job, pods);
  const jobName = job.metadata?.name ?? '';
  const failedCondition = (job.status?.conditions ?? []).find((c) => c.type === 'Failed' && c.status === 'True');
  const complete = jobComplete(job);
  return Object.entries(work.containers).map(([container, specImages]) => {
    let best: Omit<ImageOutcome, 'container' | 'specImages'> | undefined;
    for (const pod of mine) {
      const cs = (pod.status?.containerStatuses ?? []).find((c) => c.name === container);
      let o: Omit<ImageOutcome, 'container' | 'specImages'>;
      if (pod.status?.phase === 'Succeeded') {
        o = { state: 'succeeded', reason: '', message: '' };
      } else if (cs) {
        o = outcomeFromStatus(cs, work.action);
        if (o.state === 'pending' && pod.status?.phase === 'Failed') {
          o = { state: 'failed', reason: pod.status.reason || 'PodFailed', message: pod.status.message || `pod ${pod.metadata?.name} failed` };
        }
      } else if (pod.status?.phase === 'Failed') {
        o = { state: 'failed', reason: pod.status.reason || 'PodFailed', message: pod.status.message || `pod ${pod.metadata?.name} failed` };
      } else {
        o = { state: 'pending', reason: 'Pending', message: 'Check if node is ready' };
      }
      if (o.state === 'succeeded') { best = o; break; }
      best ??= o; // newest pod's state unless an older attempt succeeded
    }
    if (!best && complete) best = { state: 'succeeded', reason: '', message: '' };
    if (!best && failedCondition) best = { state: 'failed', reason: failedCondition.reason || 'JobFailed', message: failedCondition.message || `job ${jobName} failed` };
    best ??= { state: 'pending', reason: `No pods matched job ${jobName}`, message: `No pods matched job ${jobName}` };
    return best.state === 'succeeded' ? succeeded(container, specImages) : { container, specImages, ...best };
  });
}

/**
 * One frozen "succeeded" outcome per (container, spec images): the outcome most pairs end with, the same
 * on every node whose Job pulled those images (their work shares its spec images: job-labels.ts).
 */
const succeededOutcomes = new WeakMap<readonly string[], Map<string, ImageOutcome>>();

function succeeded(container: string, specImages: string[]): ImageOutcome {
  let byContainer = succeededOutcomes.get(specImages);
  if (!byContainer) succeededOutcomes.set(specImages, (byContainer = new Map()));
  let o = byContainer.get(container);
  if (!o) byContainer.set(container, (o = Object.freeze({ container, specImages, state: 'succeeded', reason: '', message: '' }) as ImageOutcome));
  return o;
}

/** A pending outcome past the deadline becomes a failure carrying the reason it was waiting for. */
export function expire(o: ImageOutcome): ImageOutcome {
  if (o.state !== 'pending') return o;
  return { ...o, state: 'failed', reason: o.reason || 'Pending', message: o.message || 'Check if node is ready' };
}
