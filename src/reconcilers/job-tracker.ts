// What the controller knows about its Jobs that the watch does not show yet (in memory only; a restarted
// controller starts from the watch alone, which is always safe — the worst case is one AlreadyExists or
// one NotFound answer):
//   - Jobs it created that the watch has not delivered yet (so they are not created twice: no 409s);
//   - Jobs it deleted that the watch still lists (so they are not deleted again: no 404s);
//   - Jobs every image of which has a final outcome (they no longer hold a --jobs-max-surge slot);
//   - why a Job could not be created or could not create its pods (FailedCreate), by Job name.
import type { V1Job } from '@kubernetes/client-node';
import type { CreateFailure } from '../planning/operation-progress.js';

const FORGET_AFTER_MS = 120_000;

export function jobKey(job: V1Job): string {
  return `${job.metadata?.namespace ?? ''}/${job.metadata?.name ?? ''}`;
}

function finished(job: V1Job): boolean {
  return (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export class JobTracker {
  private readonly expected = new Map<string, { job: V1Job; at: number }>();
  private readonly deleting = new Map<string, number>();
  private readonly settled = new Map<string, number>();
  /** FailedCreate of the Job's pods (from its Events) or of the Job itself (from the create call), by Job name. */
  readonly createFailures = new Map<string, CreateFailure>();
  private readonly lookedUp = new Map<string, number>();
  /** Creates in flight: they hold a surge slot from the moment they are decided. */
  private inFlight = 0;

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
    return !finished(job) && !this.settled.has(jobKey(job));
  }

  /** Jobs that hold a --jobs-max-surge slot: not finished, not settled, plus the creates in flight. */
  running(jobs: readonly V1Job[]): number {
    return jobs.filter((j) => !finished(j) && !this.settled.has(jobKey(j))).length + this.inFlight;
  }
  reserve(n: number): void { this.inFlight += n; }
  release(n: number): void { this.inFlight = Math.max(0, this.inFlight - n); }

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
