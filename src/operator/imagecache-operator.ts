// The SDK Operator (@dot-i/k8s-operator): the entry point for ImageCache events. Its handler only
// records the object in the index and enqueues the key: synchronous, no I/O, never throws. Reconcile
// reads the current object itself (never the event snapshot).
// The SDK exits the process on a watch error (its design: "force a pod restart"); the controller is
// level-based and resumes every operation from the API after a restart, so no work is lost.
import sdk, { type ResourceEvent } from '@dot-i/k8s-operator';
import { GROUP, PLURAL, VERSION, type ImageCache } from '../api/imagecache.js';
import type { Logger } from './logger.js';

const Operator = sdk.default;

/** The ImageCaches the controller has seen, by key, with a uid -> key map for Job/pod events. */
export class ImageCacheIndex {
  private readonly byKey = new Map<string, ImageCache>();
  private readonly keyByUid = new Map<string, string>();

  set(cache: ImageCache): string {
    const key = `${cache.metadata.namespace}/${cache.metadata.name}`;
    this.byKey.set(key, cache);
    if (cache.metadata.uid) this.keyByUid.set(cache.metadata.uid, key);
    return key;
  }
  delete(cache: ImageCache): string {
    const key = `${cache.metadata.namespace}/${cache.metadata.name}`;
    this.byKey.delete(key);
    if (cache.metadata.uid) this.keyByUid.delete(cache.metadata.uid);
    return key;
  }
  get(key: string): ImageCache | undefined {
    return this.byKey.get(key);
  }
  /**
   * Records a cache unless the index already holds a newer copy of the same object (a write's answer
   * can arrive before the watch delivers older events). resourceVersions are compared as numbers when
   * both are numeric (etcd revisions); otherwise the newer arrival wins (writes are conditional anyway).
   */
  setIfNewer(cache: ImageCache): string {
    const key = `${cache.metadata.namespace}/${cache.metadata.name}`;
    const held = this.byKey.get(key);
    if (held && held.metadata.uid === cache.metadata.uid && olderThan(cache.metadata.resourceVersion, held.metadata.resourceVersion)) return key;
    return this.set(cache);
  }
  keyOfUid(uid: string | undefined): string | undefined {
    return uid ? this.keyByUid.get(uid) : undefined;
  }
  all(): [string, ImageCache][] {
    return [...this.byKey.entries()];
  }
}

function olderThan(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}

export class ImageCacheOperator extends Operator {
  constructor(
    private readonly index: ImageCacheIndex,
    private readonly enqueue: (key: string) => void,
    logger: Logger,
  ) {
    super({
      debug: (m: string) => logger.debug(m, { source: 'k8s-operator' }),
      info: (m: string) => logger.info(m, { source: 'k8s-operator' }),
      warn: (m: string) => logger.warn(m, { source: 'k8s-operator' }),
      error: (m: string) => logger.error(m, { source: 'k8s-operator' }),
    });
  }

  protected async init(): Promise<void> {
    await this.watchResource(GROUP, VERSION, PLURAL, async (e: ResourceEvent) => this.onEvent(e));
  }

  /** Never awaits, never throws: the SDK drops handler errors and runs handlers one at a time. */
  onEvent(e: ResourceEvent): void {
    try {
      const cache = e.object as unknown as ImageCache;
      const key = e.type === 'DELETED' ? this.index.delete(cache) : this.index.setIfNewer(cache);
      this.enqueue(key);
    } catch {
      /* malformed event: the next relist brings the object again */
    }
  }
}
