// The StatusWriter: the only code that writes ImageCache status. Retries conflicts, throttling and
// server errors with a short backoff, and throws when it cannot write (the work queue retries the key).
import type { ImageCache, ImageCacheStatus } from '../api/imagecache.js';
import { isRetryable, type ImageCacheApi } from '../kube/imagecache-api.js';

export interface StatusWriterOptions {
  attempts?: number;
  baseDelayMs?: number;
}

export class StatusWriter {
  private readonly attempts: number;
  private readonly baseDelayMs: number;

  constructor(private readonly api: ImageCacheApi, opts: StatusWriterOptions = {}) {
    this.attempts = opts.attempts ?? 5;
    this.baseDelayMs = opts.baseDelayMs ?? 200;
  }

  /** Replaces the whole status. */
  async write(cache: ImageCache, status: ImageCacheStatus): Promise<ImageCache> {
    return this.retry(() => this.api.replaceStatus(cache.metadata.namespace ?? '', cache.metadata.name ?? '', status));
  }

  /** Updates some fields of status (progress counts). */
  async update(cache: ImageCache, fields: Partial<ImageCacheStatus>): Promise<ImageCache> {
    return this.retry(() => this.api.mergeStatus(cache.metadata.namespace ?? '', cache.metadata.name ?? '', fields));
  }

  private async retry<T>(fn: () => Promise<T>): Promise<T> {
    let lastErr: unknown;
    for (let i = 0; i < this.attempts; i++) {
      try {
        return await fn();
      } catch (err) {
        lastErr = err;
        if (!isRetryable(err)) break;
        await new Promise((r) => setTimeout(r, this.baseDelayMs * 2 ** i));
      }
    }
    throw lastErr;
  }
}
