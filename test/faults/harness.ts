// The fault suite's harness: one namespace and 20+ kwok nodes for the whole suite, controllers run as child
// processes under the chart's RBAC behind a fault proxy (like a Deployment: an exited controller is
// started again after 1 s), and per run: two caches of several images, an edit and an annotation,
// the fault at a random point of the operation, then the checks:
// - the cache ends with the true status (Succeeded, nothing failed, the edit applied, the refresh done);
// - no Job left behind (retention policy delete);
// - no lost operation (an edit or annotation never acted on);
// - no controller exit except those the fault causes;
// - recovery: seconds from the end of the fault to both caches final and true.
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, uniqueName } from '../support/cluster.js';
import { fakeNode } from '../support/nodes.js';
import { ControllerProcess } from '../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../support/imagecaches.js';
import { type FaultProxy, proxiedServiceAccount } from '../support/fault-proxy.js';
import type { ImageCache } from '../../src/api/imagecache.js';
import { apiErrorText } from '../../src/kube/api-errors.js';
import { DELETE_JOB_CONTROLLER_WAIT_MAX_MS } from '../../src/reconcilers/operation-runner.js';

export const REFRESH = 'kubefledged.io/refresh-imagecache';
const LE = ['--leader-elect=true', '--leader-elect-lease-duration=6s', '--leader-elect-renew-deadline=4s', '--leader-elect-retry-period=1s'];

// Deadlines of 180 s (pull, and pod start): after a 60 s API outage the cluster's own components (the Job
// controller, the scheduler, kwok) reconnect with their own backoff, and on a loaded machine their pods
// took over 60 s to start; a deadline failure then is the cluster's pace, not a fault of the controller.
/** Keeps `replicas` controllers running; records every exit and whether a fault caused it. */
export class Supervisor {
  readonly procs: ControllerProcess[] = [];
  readonly exits: { pid: number; code: number | null; expected: boolean }[] = [];
  private readonly expected = new Map<number, number | null | 'any'>();
  private stopping = false;

  constructor(private readonly env: FaultEnv, private readonly extraArgs: string[] = []) {}

  start(replicas: number): void {
    this.stopping = false;
    for (let i = 0; i < replicas; i++) this.spawn();
  }

  private spawn(): void {
    const p = new ControllerProcess(this.env.viaProxy, ['--stderrthreshold=INFO', ...LE, '--image-pull-deadline-duration=180s', '--pod-start-deadline-duration=180s', '--image-cache-refresh-frequency=0s', ...this.extraArgs], {
      KUBEFLEDGED_NAMESPACE: this.env.ns,
    }).start();
    this.procs.push(p);
    const pid = p.pid!;
    void p.waitExit().then((code) => {
      const want = this.expected.get(pid);
      const expected = this.stopping || want === 'any' || (want !== undefined && want === code);
      this.exits.push({ pid, code, expected });
      if (!this.stopping) setTimeout(() => { if (!this.stopping) this.spawn(); }, 1000);
    });
  }

  /** The running controllers. */
  live(): ControllerProcess[] {
    return this.procs.filter((p) => p.running());
  }

  /** The controller holding the Lease (its identity ends with _<pid>). */
  async leader(): Promise<ControllerProcess | undefined> {
    const lease = await this.env.leases.readNamespacedLease({ name: 'kubefledged-controller', namespace: this.env.ns }).catch(() => undefined);
    const holder = lease?.spec?.holderIdentity ?? '';
    return this.live().find((p) => holder.endsWith(`_${p.pid}`));
  }

  /** The next exit of pid is the fault's: with this code (null = a signal), or any. */
  expectExit(pid: number, code: number | null | 'any'): void {
    this.expected.set(pid, code);
  }

  unexpectedExits(): number {
    return this.exits.filter((e) => !e.expected).length;
  }

