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
//   cache holds only what the controller reads (informer-transforms.ts).
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../operator/logger.js';
import { apiErrorText, classifyApiError } from './api-errors.js';
import { NotLeadingError } from './request-layer.js';

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
  list: () => Promise<k8s.KubernetesListObject<T>>;
  labelSelector?: string;
  onChange: (verb: 'add' | 'update' | 'delete', obj: T) => void;
  log: Logger;
  resource: string;
  onRestart?: () => void;
  timings?: InformerTimings;
  /** Applied to every object (list items and watch events) before it is cached and handed to onChange. */
  transform?: (obj: T) => T;
}): RestartingInformer<T> {
  const initialDelay = opts.timings?.initialDelayMs ?? 1000;
  const maxDelay = opts.timings?.maxDelayMs ?? 30_000;
  const permissionGrace = opts.timings?.permissionGraceMs ?? 10_000;
  let listSucceeded = false;
  const transform = opts.transform;
  const informer = new k8s.ListWatch<T>(opts.path, transform ? transformingWatch(new k8s.Watch(opts.kc), transform) : new k8s.Watch(opts.kc), async () => {
    const list = await opts.list();
    if (transform) list.items = list.items.map(transform);
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

/** A Watch whose object events carry transform(object); ERROR and BOOKMARK events pass unchanged. */
export function transformingWatch<T>(watch: k8s.Watch, transform: (obj: T) => T): k8s.Watch {
  const objectEvent = new Set(['ADDED', 'MODIFIED', 'DELETED']);
  return {
    config: watch.config,
    watch: (path, queryParams, callback, done) =>
      watch.watch(path, queryParams, (phase, obj, raw) => callback(phase, objectEvent.has(phase) && obj ? transform(obj as T) : obj, raw), done),
  };
}
