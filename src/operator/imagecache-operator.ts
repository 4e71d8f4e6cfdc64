// The SDK Operator (@dot-i/k8s-operator): the entry point for ImageCache events. Its handler only
// records the object in the index and enqueues the key: synchronous, no I/O, never throws. Reconcile
// reads the current object itself (never the event snapshot).
//
// The SDK's own watch is fragile (see /work/shared/notes/sdk.md §2): it never lists, reconnects at a
// fixed 200 ms with a full replay, misses deletes across reconnects, and calls process.exit(1) on any
// watch error (a 429 "storage is (re)initializing", a 410, a refused connection, even stop()). This
// subclass overrides watchResource() with a list + watch informer on the controller's own client
// (--kubeconfig / --master, rate-limited and retrying): restarts with backoff from the last
// resourceVersion, relists on 410 Gone, and reports a DELETED event for every object a relist no
// longer finds. The events reach the same onEvent handler the SDK would call; nothing exits.
import sdk, { type ResourceEvent } from '@dot-i/k8s-operator';
import { CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type ImageCache } from '../api/imagecache.js';
import { restartingInformer, type InformerTimings, type RestartingInformer } from '../kube/informers.js';
import type { Logger } from './logger.js';

const Operator = sdk.default;
const { ResourceMetaImpl, ResourceEventType } = sdk;

/** The ImageCaches the controller has seen, by key, with a uid -> key map for Job/pod events. */
/** How many deleted objects' uids the index remembers (oldest forgotten first). */
const DELETED_UIDS_KEPT = 10_000;

export class ImageCacheIndex {
  private readonly byKey = new Map<string, ImageCache>();
  private readonly keyByUid = new Map<string, string>();
  /** uids of deleted caches: a write's answer that arrives after the delete must not bring one back. */
  private readonly deletedUids = new Set<string>();

