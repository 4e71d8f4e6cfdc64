// Admission latency of the ImageCache webhook, seen from the API server side.
//
//   npx tsx bench/webhook-latency.ts [--count=300]      (needs `make cluster-up`)
//
// Starts the real webhook server (child process on 127.0.0.1, self-managed TLS), registers it by URL
// for one namespace ("with") and leaves another namespace unselected ("without"), then issues --count
// ImageCache creates into each, interleaved, through the API (client-node). Prints:
//  1. end-to-end create latency p50/p99 with and without the webhook, and the difference;
//  2. the API server's own histogram apiserver_admission_webhook_admission_duration_seconds for this
//     webhook (delta over the run; bucket-interpolated p50/p99 as histogram_quantile does, plus the
//     bucket counts, since the buckets are coarse);
//  3. the webhook's own handling time (kubefledged_webhook_admission_duration_seconds).
// Everything it creates (namespaces, configuration, Secret, process) is removed at the end.

import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, kubectl, uniqueName } from '../test/support/cluster.js';
import { freePort, httpsGet, startWebhookProcess } from '../test/integration/webhook/webhook-process.js';

const count = Number(/^--count=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--count=')) ?? '')?.[1] ?? 300);
const WEBHOOK = 'validate-image-cache.kubefledged.io';

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

type Buckets = Map<number, number>; // le -> cumulative count

async function apiserverBuckets(): Promise<Buckets> {
  const text = await kubectl(['get', '--raw', '/metrics']);
  const buckets: Buckets = new Map();
  const re = /^apiserver_admission_webhook_admission_duration_seconds_bucket\{([^}]*)\} (\S+)$/gm;
  for (const m of text.matchAll(re)) {
    const labels = m[1]!;
    if (!labels.includes(`name="${WEBHOOK}"`) || !labels.includes('operation="CREATE"')) continue;
    const le = /le="([^"]+)"/.exec(labels)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(m[2]));
  }
  return buckets;
}

function histogramQuantile(q: number, buckets: [number, number][]): number {
  const total = buckets[buckets.length - 1]?.[1] ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, cum] of buckets) {
    if (cum >= rank) {
      if (bound === Infinity) return prevBound;
      return prevBound + ((bound - prevBound) * (rank - prevCount)) / Math.max(1, cum - prevCount);
    }
    prevBound = bound;
    prevCount = cum;
  }
  return prevBound;
}

const ms = (seconds: number): string => `${(seconds * 1000).toFixed(2)} ms`;