  leaseLosses(): number {
    return this.procs.reduce((n, p) => n + p.logs.filter((l) => l.includes('leader election lost')).length, 0);
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.procs.map((p) => p.stop()));
  }

  /** The controllers' last KF_FAULT_LOG_LINES (default 60) log lines each. */
  dump(): string {
    const lines = Number(process.env.KF_FAULT_LOG_LINES ?? 60);
    return this.procs.map((p) => `--- controller ${p.pid}\n${p.logs.slice(-lines).join('\n')}`).join('\n');
  }
}

export interface FaultEnv {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  batch: k8s.BatchV1Api;
  leases: k8s.CoordinationV1Api;
  ics: ImageCaches;
  ns: string;
  selector: Record<string, string>;
  nodes: string[];
  proxy: FaultProxy;
  viaProxy: string;
  saFile: string;
  cleanup(): Promise<void>;
}

export async function setUpEnv(nodeCount: number): Promise<FaultEnv> {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await ensureCrd();
  const ns = await createNamespace(core, 'kf-faults');
  const suite = uniqueName('flt');
  const selector = { 'kf-faults': suite };
  const nodes = Array.from({ length: nodeCount }, (_, i) => `${suite}-${i}`);
  for (const n of nodes) await core.createNode({ body: fakeNode(n, { labels: selector }) });
  await eventually('fault nodes Ready', async () => {
    const list = (await core.listNode({ labelSelector: `kf-faults=${suite}` })).items;
    return list.length === nodeCount && list.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }, 120_000);
  const sa = await proxiedServiceAccount(kc, ns);
  const env: FaultEnv = {
    kc, core, batch: kc.makeApiClient(k8s.BatchV1Api), leases: kc.makeApiClient(k8s.CoordinationV1Api), ics: new ImageCaches(kc),
    ns, selector, nodes, proxy: sa.proxy, viaProxy: sa.viaProxy, saFile: sa.saFile,
    cleanup: async () => {
      await sa.cleanup();
      await deleteNamespace(core, ns);
      for (const n of nodes) await core.deleteNode({ name: n }).catch(() => undefined);
    },
  };
  return env;
}

export interface RunContext {
  env: FaultEnv;
  sup: Supervisor;
  /** Unique over the whole suite (names of caches, images, registrations); faults share one env. */
  run: number;
  /** 0-based index of this run among the runs of its fault. */
  index: number;
  quick: boolean;
  random: () => number;
  /** --outage=S: every API-server outage lasts exactly this long. */
  forcedOutageMs?: number;
  /** Set by inject() when the fault has a length (e.g. the API-server outage), for the report. */
  faultMs?: number;
}

export interface Fault {
  name: string;
  /** Controllers to run (2 for a leader with a standby). */
  replicas?: number;
  /** Before the controllers start (e.g. the CRD created just before). */
  before?(ctx: RunContext): Promise<void>;
  /** The user's edit and annotation come right after inject() (while the fault lasts) instead of before. */
  userActsDuringFault?: boolean;
  /** Injects the fault; resolves when it is over (the recovery clock starts then). */
  inject(ctx: RunContext): Promise<void>;
  /** Restores what inject() changed for the next run (e.g. a deleted node). */
  after?(ctx: RunContext): Promise<void>;
}

