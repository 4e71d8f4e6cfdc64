// The faults of issue 11, each injected at a random point of an operation (see harness.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ROOT, eventually, kubectl, kubeconfigPath } from '../support/cluster.js';
import { fakeNode } from '../support/nodes.js';
import { statusBody } from '../support/fault-proxy.js';
import { restartComponent } from './control-plane.js';
import type { Fault, RunContext } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (ctx: Pick<RunContext, 'random'>, lo: number, hi: number) => Math.round(lo + ctx.random() * (hi - lo));

async function apiAnswers(): Promise<void> {
  await eventually('API server answers again', async () => {
    await kubectl(['get', '--raw', '/readyz']);
    return true;
  }, 120_000, 200);
}

/** Restarts a component, waits for the API to answer and says where the time went. */
async function restartAndWait(component: 'kube-apiserver' | 'etcd', downMs: number): Promise<void> {
  const stopMs = await restartComponent(component, downMs);
  const started = Date.now();
  await apiAnswers();
  process.stderr.write(`[faults]   ${component}: stopped in ${(stopMs / 1000).toFixed(1)} s, down ${(downMs / 1000).toFixed(1)} s, the API answered ${((Date.now() - started) / 1000).toFixed(1)} s after the start\n`);
}

/** The bound: "an API-server outage of 60 s ends with the same process leading again". */
export const LONGEST_OUTAGE_MS = 60_000;

/**
 * Length of the API-server outage of a run: --outage=S when given; in the quick pass the short end
 * (5-10 s); in the full set the first run is the longest outage (60 s) and the others 5-60 s.
 */
export function outageMs(ctx: Pick<RunContext, 'forcedOutageMs' | 'quick' | 'index' | 'random'>): number {
  if (ctx.forcedOutageMs !== undefined) return ctx.forcedOutageMs;
  if (ctx.quick) return between(ctx, 5_000, 10_000);
  return ctx.index === 0 ? LONGEST_OUTAGE_MS : between(ctx, 5_000, LONGEST_OUTAGE_MS);
}

async function leaderOrAny(ctx: RunContext) {
  return (await ctx.sup.leader()) ?? ctx.sup.live()[0];
}

const LABEL = 'app=kubefledged';

