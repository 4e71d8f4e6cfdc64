// client-go's token bucket rate limiter (flowcontrol.NewTokenBucketRateLimiter(qps, burst)), as a
// reservation: each acquire() takes a token, waiting in FIFO order when the bucket is empty.
// Pure apart from the injectable clock; one bucket is shared by every client of a KubeConfig.
//
// Two priorities share the bucket: a 'low' request (the clean-up of finished caches' Jobs) takes a
// token only while no 'normal' request waits for one and a whole token is there; otherwise it waits
// and looks again when the next token is due. So while creates are queued the deletes wait, and they
// use the budget the creates leave (issue 12: at 1,000 nodes x 10 caches the deletes of the caches
// already done took a third of --kube-api-qps from the creates of the others).
//
// Unlimited (--kube-api-qps=auto against an API server that runs API Priority and Fairness, or -1):
// normal requests never wait (the server's fairness queues pace them, and answer 429 when it must);
// the bucket then paces the low ones alone, at its qps and burst, so the clean-up still trickles.

export interface BucketClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: BucketClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export type RequestPriority = 'normal' | 'low';

/** kube-controller-manager's defaults (--kube-api-qps=20, --kube-api-burst=30). */
export const DEFAULT_KUBE_API_QPS = 20;
export const DEFAULT_KUBE_API_BURST = 30;

/**
 * 'limit': every request within qps/burst; 'unlimited': only Job deletes are (--kube-api-qps=-1);
 * 'auto': 'unlimited' while the server's answers say it runs API Priority and Fairness, else 'limit'.
 */
export type ClientLimit = 'limit' | 'unlimited' | 'auto';

export class TokenBucket {
  private tokens: number;
  private last: number;
  /** normal requests sleeping for their reserved token */
  private normalWaiting = 0;
  /** normal requests pass at once, without a token (the low ones still take one each) */
  private unlimited = false;

  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: BucketClock = realClock,
  ) {
    if (!(qps > 0) || !Number.isFinite(qps)) throw new Error(`rate limiter: qps must be a number > 0, got ${qps}`);
    if (!Number.isInteger(burst) || burst < 1) throw new Error(`rate limiter: burst must be an integer >= 1, got ${burst}`);
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
  }

  /** Lifts the limit of normal requests (true) or puts it back (false); low ones stay paced either way. */
  setUnlimited(on: boolean): void {
    // unlimited normal requests take no token, so going back to limited owes nothing for them
    this.unlimited = on;
  }

  isUnlimited(): boolean {
    return this.unlimited;
  }

  /** How long a request made now would wait, in ms (0 when a token is available). */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  /** Normal requests waiting for a token now. */
  waiting(): number {
    return this.normalWaiting;
  }

  /** Takes one token, waiting for it when the bucket is empty; a 'low' one also waits for every normal one. */
  async acquire(priority: RequestPriority = 'normal'): Promise<void> {
    if (priority === 'low') return this.acquireLow();
    if (this.unlimited) return;
    const wait = this.reserve();
    if (wait <= 0) return;
    this.normalWaiting++;
    try {
      await this.clock.sleep(wait);
    } finally {
      this.normalWaiting--;
    }
  }

  private async acquireLow(): Promise<void> {
    for (;;) {
      this.refill();
      if (this.normalWaiting === 0 && this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      // until a whole token beyond the normal requests' reservations is due (they may take it first:
      // then this looks again)
      await this.clock.sleep(Math.max(1, ((1 - Math.min(this.tokens, 1)) * 1000) / this.qps));
    }
  }
}