export interface RunResult {
  trueStatus: number;
  caches: number;
  orphanedJobs: number;
  lostOperations: number;
  unexpectedExits: number;
  leaseLosses: number;
  recoverySeconds: number;
  /** How long the fault lasted, when it has a length (ctx.faultMs). */
  faultSeconds?: number;
  /** Where the run's time went, e.g. "lead 3.1, inject 12.0, true 5.2, Jobs gone 0.4, teardown 1.9" (seconds). */
  phases?: string;
  problems: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll interval of the checks: short, they wait on conditions, not on time. */
const POLL_MS = 200;

/** Retries an admin call through an API outage. */
async function retrying<T>(what: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  return eventually(what, async () => fn(), timeoutMs, POLL_MS);
}

/** The first per-image failure of the status, for the report: ", first failure <image> on <node>: <reason>: <message>". */
function firstFailure(c: ImageCache | undefined): string {
  const [image, list] = Object.entries(c?.status?.failures ?? {})[0] ?? [];
  const f = list?.[0];
  return image && f ? `, first failure ${image} on ${f.node}: ${f.reason}: ${f.message}` : '';
}

function imagesOf(c: ImageCache | undefined): string[] {
  return (c?.status?.lastAppliedSpec?.cacheSpec ?? []).flatMap((e) => e.images).sort();
}

export async function runOnce(fault: Fault, ctx: RunContext): Promise<RunResult> {
  let result: RunResult | undefined;
  try {
    result = await runSteps(fault, ctx);
    return result;
  } finally {
    const teardown = Date.now();
    await ctx.sup.stopAll().catch(() => undefined);
    await fault.after?.(ctx).catch(() => undefined);
    for (const name of [`a-${ctx.run}`, `b-${ctx.run}`]) await ctx.env.ics.delete(ctx.env.ns, name).catch(() => undefined);
    if (result) result.phases = `${result.phases ?? ''}, teardown ${seconds(Date.now() - teardown)}`;
  }
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

async function runSteps(fault: Fault, ctx: RunContext): Promise<RunResult> {
  const { env, sup, run, random } = ctx;
  const problems: string[] = [];
  const a = `a-${run}`;
  const b = `b-${run}`;
  const img = (n: number) => `registry.example/fault-${run}-${n}:1`;
  const began = Date.now();
  await fault.before?.(ctx);
  sup.start(fault.replicas ?? 1);
  await eventually('a controller leads', async () => sup.procs.some((p) => p.logs.some((l) => l.includes('controller started'))), 90_000, 100);
  const led = Date.now();

  await env.ics.create(env.ns, a, { cacheSpec: [{ images: [img(1), img(2), img(3)], nodeSelector: env.selector }] });
  await env.ics.create(env.ns, b, { cacheSpec: [{ images: [img(1), img(2), img(3)], nodeSelector: env.selector }] });
  // a random point of the operation: up to 2 s in (1 s in the quick pass) for the user's acts, as long again for the fault
  const spread = ctx.quick ? 1000 : 2000;
  await sleep(random() * spread);
  // the user's edit and annotation, during the operation (and during the fault when it says so);
  // one refused (the webhook, for timing) is an operation lost
  let refused = 0;
  const userActs = async () => {
    const acts: [string, () => Promise<unknown>][] = [
      [`edit of ${a}`, () => env.ics.setImages(env.ns, a, [{ images: [img(1), img(2), img(3), img(4)], nodeSelector: env.selector }])],
      [`annotation of ${b}`, () => env.ics.annotate(env.ns, b, REFRESH)],
    ];
    for (const [what, act] of acts) {
      await act().catch((err: unknown) => {
        refused++;
        problems.push(`${what} refused: ${apiErrorText(err)}`);
      });
    }
    return Date.now();
  };
  let annotatedAt = 0;
  if (!fault.userActsDuringFault) annotatedAt = await userActs();
  await sleep(random() * spread);
  const injected = Date.now();
  await fault.inject(ctx);
  if (fault.userActsDuringFault) annotatedAt = await userActs();
  const faultEnd = Date.now();

  const expectedA = [img(1), img(2), img(3), img(4)].sort();
  const isTrueA = (c: ImageCache) => c.status?.status === 'Succeeded' && (c.status.counts?.failed ?? 0) === 0 &&
    c.status.observedGeneration === c.metadata.generation && JSON.stringify(imagesOf(c)) === JSON.stringify(expectedA);
  const isTrueB = (c: ImageCache) => c.status?.status === 'Succeeded' && (c.status.counts?.failed ?? 0) === 0 &&
    c.metadata.annotations?.[REFRESH] === undefined && new Date(c.status.startTime).getTime() >= annotatedAt - 1000;
  let finalA: ImageCache | undefined;
  let finalB: ImageCache | undefined;
  const deadline = faultEnd + (ctx.quick ? 150_000 : 180_000);
  let recovered = 0;
  while (Date.now() < deadline) {
    finalA = await env.ics.get(env.ns, a).catch(() => finalA);
    finalB = await env.ics.get(env.ns, b).catch(() => finalB);
    if (finalA && finalB && isTrueA(finalA) && isTrueB(finalB)) {
      recovered = Date.now();
      break;
    }
    await sleep(POLL_MS);
  }
  let trueStatus = 0;
  let lost = 0;
  for (const [name, c, ok] of [[a, finalA, finalA && isTrueA(finalA)], [b, finalB, finalB && isTrueB(finalB)]] as const) {
    if (ok) {
      trueStatus++;
      continue;
    }
    const st = c?.status;
    problems.push(`${name}: ${st ? `${st.status}/${st.reason} gen ${st.observedGeneration}/${c?.metadata.generation} images ${imagesOf(c).length} failed ${st.counts?.failed ?? '?'} annotation ${c?.metadata.annotations?.[REFRESH] !== undefined}${firstFailure(c)}` : 'no status'}`);
    // the edit (a) or the annotation (b) never acted on
    if (name === a ? !(c?.status?.observedGeneration === c?.metadata.generation && imagesOf(c).length === 4) : c?.metadata.annotations?.[REFRESH] !== undefined || !(new Date(c?.status?.startTime ?? 0).getTime() >= annotatedAt - 1000)) lost++;
  }
  // Jobs left behind once both ended (retention policy delete). The controller defers the deletes of
  // finished operations' Jobs while the Job controller has not yet recorded its pods' ends, up to
  // DELETE_JOB_CONTROLLER_WAIT_MAX_MS (after a long control-plane outage its writes wait in backoff), so
  // a Job counts as left behind only past that bound.
  let orphaned = 0;
  const checked = Date.now();
  if (recovered) {
    const left = async () => (await retrying('list Jobs', () => env.batch.listNamespacedJob({ namespace: env.ns, labelSelector: 'app=kubefledged' }))).items
      .filter((j) => [a, b].includes(j.metadata?.labels?.imagecache ?? '') && !j.metadata?.deletionTimestamp).length;
    const until = Date.now() + DELETE_JOB_CONTROLLER_WAIT_MAX_MS + 30_000;
    orphaned = await left();
    while (orphaned > 0 && Date.now() < until) {
      await sleep(POLL_MS);
      orphaned = await left();
    }
    if (orphaned > 0) {
      const jobs = (await env.batch.listNamespacedJob({ namespace: env.ns, labelSelector: 'app=kubefledged' }).catch(() => ({ items: [] as k8s.V1Job[] }))).items
        .filter((j) => [a, b].includes(j.metadata?.labels?.imagecache ?? '') && !j.metadata?.deletionTimestamp);
      const groups = new Map<string, number>();
      for (const j of jobs) {
        const state = j.status?.succeeded ? 'succeeded' : j.status?.failed ? 'failed' : j.status?.active ? 'active' : 'not started';
        const k = `${j.metadata?.labels?.imagecache}/${j.metadata?.labels?.['kubefledged.io/operation'] ?? '?'} ${state}`;
        groups.set(k, (groups.get(k) ?? 0) + 1);
      }
      problems.push(`${orphaned} Job(s) left behind (${[...groups].map(([k, n]) => `${n} ${k}`).join(', ')})`);
    }
  }
  return {
    trueStatus,
    caches: 2,
    orphanedJobs: orphaned,
    lostOperations: Math.max(lost, refused),
    unexpectedExits: sup.unexpectedExits(),
    leaseLosses: sup.leaseLosses(),
    recoverySeconds: recovered ? (recovered - faultEnd) / 1000 : Number.POSITIVE_INFINITY,
    faultSeconds: ctx.faultMs === undefined ? undefined : ctx.faultMs / 1000,
    phases: `lead ${seconds(led - began)}, inject ${seconds(faultEnd - injected)}, true ${recovered ? seconds(recovered - faultEnd) : 'never'}, Jobs gone ${seconds(Date.now() - checked)}`,
    problems,
  };
}
