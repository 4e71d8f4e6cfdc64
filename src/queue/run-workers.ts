// The worker loop of sample-controller's runWorker/processNextWorkItem, as n async workers:
// take a key, reconcile it, forget its backoff on success, retry it with backoff on failure, and
// always mark it done. Resolves when the queue has shut down and every worker has stopped.

import type { WorkQueue } from './work-queue.js';

/** What a handler may ask for after a successful reconcile. */
export interface HandlerResult {
  /** Reconcile the key again after this many ms (e.g. to check a deadline), without counting a failure. */
  requeueAfterMs?: number;
}

export type KeyHandler = (key: string) => Promise<void | HandlerResult>;

/** The part of a winston logger the workers use. */
export interface WorkerLog {
  error(message: string, meta: Record<string, unknown>): unknown;
  info?(message: string, meta: Record<string, unknown>): unknown;
}

/**
 * Starts n workers on the queue; resolves once the queue is shut down and all of them returned.
 * `describeError` turns a failure into log fields (default: its message).
 */
export async function runWorkers(
  queue: WorkQueue,
  n: number,
  handler: KeyHandler,
  log: WorkerLog,
  describeError: (err: unknown) => Record<string, unknown> = (err) => ({ error: err instanceof Error ? err.message : String(err) }),
): Promise<void> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`runWorkers: the number of workers must be an integer >= 1, got ${n}`);
  const worker = async (id: number): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const result = await handler(key);
        queue.forget(key);
        if (result && result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        if (queue.isShuttingDown() && err instanceof Error && err.name === 'NotLeadingError') {
          // the controller stopped (leadership lost, or SIGTERM): the key is the next leader's
          log.info?.('reconcile stopped: the controller is stopping', { key, worker: id, reason: err.message });
          continue;
        }
        queue.addRateLimited(key);
        log.error('reconcile failed; will retry with backoff', {
          key,
          worker: id,
          retries: queue.numRequeues(key),
          ...describeError(err),
        });
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: n }, (_, i) => worker(i)));
}
