// client-node informers (list + watch from a resourceVersion, relist on 410 Gone, deletes noticed by
// comparing a relist with the cache) made to survive their environment:
// - client-node stops an informer when its list or watch fails (it emits `error` and gives up); this
//   restarts it with backoff (1 s doubling to 30 s, or the server's Retry-After), from the last
//   resourceVersion when it has one;
// - synced() means one successful list: client-node reports a failed list through `error` while its
//   start() resolves, so "start() resolved" is not "listed" (verified on client-node 1.4.0, cache.js
//   doneHandler). start() here resolves only after a successful list;
// - a missing permission (401/403) that lasts past a short grace at start-up is fatal: start()
//   rejects with MissingPermissionError naming the resource, so the process can say which;
// - an optional transform is applied to every listed and watched object before it is cached, so the
//   cache holds only what the controller reads (informer-transforms.ts);
// - the list is read in pages (limit/continue, LIST_PAGE_SIZE objects each) as the API's JSON, the same
//   objects a watch event carries: at 1,000 nodes a whole list of pods or Jobs is one body of several MB,
//   its parsed JSON and client-node's deserialized copy of it (ObjectSerializer: a class instance and a
//   Date per field), all alive at once before the transform drops most of it; a page is 250 objects,
//   transformed before the next one is asked for (docs/benchmark.md "Memory");
// - an informer of a shape (the controller's Nodes, Jobs and pods) can list and watch through the watch
//   thread (watch-thread.ts): its answers are read, parsed and projected off the main thread, which
//   gets the slim objects;
// - a shape's objects then share what equal objects already cached hold (INFORMER_SHAPES share: the same
//   50 container statuses on every pull pod, a Job's work text in each of its versions).
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../operator/logger.js';
import { apiErrorText, classifyApiError, httpStatusOf } from './api-errors.js';
import { INFORMER_SHAPES, type InformerShape } from './informer-transforms.js';
import { NotLeadingError } from './request-layer.js';
import { getText, projectEvent, requestBase, SlimWatch } from './slim-watch.js';
import { plainAgentOptions, sharedWatchThread, threadedWatch, type WatchThread } from './watch-thread.js';
import type { DropTree } from './watch-line.js';

export interface RestartingInformer<T extends k8s.KubernetesObject> {
  list(): readonly T[];
  /** Resolves after the first successful list (or once stopped); rejects on a lasting missing permission. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True once a list has succeeded (the cache holds what the API server holds). */
  synced(): boolean;
}

/** The controller cannot list or watch a resource it needs: RBAC (403) or credentials (401). */
export class MissingPermissionError extends Error {
  constructor(readonly resource: string, readonly code: number, detail: string) {
    super(code === 401
      ? `the API server rejected the controller's credentials (401 Unauthorized) listing ${resource}: ${detail}. Check --kubeconfig / the service account token`
      : `missing permission: the controller may not list/watch ${resource} (403 Forbidden): ${detail}. Grant it in the controller's ClusterRole (deploy/kubefledged-clusterrole-controller.yaml)`);
    this.name = 'MissingPermissionError';
  }
}

export interface InformerTimings {
  /** First restart delay; doubles per failure. Default 1000 ms. */
  initialDelayMs?: number;
  /** Cap of the restart delay. Default 30000 ms. */
  maxDelayMs?: number;
  /** How long a 401/403 at start-up is retried before it is fatal (RBAC propagates in ~1 s). Default 10000 ms. */
  permissionGraceMs?: number;
}

