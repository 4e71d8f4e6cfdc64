// A token bucket as client-go's flowcontrol.NewTokenBucketRateLimiter and workqueue's BucketRateLimiter
// use it: `burst` tokens at first, refilled at `qps` per second; take() waits for a token (FIFO).
export class TokenBucket {
  private tokens: number;
  private last: number;
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly qps: number, readonly burst: number, private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))) {
    if (!(qps > 0)) throw new Error(`TokenBucket: qps must be > 0 (got ${qps})`);
    if (!(burst >= 1)) throw new Error(`TokenBucket: burst must be >= 1 (got ${burst})`);
    this.tokens = burst;
    this.last = now();
  }

  /** Resolves when the caller may go; callers are served in the order they called. */
  take(): Promise<void> {
    const turn = this.tail.then(() => this.wait());
    this.tail = turn;
    return turn;
  }

  /**
   * Reserves a token now and returns how long to wait before using it (golang.org/x/time/rate's
   * Reserve, as workqueue's BucketRateLimiter uses it: the delay is fixed when the item is added).
   */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
  }

  private async wait(): Promise<void> {
    this.refill();
    while (this.tokens < 1) {
      await this.sleep(Math.ceil(((1 - this.tokens) / this.qps) * 1000));
      this.refill();
    }
    this.tokens -= 1;
  }
}