export const FAULTS: Fault[] = [
  {
    name: 'SIGKILL of the controller',
    async inject(ctx) {
      const p = await leaderOrAny(ctx);
      if (!p?.pid) return;
      ctx.sup.expectExit(p.pid, null);
      await p.kill();
    },
  },
  {
    name: 'SIGTERM of the controller',
    async inject(ctx) {
      const p = await leaderOrAny(ctx);
      if (!p?.pid) return;
      ctx.sup.expectExit(p.pid, 0); // a graceful exit is exit 0; anything else counts
      await p.stop();
    },
  },
  {
    name: 'kube-apiserver stopped 5-60 s',
    async inject(ctx) {
      ctx.faultMs = outageMs(ctx);
      await restartAndWait('kube-apiserver', ctx.faultMs);
    },
  },
  {
    name: 'etcd restarted',
    async inject(ctx) {
      await restartAndWait('etcd', between(ctx, 500, 3_000));
    },
  },
  {
    name: 'watch expired (410)',
    async inject(ctx) {
      // every watch is cut and its next start answered 410 Gone: relist from scratch
      const gone = new Set<string>();
      ctx.env.proxy.setRule((r) => {
        if (!r.watch || gone.has(r.path)) return undefined;
        gone.add(r.path);
        return { status: 410, body: statusBody(410, 'Expired', 'too old resource version') };
      });
      ctx.env.proxy.cutWatches();
      await sleep(3_000);
      ctx.env.proxy.setRule(undefined);
    },
  },
  {
    name: '429/5xx from the API server',
    async inject(ctx) {
      let n = 0;
      ctx.env.proxy.setRule((r) => {
        if (r.path.includes('/leases')) return undefined;
        n++;
        if (n % 3 === 0) return { status: 503, body: statusBody(503, 'ServiceUnavailable', 'injected') };
        return { status: 429, headers: { 'Retry-After': '1' }, body: statusBody(429, 'TooManyRequests', 'storage is (re)initializing') };
      });
      ctx.env.proxy.cutWatches();
      await sleep(between(ctx, 3_000, 8_000));
      ctx.env.proxy.setRule(undefined);
    },
  },
  {
    name: 'CRD created just before the controller starts',
    async before() {
      await kubectl(['delete', '--ignore-not-found', '--wait=true', '-f', `${ROOT}/crds/imagecaches.kubefledged.io.yaml`]);
      await kubectl(['apply', '-f', `${ROOT}/crds/imagecaches.kubefledged.io.yaml`]);
    },
    async inject() {
      // the fault is the start-up race itself (before()); the rest is an ordinary operation
      await kubectl(['wait', '--for', 'condition=established', '--timeout=60s', 'crd/imagecaches.kubefledged.io']);
    },
  },
  {
    name: 'webhook down (make run\'s local registration)',
    userActsDuringFault: true,
    async before(ctx) {
      const port = 20000 + Math.floor(ctx.random() * 20000);
      const name = `kf-faults-webhook-${ctx.run}`;
      const child = spawn(path.join(ROOT, 'hack/run-webhook.sh'), [], {
        cwd: ROOT, stdio: 'ignore',
        env: { ...process.env, KUBECONFIG: kubeconfigPath(), KUBEFLEDGED_NAMESPACE: ctx.env.ns, WEBHOOK_PORT: String(port), WEBHOOK_CONFIG_NAME: name },
      });
      webhooks.set(ctx.run, { child, name });
      const admission = ctx.env.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
      await eventually('local webhook registered', async () => admission.readValidatingWebhookConfiguration({ name }).catch(() => undefined), 90_000, 300);
    },
    async inject(ctx) {
      const w = webhooks.get(ctx.run);
      w?.child.kill('SIGKILL'); // it cannot unregister: the registration stays, pointing at nothing
      await sleep(1000);
    },
    async after(ctx) {
      const w = webhooks.get(ctx.run);
      webhooks.delete(ctx.run);
      if (w && w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      if (w) await ctx.env.kc.makeApiClient(k8s.AdmissionregistrationV1Api).deleteValidatingWebhookConfiguration({ name: w.name }).catch(() => undefined);
    },
  },
  {
    name: 'Jobs deleted by hand',
    async inject(ctx) {
      await ctx.env.batch.deleteCollectionNamespacedJob({ namespace: ctx.env.ns, labelSelector: LABEL, propagationPolicy: 'Background' });
    },
  },
  {
    name: 'pull pods deleted by hand',
    async inject(ctx) {
      await ctx.env.core.deleteCollectionNamespacedPod({ namespace: ctx.env.ns, labelSelector: LABEL });
    },
  },
  {
    name: 'a node deleted mid-operation',
    async inject(ctx) {
      const victim = ctx.env.nodes[Math.floor(ctx.random() * ctx.env.nodes.length)]!;
      deletedNodes.set(ctx.run, victim);
      await ctx.env.core.deleteNode({ name: victim });
    },
    async after(ctx) {
      const victim = deletedNodes.get(ctx.run);
      deletedNodes.delete(ctx.run);
      if (!victim) return;
      await ctx.env.core.createNode({ body: fakeNode(victim, { labels: ctx.env.selector }) }).catch(() => undefined);
      // the next run (of any fault: they share the nodes) starts on 20 Ready nodes again
      await eventually(`node ${victim} Ready again`, async () => (await ctx.env.core.readNode({ name: victim })).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), 60_000, 200);
    },
  },
  {
    name: 'leader killed with a standby running',
    replicas: 2,
    async inject(ctx) {
      const p = await ctx.sup.leader();
      if (!p?.pid) return;
      ctx.sup.expectExit(p.pid, null);
      await p.kill();
    },
  },
  {
    name: 'CPU starved during renewals',
    async inject(ctx) {
      // two processes spinning on both cores while the leader renews (at least 3 renew deadlines)
      const spinners = [0, 1].map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
      await sleep(ctx.quick ? 12_000 : between(ctx, 12_000, 25_000));
      for (const s of spinners) s.kill('SIGKILL');
    },
  },
];

const webhooks = new Map<number, { child: ChildProcess; name: string }>();
const deletedNodes = new Map<number, string>();
