// Test support: a plain-HTTP proxy on 127.0.0.1 in front of the local API server, to inject the
// answers of a struggling API server (429 with Retry-After, 5xx, 410 Gone on watches, reset
// connections, an outage) into one controller without touching the shared control plane.
// The controller reaches it with --master=http://127.0.0.1:<port>; its bearer token passes through.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { serviceAccountKubeconfig } from './controller-process.js';

export interface ProxiedRequest {
  method: string;
  /** Path and query, e.g. /api/v1/nodes?watch=true&resourceVersion=12 */
  url: string;
  path: string;
  query: URLSearchParams;
  watch: boolean;
}

/** What to do with a request: forward it, answer for the server, or drop the connection. */
export type FaultAction =
  | { pass: true }
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { reset: true };

export type FaultRule = (req: ProxiedRequest) => FaultAction | undefined;

export const statusBody = (code: number, reason: string, message: string) =>
  ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message });

export class FaultProxy {
  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<http.ServerResponse>();
  private rule: FaultRule = () => undefined;
  /** Every request seen, in order (for assertions). */
  readonly seen: ProxiedRequest[] = [];
  port = 0;

  constructor(private readonly upstream: KubeConfig) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  setRule(rule: FaultRule | undefined): void {
    this.rule = rule ?? (() => undefined);
  }

  /** Ends every open watch (as an API server restart does); the clients reconnect. */
  cutWatches(): void {
    for (const res of this.watches) res.destroy();
    this.watches.clear();
  }

  async start(): Promise<this> {
    const cluster = this.upstream.getCurrentCluster();
    if (!cluster) throw new Error('fault proxy: no current cluster');
    const target = new URL(cluster.server);
    const opts: https.RequestOptions = {};
    await this.upstream.applyToHTTPSOptions(opts);
    const agent = new https.Agent({ ca: opts.ca, cert: opts.cert, key: opts.key, keepAlive: true });

    this.server = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const pr: ProxiedRequest = {
        method: req.method ?? 'GET', url: req.url ?? '/', path: u.pathname, query: u.searchParams,
        watch: u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1',
      };
      this.seen.push(pr);
      const action = this.rule(pr);
      if (action && 'reset' in action) {
        req.socket.destroy();
        return;
      }
      if (action && 'status' in action) {
        const body = typeof action.body === 'string' ? action.body : JSON.stringify(action.body ?? statusBody(action.status, 'InjectedFault', 'injected by the test proxy'));
        if (pr.watch && action.status === 200) {
          // an in-stream answer to a watch (e.g. an ERROR event), then the stream ends
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(`${body}\n`);
          return;
        }
        res.writeHead(action.status, { 'Content-Type': 'application/json', ...action.headers });
        res.end(body);
        return;
      }
      const headers = { ...req.headers, host: target.host };
      const up = https.request({
        protocol: 'https:', hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent: pr.watch ? new https.Agent({ ca: opts.ca, cert: opts.cert, key: opts.key }) : agent,
      }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        if (pr.watch) {
          this.watches.add(res);
          res.on('close', () => {
            this.watches.delete(res);
            upRes.destroy();
          });
        }
      });
      up.on('error', () => res.destroy());
      req.on('aborted', () => up.destroy());
      req.pipe(up);
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * A kubeconfig file for the proxy: the credentials of `kubeconfigFile`, the server the proxy's URL.
 * client-node refuses http:// unless insecure-skip-tls-verify is set (meaningless over plain HTTP).
 */
export function proxiedKubeconfig(kubeconfigFile: string, proxyUrl: string): string {
  const cfg = JSON.parse(fs.readFileSync(kubeconfigFile, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
  for (const c of cfg.clusters) c.cluster = { server: proxyUrl, 'insecure-skip-tls-verify': true };
  const file = path.join(path.dirname(kubeconfigFile), `proxied-${path.basename(kubeconfigFile)}`);
  fs.writeFileSync(file, JSON.stringify(cfg), { mode: 0o600 });
  return file;
}

/** A ServiceAccount of `ns` under the chart's RBAC, reachable directly (saFile) or through a new FaultProxy (viaProxy). */
export async function proxiedServiceAccount(kc: KubeConfig, ns: string): Promise<{ saFile: string; viaProxy: string; proxy: FaultProxy; cleanup: () => Promise<void> }> {
  const sa = await serviceAccountKubeconfig(kc, ns);
  const saKc = new k8s.KubeConfig();
  saKc.loadFromFile(sa.file);
  const proxy = await new FaultProxy(saKc).start();
  return {
    saFile: sa.file,
    viaProxy: proxiedKubeconfig(sa.file, proxy.url),
    proxy,
    cleanup: async () => {
      await proxy.stop();
      await sa.cleanup();
    },
  };
}
