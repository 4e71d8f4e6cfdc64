// A per-key work queue with the semantics of client-go's rate-limited work queue
// (k8s.io/client-go/util/workqueue): every event about one ImageCache becomes its key "ns/name";
// pending keys are de-duplicated; a key is never handed to two workers at once (a key added while it
// is being processed is marked dirty and queued again when the worker calls done()); failures are
// retried with per-key exponential backoff; delayed adds; shutdown with or without drain.
// Pure: no I/O; the clock is injectable so tests run on fake timers.

/** Timer functions the queue uses; defaults to the global ones (looked up at call time). */
export interface QueueClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface WorkQueueOptions {
  /** First retry delay of addRateLimited; doubles with every failure of the key. Default 1000 ms. */
  baseDelayMs?: number;
  /** Cap of the retry delay. Default 300000 ms (5 min). */
  maxDelayMs?: number;
  clock?: QueueClock;
  /** Called whenever the number of keys waiting to be picked up changes (for a depth gauge). */
  onDepthChange?: (depth: number) => void;
  /** Called on every addRateLimited (for a retries counter). */
  onRetry?: (key: string, delayMs: number) => void;
}

const globalClock: QueueClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms) as unknown as { unref?: () => void };
    handle.unref?.(); // a pending retry never keeps the process alive on its own
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

interface Waiting {
  readyAt: number;
  handle: unknown;
}

export class WorkQueue {
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly clock: QueueClock;
  private readonly onDepthChange: ((depth: number) => void) | undefined;
  private readonly onRetry: ((key: string, delayMs: number) => void) | undefined;

  /** Keys ready to be picked up, in order. */
  private readonly queue: string[] = [];
  /** Keys that need processing (queued, or re-added while being processed). */
  private readonly dirty = new Set<string>();
  /** Keys handed to a worker and not yet done(), with the time they were handed out. */
  private readonly processing = new Map<string, number>();
  /** Delayed adds, one timer per key (the earliest wins). */
  private readonly waiting = new Map<string, Waiting>();
  /** Failures per key since the last forget(). */
  private readonly failures = new Map<string, number>();
  /** Workers blocked in get(). */
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private readonly drainers: (() => void)[] = [];
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 1000;
    this.maxDelayMs = opts.maxDelayMs ?? 300_000;
    if (!(this.baseDelayMs > 0) || !(this.maxDelayMs >= this.baseDelayMs)) {
      throw new Error(
        `WorkQueue: baseDelayMs (${this.baseDelayMs}) must be > 0 and maxDelayMs (${this.maxDelayMs}) >= baseDelayMs`,
      );
    }
    this.clock = opts.clock ?? globalClock;
    this.onDepthChange = opts.onDepthChange;
    this.onRetry = opts.onRetry;
  }

  /** Queues the key unless it is already pending; if a worker holds it, it is queued again at done(). */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.handOut();
    this.depthChanged();
  }

  /** Adds the key after ms (at once when ms <= 0). Several delayed adds of one key keep the earliest. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + ms;
    const existing = this.waiting.get(key);
    if (existing) {
      if (existing.readyAt <= readyAt) return;
      this.clock.clearTimeout(existing.handle);
    }
    const handle = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { readyAt, handle });
  }

  /** Adds the key after its backoff: baseDelay * 2^(failures so far), capped at maxDelay. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
    this.onRetry?.(key, delay);
    this.addAfter(key, delay);
  }

  /** Resets the backoff of the key (call after a successful reconcile). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** How many times the key was retried since the last forget(). */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /**
   * The next key to process; the caller owns it until done(key). Waits while the queue is empty.
   * Resolves undefined once the queue is shut down (keys not yet handed out are then dropped).
   */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    if (this.queue.length > 0) return Promise.resolve(this.take());
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks the key processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    if (!this.processing.delete(key)) return;
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.queue.push(key);
      this.handOut();
      this.depthChanged();
    }
    if (this.shuttingDown && this.processing.size === 0) {
      for (const resolve of this.drainers.splice(0)) resolve();
    }
  }

  /** Keys waiting to be picked up (not counting delayed adds or keys being processed). */
  len(): number {
    return this.queue.length;
  }

  /** Keys currently held by workers. */
  inFlight(): number {
    return this.processing.size;
  }

  /** The key held by a worker for the longest time, and for how long (undefined when none is). */
  oldestInFlight(): { key: string; ms: number } | undefined {
    let oldest: { key: string; ms: number } | undefined;
    const now = this.clock.now();
    for (const [key, since] of this.processing) {
      if (!oldest || now - since > oldest.ms) oldest = { key, ms: now - since };
    }
    return oldest;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops the queue: adds are ignored, delayed adds cancelled, queued keys dropped, and every get()
   * resolves undefined. Keys being processed may still be done(). Safe to call twice.
   */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const w of this.waiting.values()) this.clock.clearTimeout(w.handle);
    this.waiting.clear();
    for (const key of this.queue) this.dirty.delete(key);
    this.queue.length = 0;
    for (const resolve of this.getters.splice(0)) resolve(undefined);
    this.depthChanged();
  }

  /** shutDown(), then resolves once every key handed out has been done(). */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainers.push(resolve));
  }

  private take(): string {
    const key = this.queue.shift() as string;
    this.processing.set(key, this.clock.now());
    this.dirty.delete(key);
    this.depthChanged();
    return key;
  }

  /** Gives queued keys to blocked getters. */
  private handOut(): void {
    while (this.getters.length > 0 && this.queue.length > 0) {
      const resolve = this.getters.shift() as (key: string | undefined) => void;
      resolve(this.take());
    }
  }

  private lastDepth = 0;
  private depthChanged(): void {
    if (this.queue.length === this.lastDepth) return;
    this.lastDepth = this.queue.length;
    this.onDepthChange?.(this.lastDepth);
  }
}

export { runWorkers, type HandlerResult, type KeyHandler, type WorkerLog } from './run-workers.js';
