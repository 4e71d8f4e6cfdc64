// What the controller knows about its Jobs that the watch does not show yet (in memory only; a restarted
// controller starts from the watch alone, which is always safe — the worst case is one AlreadyExists or
// one NotFound answer):
//   - Jobs it created that the watch has not delivered yet (so they are not created twice: no 409s),
//     until the watch delivers them, or their deletion (deleted by hand before the watch showed them);
//   - Jobs it deleted that the watch still lists (so they are not deleted again: no 404s);
//   - Jobs every image of which has a final outcome (they no longer hold a --jobs-max-surge slot);
//   - why a Job could not be created or could not create its pods (FailedCreate), by Job name;
//   - per operation, how many times each piece of work's Job was made again (its Job gone before it
//     ended: deleted by hand, or lost with its pods), so that it is made under a new name (nextAttempt).
import type { V1Job } from '@kubernetes/client-node';
import type { CreateFailure } from '../planning/operation-progress.js';
import { jobFinished } from '../jobs/job-results.js';

const FORGET_AFTER_MS = 120_000;
/** Operations whose Job attempts are kept (the oldest is forgotten first; a finished one at once). */
const ATTEMPTS_MAX_OPERATIONS = 256;

export function jobKey(job: V1Job): string {
  return `${job.metadata?.namespace ?? ''}/${job.metadata?.name ?? ''}`;
}

/** The slots a batch of creates holds until its Jobs exist. */
export interface Reservation {
  jobs: number;
  nodes: Map<string, number>;
  registries: Map<string, number>;
}

export class JobTracker {
  private readonly expected = new Map<string, { job: V1Job; at: number }>();
  private readonly deleting = new Map<string, number>();
  private readonly settled = new Map<string, number>();
  /** FailedCreate of the Job's pods (from its Events) or of the Job itself (from the create call), by Job name. */
  readonly createFailures = new Map<string, CreateFailure>();
  private readonly lookedUp = new Map<string, number>();
  /** operation id -> (name of the work's first Job -> attempt of its last Job created). */
  private readonly attempts = new Map<string, Map<string, number>>();
  /**
   * Creates decided but not yet seen as Jobs: they hold their --jobs-max-surge slot, their node's pull
   * slot and their registries' pull slots from the moment they are decided, so reconciles of other caches
   * running at the same time never give the same slot twice.
   */
  private inFlight = 0;
  private readonly nodesInFlight = new Map<string, number>();
  private readonly registriesInFlight = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The Jobs as the controller should see them: the watch's, less those being deleted, plus those just created. */
  view(watched: readonly V1Job[]): V1Job[] {
    const t = this.now();
    const seen = new Set<string>();
    const out: V1Job[] = [];
    for (const job of watched) {
      const key = jobKey(job);
      seen.add(key);
      this.expected.delete(key);
      if (this.deleting.has(key)) continue;
      out.push(job);
    }
    for (const [key, at] of this.deleting) if (!seen.has(key) || t - at > FORGET_AFTER_MS) this.deleting.delete(key);
    for (const [key, e] of this.expected) {
      if (t - e.at > FORGET_AFTER_MS) this.expected.delete(key);
      else out.push(e.job);
    }
    for (const [key, at] of this.settled) if (!seen.has(key) && t - at > FORGET_AFTER_MS) this.settled.delete(key);
    return out;
  }

  created(job: V1Job): void {
    this.expected.set(jobKey(job), { job, at: this.now() });
  }
  /** The watch delivered the Job's deletion: a create of it not yet seen is over (it was deleted meanwhile). */
  gone(job: V1Job): void {
    this.expected.delete(jobKey(job));
  }
  /** A delete that failed: the Job is back in view (a later reconcile deletes it again). */
  undeleted(job: V1Job): void {
    this.deleting.delete(jobKey(job));
  }
  deleted(job: V1Job): void {
    const key = jobKey(job);
    this.expected.delete(key);
    this.settled.delete(key);
    this.createFailures.delete(job.metadata?.name ?? '');
    this.deleting.set(key, this.now());
  }
  settle(keys: readonly string[]): void {
    const t = this.now();
    for (const k of keys) if (!this.settled.has(k)) this.settled.set(k, t);
  }

  /** Whether a Job is still working: not finished and not settled. */
  isRunning(job: V1Job): boolean {
    return !jobFinished(job) && !this.settled.has(jobKey(job));
  }

  /** Jobs that hold a --jobs-max-surge slot: not finished, not settled, plus the creates in flight. */
  running(jobs: readonly V1Job[]): number {
    return jobs.filter((j) => !jobFinished(j) && !this.settled.has(jobKey(j))).length + this.inFlight;
  }
  reserve(r: Reservation): void {
    this.inFlight += r.jobs;
    for (const [k, n] of r.nodes) this.nodesInFlight.set(k, (this.nodesInFlight.get(k) ?? 0) + n);
    for (const [k, n] of r.registries) this.registriesInFlight.set(k, (this.registriesInFlight.get(k) ?? 0) + n);
  }
  release(r: Reservation): void {
    this.inFlight = Math.max(0, this.inFlight - r.jobs);
    const down = (m: Map<string, number>, k: string, n: number) => {
      const left = (m.get(k) ?? 0) - n;
      if (left > 0) m.set(k, left);
      else m.delete(k);
    };
    for (const [k, n] of r.nodes) down(this.nodesInFlight, k, n);
    for (const [k, n] of r.registries) down(this.registriesInFlight, k, n);
  }
  /** Pull pods decided for a node and not yet created. */
  nodeInFlight(node: string): number { return this.nodesInFlight.get(node) ?? 0; }
  /** Pulls decided for a registry host and not yet created. */
  registryInFlight(registry: string): number { return this.registriesInFlight.get(registry) ?? 0; }

  /**
   * The attempt a new Job of this work takes (jobName): 0 the first time; one more than the last Job of it
   * this process created in the operation, when that Job is gone before it ended. kube-controller-manager's
   * Job controller keeps its expectations of pod creates by Job name: a Job made again under the name of
   * one deleted while its pod was being created waits out those expectations (5 minutes) without a pod
   * (seen in the fault suite: "Jobs deleted by hand", then "No pods matched job" at the pull deadline).
   * In memory only: a restarted controller starts at 0 (then a Job of that name whose pods linger is waited
   * for: see OperationRunner.createJobs).
   */
  nextAttempt(operationId: string, firstName: string): number {
    const last = this.attempts.get(operationId)?.get(firstName);
    return last === undefined ? 0 : last + 1;
  }
  /** A Job of the work was created (or found to exist) at this attempt. */
  createdAttempt(operationId: string, firstName: string, attempt: number): void {
    let m = this.attempts.get(operationId);
    if (!m) {
      if (this.attempts.size >= ATTEMPTS_MAX_OPERATIONS) this.attempts.delete(this.attempts.keys().next().value!);
      m = new Map();
      this.attempts.set(operationId, m);
    }
    m.set(firstName, Math.max(attempt, m.get(firstName) ?? 0));
  }
  /** The operation ended: its attempts are no longer needed. */
  forgetOperation(operationId: string): void {
    this.attempts.delete(operationId);
  }

  /** Whether a pod-less Job's Events are worth reading now (at most every 5 s per Job). */
  shouldLookUp(jobName: string): boolean {
    if (this.createFailures.has(jobName)) return false;
    const t = this.now();
    const last = this.lookedUp.get(jobName);
    if (last !== undefined && t - last < 5_000) return false;
    this.lookedUp.set(jobName, t);
    if (this.lookedUp.size > 10_000) this.lookedUp.clear();
    return true;
  }
}
