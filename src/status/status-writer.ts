// The StatusWriter: the only code that writes ImageCache status.
//  - Every write is conditional on the resourceVersion the decision was made from: a concurrent writer
//    (another controller, a user's edit) makes it fail with a StatusConflict, and the reconciler decides
//    again from the fresh object instead of overwriting it.
//  - Throttling, server errors and network failures are retried with a short backoff.
//  - A request that can never succeed (413 too large, 422 invalid) is not retried as it is: the status is
//    written once more without the failure details (their counts stay), then the error is given up on.
import type { ImageCache, ImageCacheStatus } from '../api/imagecache.js';
import { isConflict, isRetryable, isUnsatisfiable, type ImageCacheApi } from '../kube/imagecache-api.js';

export interface StatusWriterOptions {
  attempts?: number;
  baseDelayMs?: number;
}

/** The object changed since it was read: decide again from the current one. */
export class StatusConflict extends Error {
  constructor(readonly key: string, cause: unknown) {
    super(`image cache ${key} changed while its status was being written`, { cause });
  }
}

/** The status without the failure details: what is written when the full one is refused as too large. */
export function compactStatus(status: ImageCacheStatus): ImageCacheStatus {
  const omitted: Record<string, number> = { ...(status.failuresOmitted ?? {}) };
  for (const [image, list] of Object.entries(status.failures ?? {})) omitted[image] = (omitted[image] ?? 0) + list.length;
  return { ...status, failures: {}, ...(Object.keys(omitted).length ? { failuresOmitted: omitted } : {}) };
}

export class StatusWriter {
  private readonly attempts: number;
  private readonly baseDelayMs: number;

  constructor(private readonly api: ImageCacheApi, opts: StatusWriterOptions = {}) {
    this.attempts = opts.attempts ?? 5;
    this.baseDelayMs = opts.baseDelayMs ?? 200;
  }

  /** Replaces the whole status, if the object is still at cache's resourceVersion. */
  async write(cache: ImageCache, status: ImageCacheStatus): Promise<ImageCache> {
    const { namespace = '', name = '', resourceVersion } = cache.metadata;
    try {
      return await this.retry(cache, () => this.api.replaceStatus(namespace, name, status, resourceVersion));
    } catch (err) {
      if (!isUnsatisfiable(err) || !Object.keys(status.failures ?? {}).length) throw err;
      return this.retry(cache, () => this.api.replaceStatus(namespace, name, compactStatus(status), resourceVersion));
    }
  }

  /** Updates some fields of status (progress counts), if the object is still at cache's resourceVersion. */
  async update(cache: ImageCache, fields: Partial<ImageCacheStatus>): Promise<ImageCache> {
    const { namespace = '', name = '', resourceVersion } = cache.metadata;
    return this.retry(cache, () => this.api.mergeStatus(namespace, name, fields, resourceVersion));
  }

  private async retry<T>(cache: ImageCache, fn: () => Promise<T>): Promise<T> {
    let lastErr: unknown;
    for (let i = 0; i < this.attempts; i++) {
      try {
        return await fn();
      } catch (err) {
        if (isConflict(err)) throw new StatusConflict(`${cache.metadata.namespace}/${cache.metadata.name}`, err);
        lastErr = err;
        if (!isRetryable(err)) break;
        await new Promise((r) => setTimeout(r, this.baseDelayMs * 2 ** i));
      }
    }
    throw lastErr;
  }
}
