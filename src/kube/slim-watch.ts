// client-node's Watch (what its ListWatch calls to watch), reading each line of the answer with
// parseWatchLine: the parts of the objects nobody reads (a Job's pod template, a pod's spec, every
// object's managedFields) are skipped as text instead of parsed (watch-line.ts). Everything else is
// client-node 1.4.0's Watch (dist/watch.js): the same URL and query, the KubeConfig's server, TLS and
// credentials through applyToFetchOptions (in the controller: rate-limited and gated by the request
// layer), TCP keep-alive every 30 s, a line that does not parse is skipped, `done` is called once (the
// answer ended, failed, or was not 200: an Error with statusCode), and the AbortController it returns
// ends the request.
//
// The HTTP parts (openWatchStream, getText) take a URL, headers and an agent only, no KubeConfig: the
// watch thread (watch-thread-worker.ts) runs them too, without client-node.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as k8s from '@kubernetes/client-node';
import { parseWatchLine, type DropTree } from './watch-line.js';

/** The server URL, headers and agent of one request, as client-node's Watch makes them (applyToFetchOptions). */
export async function requestBase(kc: k8s.KubeConfig, path: string): Promise<{ url: URL; headers: Record<string, string>; agent: http.Agent | undefined }> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  const init = await kc.applyToFetchOptions({});
  const headers: Record<string, string> = { Accept: 'application/json' };
  (init.headers as Headers | undefined)?.forEach((v, k) => { headers[k] = v; });
  return { url, headers, agent: init.agent as http.Agent | undefined };
}

/** A watch's URL: `watch=true` and the query (undefined values left out), as client-node's Watch sends them. */
export function watchUrl(url: URL, queryParams: Record<string, unknown> | undefined): URL {
  url.searchParams.set('watch', 'true');
  for (const [key, val] of Object.entries(queryParams ?? {})) {
    if (val !== undefined) url.searchParams.set(key, String(val));
  }
  return url;
}

export type WatchCallback = (phase: string, apiObj: unknown, watchObj?: unknown) => void;

const OBJECT_EVENTS = new Set(['ADDED', 'MODIFIED', 'DELETED']);

/** The object of a watch event, projected by `transform` when the event carries one (not ERROR or BOOKMARK). */
export function projectEvent<T>(phase: string, obj: unknown, transform: ((o: T) => T) | undefined): unknown {
  return transform && OBJECT_EVENTS.has(phase) && obj ? transform(obj as T) : obj;
}

/**
 * One watch request: every line of the answer parsed with parseWatchLine(line, drop) and given to
 * `callback`; `done` once, as client-node's Watch calls it. Returns the AbortController that ends it.
 */
export function openWatchStream(url: URL, headers: Record<string, string>, agent: http.Agent | undefined, drop: DropTree, callback: WatchCallback, done: (err: unknown) => void): AbortController {
  const controller = new AbortController();
  let doneCalled = false;
  const doneOnce = (err: unknown) => {
    if (doneCalled) return;
    doneCalled = true;
    controller.abort();
    done(err);
  };
  const req = (url.protocol === 'https:' ? https : http).request(url, { method: 'GET', headers, agent, signal: controller.signal }, (res) => {
    if (res.statusCode !== 200) {
      res.resume();
      const code = res.statusCode ?? 0;
      doneOnce(Object.assign(new Error(res.statusMessage || http.STATUS_CODES[code] || 'Internal Server Error'), { statusCode: code }));
      return;
    }
    res.setEncoding('utf8');
    let rest = '';
    const handle = (line: string) => {
      if (line.trim().length === 0) return;
      let data: { type: string; object: unknown };
      try {
        data = parseWatchLine(line, drop) as { type: string; object: unknown };
      } catch {
        return; // as client-node: a line that does not parse is skipped
      }
      callback(data.type, data.object, data);
    };
    res.on('data', (chunk: string) => {
      const text = rest + chunk;
      let from = 0;
      for (let nl = text.indexOf('\n'); nl >= 0 && !doneCalled; nl = text.indexOf('\n', from)) {
        handle(text.slice(from, nl));
        from = nl + 1;
      }
      rest = text.slice(from);
    });
    // a last line without its newline is an event too (as readline gives it)
    res.on('end', () => {
      if (!doneCalled) handle(rest);
      rest = '';
      doneOnce(null);
    });
    res.on('error', doneOnce);
    res.on('close', () => doneOnce(null));
  });
  req.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
  req.on('error', doneOnce);
  req.end();
  return controller;
}

/** One GET answered whole: its status, body text and (single-valued) headers; no answer within timeoutMs is ETIMEDOUT. */
export function getText(url: URL, headers: Record<string, string>, agent: http.Agent | undefined, timeoutMs: number): Promise<{ status: number; body: string; headers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: 'GET', headers, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h[k] = v;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: h });
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`GET ${url.pathname}: no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

export class SlimWatch {
  constructor(readonly config: k8s.KubeConfig, private readonly drop: DropTree) {}

  async watch(path: string, queryParams: Record<string, unknown>, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController> {
    const { url, headers, agent } = await requestBase(this.config, path);
    return openWatchStream(watchUrl(url, queryParams), headers, agent, this.drop, callback, done);
  }
}