export function restartingInformer<T extends k8s.KubernetesObject>(opts: {
  kc: k8s.KubeConfig;
  path: string;
  /** The list; by default `path` (with labelSelector) in pages of `pageSize`, see pagedList. */
  list?: () => Promise<k8s.KubernetesListObject<T>>;
  /** Objects per page of the default list. Default LIST_PAGE_SIZE. */
  pageSize?: number;
  labelSelector?: string;
  onChange: (verb: 'add' | 'update' | 'delete', obj: T) => void;
  log: Logger;
  resource: string;
  onRestart?: () => void;
  timings?: InformerTimings;
  /** Applied to every object (list items and watch events) before it is cached and handed to onChange. */
  transform?: (obj: T) => T;
  /**
   * Parts of each watch event's object never read (the transform drops them): skipped as text, never
   * parsed (slim-watch.ts, watch-line.ts). Without it, client-node's Watch parses every event whole.
   */
  drop?: DropTree;
  /**
   * What the informer caches (INFORMER_SHAPES: its drop and transform, which `drop` and `transform`
   * then must not be given). Its default list and its watch run on the watch thread, which hands on
   * projected objects, unless `thread` is null.
   */
  shape?: InformerShape;
  /** The watch thread of `shape`: default the process's one; null: this thread (the shape's drop and transform applied here). */
  thread?: WatchThread | null;
}): RestartingInformer<T> {
  const initialDelay = opts.timings?.initialDelayMs ?? 1000;
  const maxDelay = opts.timings?.maxDelayMs ?? 30_000;
  const permissionGrace = opts.timings?.permissionGraceMs ?? 10_000;
  let listSucceeded = false;
  const shape = opts.shape;
  if (shape && (opts.transform || opts.drop)) throw new Error('restartingInformer: a shape brings its own transform and drop');
  const transform = shape ? (INFORMER_SHAPES[shape].transform as unknown as (obj: T) => T) : opts.transform;
  const listFn = opts.list;
  const pageSize = opts.pageSize ?? LIST_PAGE_SIZE;
  // a shape's watch projects its objects itself (on the watch thread)
  const drop = shape ? INFORMER_SHAPES[shape].drop : opts.drop;
  const projected = shape && opts.thread !== null
    ? threadedWatch(opts.kc, shape, opts.thread)
    : transformed(drop ? (new SlimWatch(opts.kc, drop) as unknown as k8s.Watch) : new k8s.Watch(opts.kc), transform);
  // what equal objects already cached share (container statuses, Jobs' work texts): here, on the main
  // thread, whichever thread projected the object
  const share = shape ? (INFORMER_SHAPES[shape].share as unknown as ((obj: T) => T) | undefined) : undefined;
  const watch = transformed(projected, share);
  const informer = new k8s.ListWatch<T>(opts.path, watch, async () => {
    let list: k8s.KubernetesListObject<T>;
    if (listFn) {
      list = await listFn();
      if (transform) list.items = list.items.map(transform);
    } else if (shape) {
      list = await pagedList<T>((q) => listPage<T>(opts.kc, opts.path, { ...q, labelSelector: opts.labelSelector }, { shape, thread: opts.thread }), { pageSize });
    } else {
      list = await pagedList<T>((q) => listPage<T>(opts.kc, opts.path, { ...q, labelSelector: opts.labelSelector }), { pageSize, transform });
    }
    if (share) list.items = list.items.map(share);
    listSucceeded = true;
    // client-node fills its cache right after this promise resolves (same tick); synced from then on,
    // even while the watch request is still connecting.
    setImmediate(markSynced);
    return list;
  }, false, opts.labelSelector);
  let stopped = false;
  let hasSynced = false;
  let delay = initialDelay;
  let timer: NodeJS.Timeout | undefined;
  let errorsThisAttempt = 0;
  let permissionSince: number | undefined;
  let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
  const firstSync = new Promise<void>((resolve, reject) => { settle = { resolve, reject }; });
  firstSync.catch(() => undefined); // observed through start()

  const markSynced = () => {
    if (hasSynced || stopped) return;
    hasSynced = true;
    settle?.resolve();
  };

  const attempt = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    errorsThisAttempt = 0;
    try {
      await informer.start();
    } catch (err) {
      onError(err);
      return;
    }
    if (stopped) return;
    if (listSucceeded) markSynced();
    if (errorsThisAttempt === 0) {
      delay = initialDelay;
      permissionSince = undefined;
    }
  };

  const onError = (err: unknown): void => {
    errorsThisAttempt++;
    if (stopped) return;
    if (err instanceof NotLeadingError) return; // this informer's term is over; stop() follows
    const cls = classifyApiError(err);
    const text = apiErrorText(err);
    if (cls.kind === 'permission' && !hasSynced) {
      permissionSince ??= Date.now();
      if (Date.now() - permissionSince >= permissionGrace) {
        stopped = true;
        settle?.reject(new MissingPermissionError(opts.resource, cls.code, text));
        return;
      }
    } else {
      permissionSince = undefined;
    }
    const wait = cls.kind === 'transient' && cls.retryAfterMs !== undefined ? Math.min(Math.max(cls.retryAfterMs, delay), maxDelay) : delay;
    opts.log.warn(`${hasSynced ? 'watch' : 'list'} of ${opts.resource} failed; restarting in ${wait} ms`, { resource: opts.resource, error: text });
    opts.onRestart?.();
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void attempt(), wait);
    delay = Math.min(delay * 2, maxDelay);
  };

  informer.on('add', (o) => opts.onChange('add', o));
  informer.on('update', (o) => opts.onChange('update', o));
  informer.on('delete', (o) => opts.onChange('delete', o));
  informer.on('error', onError);

  let started = false;
  return {
    list: () => informer.list(),
    synced: () => hasSynced,
    start() {
      if (!started) {
        started = true;
        void attempt();
      }
      return firstSync;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      settle?.resolve();
      await informer.stop();
    },
  };
}

function transformed<T>(watch: k8s.Watch, transform: ((obj: T) => T) | undefined): k8s.Watch {
  return transform ? transformingWatch(watch, transform) : watch;
}

/** A Watch whose object events carry transform(object); ERROR and BOOKMARK events pass unchanged. */
export function transformingWatch<T>(watch: k8s.Watch, transform: (obj: T) => T): k8s.Watch {
  return {
    config: watch.config,
    watch: (path, queryParams, callback, done) =>
      watch.watch(path, queryParams, (phase, obj, raw) => callback(phase, projectEvent(phase, obj, transform), raw), done),
  };
}

