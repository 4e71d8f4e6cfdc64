// The watch thread (a worker_threads Worker started by watch-thread.ts): it runs the requests of the
// controller's informers that use it (the Jobs and pods, --watch-thread), reads their answers as fast as the API server sends them,
// parses them without the parts nobody reads (watch-line.ts), projects each object to what the
// controller keeps (informer-transforms.ts) and posts the slim objects to the main thread. Whatever the
// main thread is doing (a planning pass, a status write), these sockets are drained: the API server's
// watch cache never waits on a watcher of the controller, so never spends the dispatch budget it shares
// with every other watcher of the resource (docs/benchmark.md "A watch thread").
//
// No KubeConfig here: the main thread asks for each request's URL, headers and TLS options through its
// request layer (rate limit, leadership gate, credentials) and sends them. This file imports neither
// client-node nor anything that does (it is bundled alone, as dist/bundle/watch-thread-worker.js).
import * as http from 'node:http';
import * as https from 'node:https';
import { parentPort } from 'node:worker_threads';
import { INFORMER_SHAPES } from './informer-transforms.js';
import { getText, openWatchStream, projectEvent } from './slim-watch.js';
import type { FromThread, RequestSpec, ThreadError, ToThread } from './watch-thread.js';

const port = parentPort;
if (!port) throw new Error('watch-thread-worker.ts runs as a worker thread (watch-thread.ts starts it)');

const active = new Map<number, AbortController>();

const post = (m: FromThread) => port.postMessage(m);

function threadError(err: unknown): ThreadError {
  const e = (err ?? {}) as { name?: unknown; message?: unknown; code?: unknown; statusCode?: unknown };
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(err),
    code: typeof e.code === 'string' || typeof e.code === 'number' ? e.code : undefined,
    statusCode: typeof e.statusCode === 'number' ? e.statusCode : undefined,
  };
}

/** TLS material arrives as Uint8Array (structured clone of a Buffer); the TLS layer wants Buffers or strings. */
const material = (v: unknown): unknown => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v) : Array.isArray(v) ? v.map(material) : v);

function agentFor(spec: RequestSpec): http.Agent | undefined {
  if (!spec.tls) return undefined;
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec.tls)) o[k] = material(v);
  return spec.url.startsWith('https:') ? new https.Agent(o) : new http.Agent(o);
}

function watch(id: number, spec: RequestSpec): void {
  const shape = spec.shape ? INFORMER_SHAPES[spec.shape] : undefined;
  const agent = agentFor(spec);
  let batch: [string, unknown][] = [];
  let flushing = false;
  // the events of one read (one or more lines) go in one message
  const flush = () => {
    flushing = false;
    if (batch.length === 0) return;
    post({ id, events: batch });
    batch = [];
  };
  const transform = shape?.transform as ((o: unknown) => unknown) | undefined;
  const ctl = openWatchStream(new URL(spec.url), spec.headers, agent, shape?.drop ?? {}, (type, obj) => {
    batch.push([type, projectEvent(type, obj, transform)]);
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  }, (err) => {
    flush();
    active.delete(id);
    agent?.destroy();
    post({ id, done: err === null || err === undefined ? null : threadError(err) });
  });
  active.set(id, ctl);
}

async function list(id: number, spec: RequestSpec): Promise<void> {
  const shape = spec.shape ? INFORMER_SHAPES[spec.shape] : undefined;
  const agent = agentFor(spec);
  try {
    const answer = await getText(new URL(spec.url), spec.headers, agent, spec.timeoutMs ?? 60_000);
    if (answer.status < 200 || answer.status >= 300) {
      post({ id, failed: answer });
      return;
    }
    const parsed = JSON.parse(answer.body) as { items?: unknown[] | null };
    const transform = shape?.transform as ((o: unknown) => unknown) | undefined;
    if (transform && Array.isArray(parsed.items)) parsed.items = parsed.items.map(transform);
    post({ id, list: parsed });
  } catch (err) {
    post({ id, error: threadError(err) });
  } finally {
    agent?.destroy();
  }
}

port.on('message', (m: ToThread) => {
  if (m.op === 'abort') {
    const ctl = active.get(m.id);
    active.delete(m.id);
    ctl?.abort();
  } else if (m.op === 'watch') {
    watch(m.id, m.spec);
  } else {
    void list(m.id, m.spec);
  }
});