  set(cache: ImageCache): string {
    const key = `${cache.metadata.namespace}/${cache.metadata.name}`;
    this.byKey.set(key, cache);
    if (cache.metadata.uid) this.keyByUid.set(cache.metadata.uid, key);
    return key;
  }
  delete(cache: ImageCache): string {
    const key = `${cache.metadata.namespace}/${cache.metadata.name}`;
    const uid = cache.metadata.uid;
    if (!uid || this.byKey.get(key)?.metadata.uid === uid) this.byKey.delete(key);
    if (uid) {
      this.keyByUid.delete(uid);
      this.deletedUids.add(uid);
      if (this.deletedUids.size > DELETED_UIDS_KEPT) this.deletedUids.delete(this.deletedUids.values().next().value as string);
    }
    return key;
  }
  get(key: string): ImageCache | undefined {
    return this.byKey.get(key);
  }
  /**
   * Records a cache unless the index already holds a newer copy of the same object (a write's answer
   * can arrive before the watch delivers older events). resourceVersions are compared as numbers when
   * both are numeric (etcd revisions); otherwise the newer arrival wins (writes are conditional anyway).
   * A copy of a deleted object (same uid) is never recorded again.
   */
  setIfNewer(cache: ImageCache): string {
    const key = `${cache.metadata.namespace}/${cache.metadata.name}`;
    if (cache.metadata.uid && this.deletedUids.has(cache.metadata.uid)) return key;
    const held = this.byKey.get(key);
    if (held && held.metadata.uid === cache.metadata.uid && olderThan(cache.metadata.resourceVersion, held.metadata.resourceVersion)) return key;
    return this.set(cache);
  }
  /** True when the index holds this very version of the object (same uid and resourceVersion). */
  holds(cache: ImageCache): boolean {
    const held = this.byKey.get(`${cache.metadata.namespace}/${cache.metadata.name}`);
    const rv = cache.metadata.resourceVersion;
    return held !== undefined && rv !== undefined && held.metadata.uid === cache.metadata.uid && held.metadata.resourceVersion === rv;
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

export interface ImageCacheOperatorOptions {
  index: ImageCacheIndex;
  enqueue: (key: string) => void;
  log: Logger;
  /** The controller's client (1.x, with the shared request layer); the SDK's own client is pointed at it too. */
  kc: KubeConfig;
  /** Called when the watch restarts (for a metric). */
  onRestart?: () => void;
  timings?: InformerTimings;
}

const EVENT_TYPE = {
  add: ResourceEventType.Added,
  update: ResourceEventType.Modified,
  delete: ResourceEventType.Deleted,
} as const;

export class ImageCacheOperator extends Operator {
  private readonly watches: RestartingInformer<KubernetesObject>[] = [];

  constructor(private readonly opts: ImageCacheOperatorOptions) {
    const { log } = opts;
    super({
      debug: (m: string) => log.debug(m, { source: 'k8s-operator' }),
      info: (m: string) => log.info(m, { source: 'k8s-operator' }),
      warn: (m: string) => log.warn(m, { source: 'k8s-operator' }),
      error: (m: string) => log.error(m, { source: 'k8s-operator' }),
    });
    // The SDK built its KubeConfig from the default locations; give it --kubeconfig / --master instead
    // (its status and finalizer helpers read it; this class calls none of them). The SDK runs on the
    // project's client-node 1.4.0 (package.json "overrides"), so this is the same KubeConfig class as
    // opts.kc's. Its getCustomResourceApiUri reads 0.x's CoreV1Api.basePath, which 1.x has not: never
    // called here either (every watch and call of this class goes through opts.kc).
    try {
      this.kubeConfig.loadFromString(opts.kc.exportConfig());
    } catch (err) {
      // harmless: every call and watch of this class goes through opts.kc
      log.debug('the SDK client keeps its default configuration', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  protected async init(): Promise<void> {
    await this.watchResource(GROUP, VERSION, PLURAL, async (e: ResourceEvent) => this.onEvent(e));
  }

  /**
   * The SDK's watchResource with a list + watch that survives the API server (see the file comment).
   * Resolves once the first list has succeeded, so "watching" means every existing object was seen.
   */
  protected override async watchResource(
    group: string,
    version: string,
    plural: string,
    onEvent: (event: ResourceEvent) => Promise<void>,
    namespace?: string,
  ): Promise<void> {
    const apiVersion = group ? `${group}/${version}` : version;
    const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
    const path = `${base}${namespace ? `/namespaces/${namespace}` : ''}/${plural}`;
    const custom = this.opts.kc.makeApiClient(CustomObjectsApi);
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const res = (namespace
        ? await custom.listNamespacedCustomObject({ group, version, plural, namespace })
        : await custom.listClusterCustomObject({ group, version, plural })) as KubernetesListObject<KubernetesObject>;
      // Items of a list may omit apiVersion/kind; the SDK's ResourceMeta needs them.
      const kind = res.kind?.replace(/List$/, '');
      for (const item of res.items ?? []) {
        item.apiVersion ??= apiVersion;
        if (kind) item.kind ??= kind;
      }
      return res;
    };
    const watch = restartingInformer<KubernetesObject>({
      kc: this.opts.kc,
      path,
      list,
      log: this.opts.log,
      resource: `${plural}.${group || 'core'}`,
      onRestart: this.opts.onRestart,
      timings: this.opts.timings,
      onChange: (verb, object) => {
        try {
          const event: ResourceEvent = { meta: ResourceMetaImpl.createWithPlural(plural, object), object, type: EVENT_TYPE[verb] };
          onEvent(event).catch(() => undefined);
        } catch {
          /* malformed object: the next relist brings it again */
        }
      },
    });
    this.watches.push(watch);
    await watch.start();
    this.logger.info(`watching resource ${plural}.${apiVersion}`);
  }

  /** True once every watch has listed successfully. */
  synced(): boolean {
    return this.watches.length > 0 && this.watches.every((w) => w.synced());
  }

  /** The SDK's stop() aborts its watches (and would exit the process); this stops ours. */
  override stop(): void {
    void this.stopWatches();
  }

  async stopWatches(): Promise<void> {
    await Promise.all(this.watches.map((w) => w.stop()));
  }

  /**
   * Never awaits, never throws: the SDK drops handler errors and runs handlers one at a time. The echo
   * of the controller's own write (a change whose resourceVersion the index already holds: the write's
   * answer was remembered) is not enqueued: it brings nothing the reconcile that wrote it did not know,
   * and each progress write of an operation cost one more pass over the whole cache.
   */
  onEvent(e: ResourceEvent): void {
    try {
      const cache = e.object as unknown as ImageCache;
      if (e.type === ResourceEventType.Modified && this.opts.index.holds(cache)) return;
      const key = e.type === ResourceEventType.Deleted ? this.opts.index.delete(cache) : this.opts.index.setIfNewer(cache);
      this.opts.enqueue(key);
    } catch {
      /* malformed event: the next relist brings the object again */
    }
  }
}
