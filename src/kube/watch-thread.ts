// The watch thread, main side: the controller's Job and pod informers (--watch-thread) list and watch through one
// worker thread (watch-thread-worker.ts) that reads their answers whatever the main thread is doing.
//
// Why (issue 12, docs/benchmark.md "A watch thread"): kube-apiserver's watch cache hands each event to
// every watcher of a resource; the watchers whose buffers (10 events for Jobs and pods) are full share
// one time budget (at most 100 ms, refilled by 50 ms a second), and every watcher still full when it
// runs out is closed. A watcher of the controller read by its one thread falls behind while that thread
// runs a planning pass (18-40 ms at 1,000 nodes x 50 images, hundreds of ms over all-new objects) or
// parses a list page of several MB: it spends the budget of every watcher of the resource, and kwok's or
// kube-controller-manager's watch is closed, which then re-lists and plays its work again. Here the
// sockets are read, parsed and projected on a thread of their own, and the main thread receives the
// slim objects (a few hundred bytes each) as messages: a busy main thread delays its handling of events,
// never the API server.
//
// Each request is asked for on the main thread (requestBase: the request layer's rate limit, the
// leadership gate, the credentials of the moment) and run by the thread with the URL, headers and TLS
// options it is given. An agent that is not a plain http(s).Agent (a proxy's) cannot be sent: such a
// request runs on the main thread, as slim-watch.ts does. If the thread dies, every request in flight
// fails (the informers restart them) and the next request starts a new thread.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type * as k8s from '@kubernetes/client-node';
import { INFORMER_SHAPES, type InformerShape } from './informer-transforms.js';
import { openWatchStream, projectEvent, requestBase, watchUrl, type WatchCallback } from './slim-watch.js';

/** One request for the thread: what requestBase made of it on the main thread. */
export interface RequestSpec {
  url: string;
  headers: Record<string, string>;
  /** The TLS options of the request's agent (plainAgentOptions); none for a plain http server. */
  tls?: Record<string, unknown>;
  /** How to parse and project the objects; none: whole, as they come. */
  shape?: InformerShape;
  /** A list only: no answer within this is ETIMEDOUT. Default 60 s. */
  timeoutMs?: number;
}

export type ToThread = { op: 'watch'; id: number; spec: RequestSpec } | { op: 'list'; id: number; spec: RequestSpec } | { op: 'abort'; id: number };

/** An error as it crosses the thread boundary: the fields api-errors.ts reads. */
export interface ThreadError { name: string; message: string; code?: string | number; statusCode?: number }

/** A list answered with a status other than 2xx: what ListRequestError keeps. */
export interface FailedAnswer { status: number; body: string; headers: Record<string, string> }

export type FromThread =
  | { id: number; events: [string, unknown][] }
  | { id: number; done: ThreadError | null }
  | { id: number; list: unknown }
  | { id: number; failed: FailedAnswer }
  | { id: number; error: ThreadError };

export type ListAnswer = { list: unknown } | { failed: FailedAnswer };

const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'ciphers', 'minVersion', 'maxVersion'] as const;

/**
 * The TLS options of a plain http(s).Agent (client-node's applyToFetchOptions makes one per request
 * from the kubeconfig's CA, client certificate and key); undefined for no agent; null for any other
 * agent (a proxy's), which only the thread that made it can use.
 */
export function plainAgentOptions(agent: http.Agent | undefined): Record<string, unknown> | undefined | null {
  if (!agent) return undefined;
  if (agent.constructor !== https.Agent && agent.constructor !== http.Agent) return null;
  const o = ((agent as http.Agent & { options?: Record<string, unknown> }).options ?? {});
  const tls: Record<string, unknown> = {};
  for (const k of TLS_KEYS) if (o[k] !== undefined && o[k] !== null) tls[k] = o[k];
  return tls;
}

function toError(e: ThreadError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  if (e.code !== undefined) (err as Error & { code?: unknown }).code = e.code;
  if (e.statusCode !== undefined) (err as Error & { statusCode?: number }).statusCode = e.statusCode;
  return err;
}

/** Where the thread's code is: beside this module (the bundle, tsc's dist/), or its source when run through tsx. */
function workerEntry(): URL {
  for (const name of ['./watch-thread-worker.js', './watch-thread-worker.ts']) {
    const u = new URL(name, import.meta.url);
    if (fs.existsSync(fileURLToPath(u))) return u;
  }
  throw new Error(`the watch thread's code is missing beside ${fileURLToPath(import.meta.url)} (watch-thread-worker.js)`);
}

function startWorker(entry: URL): Worker {
  if (entry.pathname.endsWith('.ts')) {
    // the sources run through tsx (tests, bench scripts): a worker does not inherit its loader
    const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
    return new Worker(boot, { eval: true, name: 'kubefledged-watch' });
  }
  return new Worker(entry, { name: 'kubefledged-watch' });
}

