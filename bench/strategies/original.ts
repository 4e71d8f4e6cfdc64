// The original kube-fledged's strategy (spec/kube-fledged.md §2.4, §2.7, §3, §8), played against the
// same cluster: one Job per (image, node), whose requests leave the image queue at 10/s after a burst of
// 100 (workqueue's DefaultControllerRateLimiter), created one at a time by a single worker through a
// client limited like client-go's default (5 requests/s, burst 10); completion from a pod watch (the
// informer), checked every second (wait.Poll(1s)); then every Job deleted (one DELETE each, same client)
// before the final status write and the Event. It runs in this process, under the chart's RBAC.
import * as k8s from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type ImageCache } from '../../src/api/imagecache.js';
import { IMAGE_MANAGER_SELECTOR, JobLabel, Message, Reason, Status } from '../../src/api/constants.js';
import { TokenBucket } from '../support/token-bucket.js';
import { sleep } from '../support/pool.js';

export const CLIENT_QPS = 5;
export const CLIENT_BURST = 10;
export const QUEUE_QPS = 10;
export const QUEUE_BURST = 100;

/** The pull Job of spec §3.3 for one (image, node). */
export function originalPullJob(ic: ImageCache, image: string, hostname: string, busybox = 'senthilrch/busybox:1.35.0'): k8s.V1Job {
  const labels = { [JobLabel.App]: JobLabel.AppValue, [JobLabel.Kubefledged]: JobLabel.KubefledgedValue, [JobLabel.ImageCache]: ic.metadata!.name!, [JobLabel.Controller]: JobLabel.ControllerValue };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      generateName: `${ic.metadata!.name}-`,
      namespace: ic.metadata!.namespace,
      labels,
      ownerReferences: [{ apiVersion: `${GROUP}/${VERSION}`, kind: 'ImageCache', name: ic.metadata!.name!, uid: ic.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: 3600,
      template: {
        metadata: { namespace: ic.metadata!.namespace, labels },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': hostname },
          initContainers: [{ name: 'busybox', image: busybox, command: ['cp', '/bin/echo', '/tmp/bin'], volumeMounts: [{ name: 'tmp-bin', mountPath: '/tmp/bin' }], imagePullPolicy: 'IfNotPresent' }],
          containers: [{ name: 'imagepuller', image, command: ['/tmp/bin/echo', 'Image pulled successfully!'], volumeMounts: [{ name: 'tmp-bin', mountPath: '/tmp/bin' }], imagePullPolicy: 'IfNotPresent' }],
          volumes: [{ name: 'tmp-bin', emptyDir: {} }],
          restartPolicy: 'Never',
          tolerations: [{ operator: 'Exists' }],
        },
      },
    },
  };
}

/** imageAlreadyPresentInNode: substring of the JSON of node.status.images (spec §3.2). */
export function presentOnNode(image: string, node: k8s.V1Node): boolean {
  if (!image.includes(':') && !image.includes('@sha')) return false;
  if (image.includes(':latest')) return false;
  return JSON.stringify(node.status?.images ?? []).includes(image);
}

interface Request { image: string; node: k8s.V1Node; readyAt: number }

export interface OriginalResult { seconds: number; jobsCreated: number; jobsDeleted: number; status: string }

export class OriginalStrategy {
  private readonly client = new TokenBucket(CLIENT_QPS, CLIENT_BURST);
  private readonly queueLimiter = new TokenBucket(QUEUE_QPS, QUEUE_BURST);
  private readonly batch: k8s.BatchV1Api;
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;
  /** job name -> jobcreated | succeeded | failed */
  private readonly work = new Map<string, string>();
  private podWatch?: AbortController;

  constructor(private readonly kc: k8s.KubeConfig, private readonly namespace: string, private readonly deadlineMs = 300_000) {
    this.batch = kc.makeApiClient(k8s.BatchV1Api);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    await this.client.take();
    return fn();
  }