async function main(): Promise<void> {
  const kc: k8s.KubeConfig = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  const withNs = await createNamespace(core, 'kf-bench-webhook-on');
  const withoutNs = await createNamespace(core, 'kf-bench-webhook-off');
  const vwcName = uniqueName('kf-bench-webhook');
  const secretName = `${vwcName}-tls`;
  const port = await freePort();
  const webhook = await startWebhookProcess(
    [
      `--tls-secret-namespace=${withNs}`,
      `--tls-secret-name=${secretName}`,
      `--webhook-config-name=${vwcName}`,
      `--webhook-url=https://127.0.0.1:${port}/validate-image-cache`,
      `--namespace-selector=kubernetes.io/metadata.name=${withNs}`,
      '--stderrthreshold=ERROR',
    ],
    port,
  );
  try {
    const create = async (namespace: string, name: string): Promise<number> => {
      const body = { apiVersion: 'kubefledged.io/v1alpha2', kind: 'ImageCache', metadata: { name, namespace }, spec: { cacheSpec: [{ images: ['nginx:1.27', 'redis:7'] }] } };
      const t0 = process.hrtime.bigint();
      await custom.createNamespacedCustomObject({ group: 'kubefledged.io', version: 'v1alpha2', plural: 'imagecaches', namespace, body });
      return Number(process.hrtime.bigint() - t0) / 1e9;
    };
    // Wait until the API server calls the webhook (a denied probe), then warm up both paths.
    for (let i = 0; ; i++) {
      try {
        await custom.createNamespacedCustomObject({ group: 'kubefledged.io', version: 'v1alpha2', plural: 'imagecaches', namespace: withNs, body: { apiVersion: 'kubefledged.io/v1alpha2', kind: 'ImageCache', metadata: { name: `probe-${i}` }, spec: { cacheSpec: [{ images: [] }] } } });
      } catch (err) {
        if (String((err as Error).message).includes('denied the request')) break;
      }
      if (i > 120) throw new Error(`webhook never answered: ${webhook.output()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    for (let i = 0; i < 20; i++) {
      await create(withNs, `warm-${i}`);
      await create(withoutNs, `warm-${i}`);
    }
    // Another configuration calling a webhook of the same name (e.g. a `make run` elsewhere on this
    // cluster) would be counted too: say so rather than print mixed figures silently.
    const others = (await admission.listValidatingWebhookConfiguration()).items.filter(
      (c) => c.metadata?.name !== vwcName && (c.webhooks ?? []).some((w) => (w.rules ?? []).some((r) => (r.resources ?? []).includes('imagecaches'))),
    );
    if (others.length > 0) console.log(`WARNING: other configurations also validate imagecaches: ${others.map((c) => c.metadata?.name).join(', ')}; figures are mixed`);
    const before = await apiserverBuckets();
    const withTimes: number[] = [];
    const withoutTimes: number[] = [];
    for (let i = 0; i < count; i++) {
      withTimes.push(await create(withNs, `ic-${i}`));
      withoutTimes.push(await create(withoutNs, `ic-${i}`));
    }
    const after = await apiserverBuckets();

    withTimes.sort((a, b) => a - b);
    withoutTimes.sort((a, b) => a - b);
    const p = (xs: number[]) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99) });
    const w = p(withTimes);
    const wo = p(withoutTimes);
    console.log(`ImageCache CREATE through the API server, ${count} each, sequential, interleaved (client-node, local control plane):`);
    console.log(`  with webhook     p50 ${ms(w.p50)}  p99 ${ms(w.p99)}`);
    console.log(`  without webhook  p50 ${ms(wo.p50)}  p99 ${ms(wo.p99)}`);
    console.log(`  added by webhook p50 ${ms(w.p50 - wo.p50)}  p99 ${ms(w.p99 - wo.p99)}`);

    const delta: [number, number][] = [...after.entries()].sort(([a], [b]) => a - b).map(([le, c]) => [le, c - (before.get(le) ?? 0)]);
    console.log(`API server metric apiserver_admission_webhook_admission_duration_seconds{name="${WEBHOOK}",operation="CREATE"} over the run:`);
    console.log(`  histogram_quantile p50 ${ms(histogramQuantile(0.5, delta))}  p99 ${ms(histogramQuantile(0.99, delta))}`);
    console.log(`  buckets (le: count): ${delta.map(([le, c]) => `${le === Infinity ? '+Inf' : le}: ${c}`).join(', ')}`);

    const ca = Buffer.from((await core.readNamespacedSecret({ name: secretName, namespace: withNs })).data!['ca.crt']!, 'base64').toString();
    const metrics = (await httpsGet(port, '/metrics', ca)).body;
    const sum = Number(/kubefledged_webhook_admission_duration_seconds_sum\{path="\/validate-image-cache",verdict="allowed"\} (\S+)/.exec(metrics)?.[1]);
    const n = Number(/kubefledged_webhook_admission_duration_seconds_count\{path="\/validate-image-cache",verdict="allowed"\} (\S+)/.exec(metrics)?.[1]);
    console.log(`Webhook's own handling time (allowed requests): mean ${ms(sum / n)} over ${n} requests`);
  } finally {
    await webhook.stop();
    await admission.deleteValidatingWebhookConfiguration({ name: vwcName }).catch(() => undefined);
    await core.deleteNamespacedSecret({ name: secretName, namespace: withNs }).catch(() => undefined);
    await deleteNamespace(core, withNs);
    await deleteNamespace(core, withoutNs);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