type Stream =
  | { kind: 'watch'; callback: WatchCallback; done: (err: unknown) => void }
  | { kind: 'list'; resolve: (a: ListAnswer) => void; reject: (err: unknown) => void };

export class WatchThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly streams = new Map<number, Stream>();

  /** Requests in flight (watches open, lists unanswered). */
  inFlight(): number {
    return this.streams.size;
  }

  /** The thread's id while it runs (tests: a new thread after a crash). */
  threadId(): number | undefined {
    return this.worker?.threadId;
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = startWorker(workerEntry());
    w.on('message', (m: FromThread) => this.receive(m));
    w.on('error', (err) => this.lost(w, err));
    w.on('exit', (code) => this.lost(w, new Error(`the watch thread exited (code ${code})`)));
    this.worker = w;
    return w;
  }

  /** The thread died: every request in flight fails with why. */
  private lost(w: Worker, err: unknown): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    const all = [...this.streams.values()];
    this.streams.clear();
    for (const s of all) {
      if (s.kind === 'watch') s.done(err);
      else s.reject(err);
    }
  }

  /** The thread keeps the process alive only while it has requests in flight (as their sockets did). */
  private refresh(): void {
    if (!this.worker) return;
    if (this.streams.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  /** A watch run by the thread; its events come to `callback`, its end to `done` once, as client-node's Watch. */
  watch(spec: RequestSpec, callback: WatchCallback, done: (err: unknown) => void): AbortController {
    const w = this.thread();
    const id = this.nextId++;
    const ctl = new AbortController();
    this.streams.set(id, { kind: 'watch', callback, done });
    ctl.signal.addEventListener('abort', () => {
      if (!this.streams.delete(id)) return;
      w.postMessage({ op: 'abort', id } satisfies ToThread);
      this.refresh();
      const err = new Error('This operation was aborted');
      err.name = 'AbortError';
      setImmediate(() => done(err));
    });
    w.postMessage({ op: 'watch', id, spec } satisfies ToThread);
    this.refresh();
    return ctl;
  }

  /** One list page read by the thread: its parsed (and projected) JSON, or the answer of a status other than 2xx. */
  list(spec: RequestSpec): Promise<ListAnswer> {
    const w = this.thread();
    const id = this.nextId++;
    return new Promise<ListAnswer>((resolve, reject) => {
      this.streams.set(id, { kind: 'list', resolve, reject });
      w.postMessage({ op: 'list', id, spec } satisfies ToThread);
      this.refresh();
    });
  }

  private receive(m: FromThread): void {
    const s = this.streams.get(m.id);
    if (!s) return; // aborted meanwhile
    if ('events' in m) {
      if (s.kind !== 'watch') return;
      for (const [type, object] of m.events) {
        if (!this.streams.has(m.id)) return; // a callback aborted it
        s.callback(type, object, { type, object });
      }
      return;
    }
    this.streams.delete(m.id);
    this.refresh();
    if ('done' in m) {
      if (s.kind === 'watch') s.done(m.done === null ? null : toError(m.done));
    } else if (s.kind === 'list') {
      if ('list' in m) s.resolve({ list: m.list });
      else if ('failed' in m) s.resolve({ failed: m.failed });
      else s.reject(toError(m.error));
    }
  }

  /** Ends the thread; requests in flight fail. */
  async stop(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.lost(w, new Error('the watch thread was stopped'));
    await w.terminate();
  }
}

let shared: WatchThread | undefined;

/** The process's one watch thread (started at its first request). */
export function sharedWatchThread(): WatchThread {
  shared ??= new WatchThread();
  return shared;
}

/**
 * client-node's Watch for an informer of `shape`: the request asked for here, run by the watch thread,
 * every object event's object already projected (INFORMER_SHAPES[shape].transform). With an agent the
 * thread cannot use it runs here, as SlimWatch, projected the same.
 */
export function threadedWatch(kc: k8s.KubeConfig, shape: InformerShape, thread: WatchThread = sharedWatchThread()): k8s.Watch {
  const { drop, transform } = INFORMER_SHAPES[shape];
  const project = transform as (o: unknown) => unknown;
  return {
    config: kc,
    async watch(path: string, queryParams: Record<string, unknown>, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController> {
      const { url, headers, agent } = await requestBase(kc, path);
      watchUrl(url, queryParams);
      const tls = plainAgentOptions(agent);
      if (tls === null) {
        return openWatchStream(url, headers, agent, drop, (type, obj, raw) => callback(type, projectEvent(type, obj, project), raw), done);
      }
      agent?.destroy();
      return thread.watch({ url: url.href, headers, tls, shape }, callback, done);
    },
  } as unknown as k8s.Watch;
}
