// Watches the Jobs and pods of one namespace for the length of a scenario: how many were created (by
// UID, so Jobs deleted meanwhile still count) and when each pod had pulled its images (every container
// running or terminated with exit code 0: kubelet starts a container only once its image is on the
// node), which tells when a node has its images whatever the shape of the Jobs.
import * as k8s from '@kubernetes/client-node';
import { resilientWatch, type ResilientWatch } from './resilient-watch.js';

export interface PodDone { node: string; images: string[]; at: number }

/**
 * When the bench first saw each step of a pod (ms): created (the Job controller), bound to its node
 * (the scheduler), started (the node reports container statuses: kwok here, the kubelet on a real
 * node), every image pulled. Where a node's wait goes.
 */
export interface PodTimeline { job: number; created: number; bound: number; started: number; pulled: number }

export interface PodSteps { node: string; job: string; created: number; bound?: number; started?: number; pulled?: number }

/** Every container of the pod runs or ran successfully (or the pod Succeeded): its images are on the node. */
export function imagesPulled(pod: k8s.V1Pod): boolean {
  if (pod.status?.phase === 'Succeeded') return true;
  const want = pod.spec?.containers?.length ?? 0;
  const cs = pod.status?.containerStatuses ?? [];
  return want > 0 && cs.length === want && cs.every((c) => !!c.state?.running || c.state?.terminated?.exitCode === 0);
}

export class NamespaceObserver {
  readonly jobUids = new Set<string>();
  readonly podUids = new Set<string>();
  /** Job objects as first seen (ADDED), for the floor to re-create the same Jobs. */
  readonly jobs: k8s.V1Job[] = [];
  readonly podsDone: PodDone[] = [];
  /** when each Job of `jobs` was first seen */
  readonly jobSeenAt: number[] = [];
  private readonly doneUids = new Set<string>();
  /** Each pod's steps, by uid. */
  readonly podSteps = new Map<string, PodSteps>();
  /** When each Job was first seen, by name. */
  readonly jobSeenByName = new Map<string, number>();
  private watches: ResilientWatch[] = [];
  private listeners: (() => void)[] = [];

  constructor(private readonly kc: k8s.KubeConfig, readonly namespace: string) {}

  async start(): Promise<this> {
    const batch = this.kc.makeApiClient(k8s.BatchV1Api);
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    const log = (msg: string) => console.error(`[bench] ${msg}`);
    const ns = this.namespace;
    this.watches.push(await resilientWatch<k8s.V1Job>(this.kc, `/apis/batch/v1/namespaces/${ns}/jobs`, () => batch.listNamespacedJob({ namespace: ns }), (phase, obj) => {
      const uid = obj.metadata?.uid;
      if (!uid) return;
      if (phase === 'ADDED' && !this.jobUids.has(uid)) {
        this.jobs.push(obj);
        this.jobSeenAt.push(Date.now());
        if (!this.jobSeenByName.has(obj.metadata?.name ?? '')) this.jobSeenByName.set(obj.metadata?.name ?? '', Date.now());
      }
      this.jobUids.add(uid);
    }, log));
    this.watches.push(await resilientWatch<k8s.V1Pod>(this.kc, `/api/v1/namespaces/${ns}/pods`, () => core.listNamespacedPod({ namespace: ns }), (_phase, obj) => {
      const uid = obj.metadata?.uid;
      if (!uid) return;
      this.podUids.add(uid);
      const now = Date.now();
      let steps = this.podSteps.get(uid);
      if (!steps) {
        const job = (obj.metadata?.ownerReferences ?? []).find((o) => o.kind === 'Job')?.name ?? '';
        this.podSteps.set(uid, (steps = { node: '', job, created: now }));
      }
      if (obj.spec?.nodeName) { steps.node = obj.spec.nodeName; steps.bound ??= now; }
      if ((obj.status?.containerStatuses?.length ?? 0) > 0 || (obj.status?.phase && obj.status.phase !== 'Pending')) steps.started ??= now;
      if (imagesPulled(obj)) steps.pulled ??= now;
      if (imagesPulled(obj) && !this.doneUids.has(uid)) {
        this.doneUids.add(uid);
        this.podsDone.push({ node: obj.spec?.nodeName ?? '', images: (obj.spec?.containers ?? []).map((c) => c.image ?? ''), at: Date.now() });
        for (const l of this.listeners) l();
      }
    }, log));
    return this;
  }

  /** Resolves with the time the node had every image pulled by pods seen since `since`. */
  nodeCached(node: string, images: readonly string[], since: number, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const have = new Set<string>();
        let last = 0;
        for (const p of this.podsDone) {
          if (p.node !== node || p.at < since) continue;
          for (const i of p.images) have.add(i);
          last = Math.max(last, p.at);
        }
        if (images.every((i) => have.has(i))) {
          cleanup();
          resolve(last);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`node ${node} did not get its ${images.length} images within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = () => void check();
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
      };
      this.listeners.push(listener);
      check();
    });
  }

  /**
   * Seconds after t0 at which the bench saw, for the node's first pod created since `since`: its Job,
   * the pod, its binding, its start and its images; NaN for a step not seen.
   */
  podTimeline(node: string, since: number, t0: number): PodTimeline | undefined {
    const mine = [...this.podSteps.values()].filter((p) => p.node === node && p.created >= since).sort((a, b) => a.created - b.created);
    const p = mine[0];
    if (!p) return undefined;
    const s = (t: number | undefined) => (t === undefined ? NaN : (t - t0) / 1000);
    return { job: s(this.jobSeenByName.get(p.job)), created: s(p.created), bound: s(p.bound), started: s(p.started), pulled: s(p.pulled) };
  }

  stop(): void {
    for (const w of this.watches) w.stop();
    this.watches = [];
  }
}

/** Where the time of a phase went: seconds from its start to the first and the last Job seen created, and to the last pod with its images. */
export interface Timeline { firstJobSeconds: number; lastJobSeconds: number; lastPulledSeconds: number }

export function timeline(jobSeenAt: readonly number[], pulledAt: readonly number[], t0: number): Timeline {
  const after = (xs: readonly number[]) => xs.filter((x) => x >= t0);
  const last = (xs: readonly number[]) => (after(xs).length ? Math.max(...after(xs)) : NaN);
  const first = (xs: readonly number[]) => (after(xs).length ? Math.min(...after(xs)) : NaN);
  return { firstJobSeconds: (first(jobSeenAt) - t0) / 1000, lastJobSeconds: (last(jobSeenAt) - t0) / 1000, lastPulledSeconds: (last(pulledAt) - t0) / 1000 };
}
