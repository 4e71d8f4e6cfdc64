// The floor: the same Jobs the controller created (one per node, a container per image), created
// directly by a minimal client in a namespace of their own and waited for through a pod watch, with the
// controller's own criterion of done (every container of the pod running or exited 0: the images are on
// the node). Nothing decides, nothing writes a status: what is left is what the control plane itself
// takes to run them.
import * as k8s from '@kubernetes/client-node';
import { imagesPulled, timeline, type Timeline } from '../support/namespace-observer.js';
import { pool } from '../support/pool.js';
import { resilientWatch } from '../support/resilient-watch.js';

/** Labels the API server or the Job controller set, which a re-created Job must not carry. */
const GENERATED_LABELS = /^(controller-uid|job-name|batch\.kubernetes\.io\/.*)$/;

function cleanLabels(l: Record<string, string> | undefined, extra: Record<string, string>): Record<string, string> {
  return { ...Object.fromEntries(Object.entries(l ?? {}).filter(([k]) => !GENERATED_LABELS.test(k) && !k.startsWith('kubefledged') && k !== 'app' && k !== 'imagecache')), ...extra };
}

/** The Job as a client would create it: name, labels and spec; no owner, selector, status or server fields. */
export function recreatableJob(job: k8s.V1Job, namespace: string, index: number): k8s.V1Job {
  const spec = structuredClone(job.spec!);
  delete spec.selector;
  delete spec.manualSelector;
  const tpl = spec.template;
  tpl.metadata = { labels: cleanLabels(tpl.metadata?.labels, { 'kf-bench': 'floor' }) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `floor-${index}`, namespace, labels: cleanLabels(job.metadata?.labels, { 'kf-bench': 'floor' }) },
    spec,
  };
}

export interface FloorResult { seconds: number; jobs: number; failed: number; timeline: Timeline }

/** Creates the Jobs (`concurrency` creates in flight) and resolves when the pod of every one has pulled its images. */
export async function runFloor(kc: k8s.KubeConfig, namespace: string, templates: readonly k8s.V1Job[], concurrency = 32, timeoutMs = 900_000): Promise<FloorResult> {
  if (templates.length === 0) throw new Error('floor: no Jobs to re-create (the controller created none in this scenario)');
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const jobs = templates.map((t, i) => recreatableJob(t, namespace, i));
  const done = new Map<string, boolean>();
  const createdAt: number[] = [];
  const pulledAt: number[] = [];
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const seen = (p: k8s.V1Pod) => {
    const job = p.metadata?.labels?.['job-name'];
    if (!job || done.has(job)) return;
    if (imagesPulled(p)) {
      done.set(job, true);
      pulledAt.push(Date.now());
    }
    else if (p.status?.phase === 'Failed') done.set(job, false);
    else return;
    if (done.size === jobs.length) resolveAll();
  };
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const watch = await resilientWatch<k8s.V1Pod>(kc, `/api/v1/namespaces/${namespace}/pods`, () => core.listNamespacedPod({ namespace }), (_phase, p) => seen(p));
  try {
    const t0 = Date.now();
    await pool(jobs, concurrency, async (body) => {
      await batch.createNamespacedJob({ namespace, body });
      createdAt.push(Date.now());
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`floor: ${done.size} of ${jobs.length} Jobs had their images pulled within ${timeoutMs} ms`)), timeoutMs)))]);
    clearTimeout(timer);
    return { seconds: (Date.now() - t0) / 1000, jobs: jobs.length, failed: [...done.values()].filter((ok) => !ok).length, timeline: timeline(createdAt, pulledAt, t0) };
  } finally {
    watch.stop();
  }
}
