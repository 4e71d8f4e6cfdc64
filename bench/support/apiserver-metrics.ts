// kube-apiserver's own request counter, apiserver_request_total{verb,group,version,resource,subresource,
// scope,component,code,dry_run} (1.34: no user or user-agent label, so it counts every client of the
// cluster: the controller, kube-controller-manager, the scheduler, kwok). Scraped before and after a phase.
import * as https from 'node:https';
import type * as k8s from '@kubernetes/client-node';

export type RequestCounts = Map<string, number>;

const LINE = /^apiserver_request_total\{([^}]*)\}\s+([0-9.eE+-]+)$/;

/** Parses the Prometheus text of /metrics into "VERB resource[/subresource]" -> count (codes summed). */
export function parseRequestTotals(text: string): RequestCounts {
  const out: RequestCounts = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (labels.verb === 'WATCH' || labels.verb === 'CONNECT') continue; // long-running: not a request rate
    const res = labels.resource ? (labels.subresource ? `${labels.resource}/${labels.subresource}` : labels.resource) : '-';
    const key = `${labels.verb} ${res}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[2]));
  }
  return out;
}

export function deltaCounts(before: RequestCounts, after: RequestCounts): RequestCounts {
  const out: RequestCounts = new Map();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

export function total(c: RequestCounts): number {
  let n = 0;
  for (const v of c.values()) n += v;
  return n;
}

export async function scrapeRequestTotals(kc: k8s.KubeConfig): Promise<RequestCounts> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const reqOpts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(reqOpts);
  const url = new URL('/metrics', cluster.server);
  const text = await new Promise<string>((resolve, reject) => {
    const req = https.get(url, reqOpts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET /metrics: HTTP ${res.statusCode}: ${body.slice(0, 200)}`))));
    });
    req.on('error', reject);
  });
  return parseRequestTotals(text);
}