/** Objects per page of an informer's list (client-go's reflector asks for 500; half keeps one answer's garbage smaller). */
export const LIST_PAGE_SIZE = 250;

/** One page of a list: at most `limit` objects, from `continue` (the previous page's token) on. */
export interface PageQuery { limit?: number; continue?: string }

/** A failed list request: the HTTP status and body, as client-node's ApiException has them (api-errors.ts reads both). */
export class ListRequestError extends Error {
  constructor(readonly code: number, readonly body: string, readonly headers: Record<string, string>, path: string) {
    super(`list ${path}: HTTP ${code}`);
    this.name = 'ListRequestError';
  }
}

/**
 * A whole list read page by page with `get`, `transform` applied to each page's items as it arrives.
 * The pages are one consistent list: the API server answers every continue token from the snapshot of
 * the first page (its resourceVersion, which the returned list carries for the watch that follows).
 * A token can expire (410 Gone after etcd's compaction, about 5 minutes) while pages are read: the
 * list is then read again whole, without a limit, as client-go's pager does. A 410 of the first page
 * is an error (the caller's retry starts over).
 */
export async function pagedList<T extends k8s.KubernetesObject>(
  get: (q: PageQuery) => Promise<k8s.KubernetesListObject<T>>,
  opts: { pageSize: number; transform?: (obj: T) => T },
): Promise<k8s.KubernetesListObject<T>> {
  const map = (items: T[] | undefined) => (opts.transform ? (items ?? []).map(opts.transform) : (items ?? []));
  const first = await get({ limit: opts.pageSize });
  const items = map(first.items);
  let next = continueOf(first);
  while (next) {
    let page: k8s.KubernetesListObject<T>;
    try {
      page = await get({ limit: opts.pageSize, continue: next });
    } catch (err) {
      if (httpStatusOf(err) !== 410) throw err;
      const whole = await get({});
      return { ...whole, metadata: withoutContinue(whole.metadata), items: map(whole.items) };
    }
    for (const o of map(page.items)) items.push(o);
    next = continueOf(page);
  }
  return { ...first, metadata: withoutContinue(first.metadata), items };
}

/** The continue token of a page: `continue` in the API's JSON, `_continue` once client-node deserialized it. */
function continueOf(list: k8s.KubernetesListObject<k8s.KubernetesObject>): string | undefined {
  const m = list.metadata as (k8s.V1ListMeta & { continue?: string }) | undefined;
  return m?.continue || m?._continue || undefined;
}

function withoutContinue(m: k8s.V1ListMeta | undefined): k8s.V1ListMeta {
  const { _continue: _a, continue: _b, remainingItemCount: _c, ...rest } = (m ?? {}) as k8s.V1ListMeta & { continue?: string };
  return rest;
}

/**
 * One GET of a list, with the KubeConfig's server, TLS and credentials (applyToFetchOptions, as
 * client-node's Watch does: in the controller, rate-limited and gated by the request layer), parsed
 * as plain JSON: the objects are the API's own, as in watch events, without client-node's
 * deserialized copy. With a shape the page is read, parsed and projected by the watch thread
 * (watch-thread.ts; here when the request's agent cannot be sent there), and its items come projected.
 */
export async function listPage<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  path: string,
  q: PageQuery & { labelSelector?: string },
  off?: { shape: InformerShape; thread?: WatchThread | null },
): Promise<k8s.KubernetesListObject<T>> {
  const { url, headers, agent } = await requestBase(kc, path);
  if (q.labelSelector !== undefined) url.searchParams.set('labelSelector', q.labelSelector);
  if (q.limit !== undefined) url.searchParams.set('limit', String(q.limit));
  if (q.continue !== undefined) url.searchParams.set('continue', q.continue);
  const tls = off && off.thread !== null ? plainAgentOptions(agent) : null;
  if (off && tls !== null) {
    agent?.destroy();
    const answer = await (off.thread ?? sharedWatchThread()).list({ url: url.href, headers, tls, shape: off.shape, timeoutMs: LIST_TIMEOUT_MS });
    if ('failed' in answer) throw new ListRequestError(answer.failed.status, answer.failed.body, answer.failed.headers, path);
    return answer.list as k8s.KubernetesListObject<T>;
  }
  const answer = await getText(url, headers, agent, LIST_TIMEOUT_MS);
  if (answer.status < 200 || answer.status >= 300) throw new ListRequestError(answer.status, answer.body, answer.headers, path);
  const list = JSON.parse(answer.body) as k8s.KubernetesListObject<T>;
  if (off && Array.isArray(list.items)) list.items = list.items.map(INFORMER_SHAPES[off.shape].transform as unknown as (o: T) => T);
  return list;
}

/** No answer to a list page within this is ETIMEDOUT. */
const LIST_TIMEOUT_MS = 60_000;