  /** The pod informer (spec §3.5): a pod turning Succeeded or Failed settles its Job's entry. */
  async start(): Promise<void> {
    await this.client.take(); // the informer's LIST
    this.podWatch = await new k8s.Watch(this.kc).watch(`/api/v1/namespaces/${this.namespace}/pods`, { labelSelector: IMAGE_MANAGER_SELECTOR }, (_phase, pod: k8s.V1Pod) => {
      const job = pod.metadata?.labels?.['job-name'];
      if (!job || this.work.get(job) !== 'jobcreated') return;
      if (pod.status?.phase === 'Succeeded') this.work.set(job, 'succeeded');
      else if (pod.status?.phase === 'Failed') this.work.set(job, 'failed');
    }, () => undefined);
  }

  stop(): void {
    this.podWatch?.abort();
  }

  private async writeStatus(name: string, status: Record<string, unknown>): Promise<void> {
    await this.call(() => this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: this.namespace, name }));
    await this.call(() => this.custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, plural: PLURAL, namespace: this.namespace, name, body: { status } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)));
  }

  /** One create operation of one cache, start to final status; `t0` is when the cache was created. */
  async create(name: string, t0: number): Promise<OriginalResult> {
    const ic = (await this.call(() => this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: this.namespace, name }))) as ImageCache;
    const startTime = new Date().toISOString();
    await this.writeStatus(name, { status: Status.Processing, reason: Reason.ImageCacheCreate, message: Message.PullingImages, startTime });
    const nodes = (await this.call(() => this.core.listNode({}))).items;
    // controller worker: one request per (image, node), each added rate-limited (delay fixed at add time)
    const queue: Request[] = [];
    for (const entry of ic.spec.cacheSpec) {
      const sel = entry.nodeSelector ?? {};
      const matching = nodes.filter((n) => Object.entries(sel).every(([k, v]) => n.metadata?.labels?.[k] === v));
      for (const node of matching) for (const image of entry.images) queue.push({ image, node, readyAt: Date.now() + this.queueLimiter.reserve() });
    }
    // image worker: one at a time
    const jobs: string[] = [];
    for (const r of queue) {
      const wait = r.readyAt - Date.now();
      if (wait > 0) await sleep(wait);
      if (presentOnNode(r.image, r.node)) continue;
      const job = await this.call(() => this.batch.createNamespacedJob({ namespace: this.namespace, body: originalPullJob(ic, r.image, r.node.metadata!.labels!['kubernetes.io/hostname']!) }));
      this.work.set(job.metadata!.name!, 'jobcreated');
      jobs.push(job.metadata!.name!);
    }
    // the sentinel: wait.Poll(1s, deadline) until no Job of this cache is still jobcreated
    const deadline = Date.now() + this.deadlineMs;
    while (jobs.some((j) => this.work.get(j) === 'jobcreated') && Date.now() < deadline) await sleep(1000);
    const failed = jobs.filter((j) => this.work.get(j) !== 'succeeded').length;
    // every Job deleted before the status write
    let deleted = 0;
    for (const j of jobs) {
      await this.call(() => this.batch.deleteNamespacedJob({ name: j, namespace: this.namespace, propagationPolicy: 'Background' })).then(() => deleted++, () => undefined);
      this.work.delete(j);
    }
    const status = failed > 0 ? Status.Failed : jobs.length === 0 && queue.length === 0 ? Status.NoImagesPulledOrDeleted : Status.Succeeded;
    const message = failed > 0 ? Message.ImagePullFailedForSomeImages : status === Status.Succeeded ? Message.ImagesPulledSuccessfully : Message.NoImagesPulledOrDeleted;
    await this.writeStatus(name, { status, reason: Reason.ImageCacheCreate, message, startTime, completionTime: new Date().toISOString() });
    const seconds = (Date.now() - t0) / 1000;
    await this.call(() => this.core.createNamespacedEvent({ namespace: this.namespace, body: {
      metadata: { generateName: `${name}.` }, involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ImageCache', name, namespace: this.namespace, uid: ic.metadata!.uid },
      type: status === Status.Failed ? 'Warning' : 'Normal', reason: Reason.ImageCacheCreate, message, source: { component: 'kubefledged-controller' },
      firstTimestamp: new Date(), lastTimestamp: new Date(), count: 1,
    } })).catch(() => undefined);
    return { seconds, jobsCreated: jobs.length, jobsDeleted: deleted, status };
  }
}
