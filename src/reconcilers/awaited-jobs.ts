// Which changes of a cache's Jobs and pods can move its operation on (pure bookkeeping, no I/O).
//
// An operation sees about seven changes per node (pod created, scheduled, started, ended; Job status),
// and nearly all of them only move a pod along: the pass they would trigger recomputes the same plan and
// finds the same Jobs still running. Only a change that ends a Job can finish the operation or free a
// --jobs-max-surge slot for the work it deferred. After each pass the runner records the Jobs the pass
// found still running; a change that ends the last of them is worth a pass at once, one that ends a Job
// while work waits for a slot a pass soon. Every other change waits for the next progress write (once a
// second).
//
// The record is made in the pass's synchronous part, from the same informer snapshot the pass read, so a
// change seen after it is always matched against it. "Ends" is read from the object alone (settles):
// when it says yes too early, the pass comes early and records the Job again; when it misses a final
// state, the pass comes a second later. Neither changes what a pass decides, only when it runs.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { jobFinished } from '../jobs/job-results.js';
import { jobKey } from './job-tracker.js';

export type OwnedKind = 'job' | 'pod';

/** The Job's key (job-tracker.ts jobKey: "namespace/name") of the object (a Job) or of its owner (a pod). */
export function jobKeyOf(kind: OwnedKind, obj: V1Job | V1Pod): string | undefined {
  if (kind === 'job') return obj.metadata?.name === undefined ? undefined : jobKey(obj as V1Job);
  const owner = (obj.metadata?.ownerReferences ?? []).find((o) => o.kind === 'Job');
  return owner ? jobKey({ metadata: { namespace: obj.metadata?.namespace, name: owner.name } }) : undefined;
}

/**
 * True when the object shows its Job's work ended: a Job Complete or Failed; a pod Succeeded or Failed,
 * or whose every container runs or has ended (a pull container that runs has its image).
 */
export function settles(kind: OwnedKind, obj: V1Job | V1Pod): boolean {
  if (kind === 'job') return jobFinished(obj as V1Job);
  const s = (obj as V1Pod).status;
  if (s?.phase === 'Succeeded' || s?.phase === 'Failed') return true;
  const cs = s?.containerStatuses ?? [];
  return cs.length > 0 && cs.every((c) => c.state?.running !== undefined || c.state?.terminated !== undefined);
}

interface Awaited {
  /** Jobs (namespace/name) the last pass found still running. */
  running: Set<string>;
  /** The last pass left work to create (deferred under a cap, creates to retry, lost work to redo). */
  creating: boolean;
}

/** At most this many caches are remembered (a cache deleted mid-operation leaves its entry behind). */
const MAX_CACHES = 10_000;

export class AwaitedJobs {
  private readonly byCache = new Map<string, Awaited>();

  /** After a pass's planning: the Jobs still running, and whether work is left to create. */
  record(cache: string, running: Iterable<string>, creating: boolean): void {
    if (!this.byCache.has(cache) && this.byCache.size >= MAX_CACHES) this.byCache.clear();
    this.byCache.set(cache, { running: new Set(running), creating });
  }

  /** Later in the same pass: work turned out to be left to create (a create to retry). */
  markCreating(cache: string): void {
    const a = this.byCache.get(cache);
    if (a) a.creating = true;
  }

  /** The operation ended: nothing of it is awaited. */
  forget(cache: string): void {
    this.byCache.delete(cache);
  }

  /**
   * A change of one of the cache's Jobs or pods, and when the cache's next pass should come for it:
   * - 'now': it ended the last Job the last pass saw running (the operation may be done);
   * - 'soon': it ended a Job while work waits for a slot; or it is a deletion (work to redo); or no pass
   *   of the cache is recorded (nothing known: as for any change);
   * - 'later': anything else (a pod moving along, a Job's counters).
   */
  urgency(cache: string, verb: 'add' | 'update' | 'delete', kind: OwnedKind, obj: V1Job | V1Pod): 'now' | 'soon' | 'later' {
    const a = this.byCache.get(cache);
    if (!a || verb === 'delete') return 'soon';
    if (!settles(kind, obj)) return 'later';
    const key = jobKeyOf(kind, obj);
    if (key !== undefined && a.running.delete(key) && a.running.size === 0) return 'now';
    return a.creating ? 'soon' : 'later';
  }

  /** True when an operation of any cache is in progress. */
  anyInProgress(): boolean {
    return this.byCache.size > 0;
  }

  /** For tests and metrics: how many Jobs of the cache are still awaited. */
  runningOf(cache: string): number | undefined {
    return this.byCache.get(cache)?.running.size;
  }
}
