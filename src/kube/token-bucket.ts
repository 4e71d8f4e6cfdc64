// client-go's token bucket rate limiter (flowcontrol.NewTokenBucketRateLimiter(qps, burst)), as a
// reservation: each acquire() takes a token, waiting in FIFO order when the bucket is empty.
// Pure apart from the injectable clock; one bucket is shared by every client of a KubeConfig.

export interface BucketClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: BucketClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class TokenBucket {
  private tokens: number;
  private last: number;

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

  /** How long a request made now would wait, in ms (0 when a token is available). */
  reserve(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  /** Takes one token, waiting for it when the bucket is empty. */
  async acquire(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await this.clock.sleep(wait);
  }
}
