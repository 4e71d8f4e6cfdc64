// HTTP server of the controller (node:http): /metrics (Prometheus text), /healthz (liveness) and
// /readyz (readiness). A probe answers 200 "ok" or 503 with the reason.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { parseBindAddress } from '../config/bind-address.js';

export { parseBindAddress } from '../config/bind-address.js';

/** A probe: true / {ok: true} when fine; false or {ok: false, reason} when not. Throwing counts as not fine. */
export type Probe = () => boolean | { ok: boolean; reason?: string };

export interface HealthServerOptions {
  /** "[host]:port": ":8080" listens on every interface, "127.0.0.1:0" on an ephemeral loopback port. */
  bindAddress: string;
  registry: Registry;
  isReady: Probe;
  isHealthy: Probe;
}

export interface HealthServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

function runProbe(probe: Probe): { ok: boolean; reason: string } {
  try {
    const r = probe();
    if (typeof r === 'boolean') return { ok: r, reason: '' };
    return { ok: r.ok, reason: r.reason ?? '' };
  } catch (err) {
    return { ok: false, reason: `probe failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function send(res: http.ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const { host, port } = parseBindAddress(opts.bindAddress);

  const probeResponse = (res: http.ServerResponse, name: string, probe: Probe) => {
    const r = runProbe(probe);
    if (r.ok) send(res, 200, 'ok\n');
    else send(res, 503, `${name} failed${r.reason ? `: ${r.reason}` : ''}\n`);
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'method not allowed\n');
      return;
    }
    switch (path) {
      case '/healthz':
      case '/livez':
        probeResponse(res, 'healthz', opts.isHealthy);
        return;
      case '/readyz':
        probeResponse(res, 'readyz', opts.isReady);
        return;
      case '/metrics':
        opts.registry.metrics().then(
          (text) => send(res, 200, text, opts.registry.contentType),
          (err: unknown) => send(res, 500, `collecting metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
        );
        return;
      default:
        send(res, 404, 'not found: serving /metrics, /healthz and /readyz\n');
    }
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new Error(`cannot listen on ${opts.bindAddress} for /metrics, /healthz, /readyz: ${err.code ?? ''} ${err.message}`.trim()));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
