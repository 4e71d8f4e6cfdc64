// The bench's kwok nodes: kfb-node-<i>, labelled kf-bench=node and kf-bench/group=<i mod 10> (a cache of
// a 10-cache scenario selects one group), created in ascending tiers so that a 100-node scenario runs
// with 100 nodes in the cluster. Their status.images is set as kubelet would report pulled images.
import * as k8s from '@kubernetes/client-node';
import { fakeNode } from '../../test/support/nodes.js';
import { pool, sleep } from './pool.js';

export const NODE_LABEL = 'kf-bench';
export const GROUP_LABEL = 'kf-bench/group';
export const GROUPS = 10;

export const nodeName = (i: number): string => `kfb-node-${i}`;
export const groupOf = (i: number): string => String(i % GROUPS);

const isReady = (n: k8s.V1Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export class BenchNodes {
  private readonly core: k8s.CoreV1Api;
  count = 0;

  constructor(kc: k8s.KubeConfig, private readonly concurrency = 16) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  /** Nodes of the bench already in the cluster (a previous run that was interrupted). */
  async existing(): Promise<string[]> {
    return (await this.core.listNode({ labelSelector: NODE_LABEL })).items.map((n) => n.metadata!.name!);
  }

  /** Grows the bench's nodes to `n` (kfb-node-0..n-1) and waits until all are Ready. */
  async growTo(n: number, timeoutMs = 600_000): Promise<void> {
    const have = new Set(await this.existing());
    const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !have.has(nodeName(i)));
    await pool(missing, this.concurrency, async (i) => {
      await this.core.createNode({ body: fakeNode(nodeName(i), { labels: { [NODE_LABEL]: 'node', [GROUP_LABEL]: groupOf(i) } }) });
    });
    this.count = Math.max(this.count, n);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nodes = (await this.core.listNode({ labelSelector: `${NODE_LABEL}=node` })).items.filter((x) => x.metadata!.name!.startsWith('kfb-node-'));
      const ready = nodes.filter(isReady).length;
      if (ready >= n) return;
      if (Date.now() > deadline) throw new Error(`only ${ready} of ${n} bench nodes became Ready within ${timeoutMs} ms (is kwok running? .cluster/logs/kwok.log)`);
      await sleep(1000);
    }
  }

  /**
   * One more node joining the cluster, labelled into `group`: resolves with the time it was created and
   * the time its Ready condition arrived through a watch started before the create.
   */
  async join(kc: k8s.KubeConfig, name: string, group: string, timeoutMs = 120_000): Promise<{ created: number; ready: number }> {
    let onReady!: (t: number) => void;
    const ready = new Promise<number>((r) => (onReady = r));
    const abort = await new k8s.Watch(kc).watch('/api/v1/nodes', { fieldSelector: `metadata.name=${name}` }, (_phase, n: k8s.V1Node) => {
      if (isReady(n)) onReady(Date.now());
    }, () => undefined);
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.core.createNode({ body: fakeNode(name, { labels: { [NODE_LABEL]: 'node', [GROUP_LABEL]: group } }) });
      const created = Date.now();
      const t = await Promise.race([ready, new Promise<number>((_, rej) => (timer = setTimeout(() => rej(new Error(`node ${name} not Ready within ${timeoutMs} ms`)), timeoutMs)))]);
      return { created, ready: t };
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  }

  /** Sets status.images of one node (a kubelet's report after pulls). */
  async reportNodeImages(name: string, images: readonly string[]): Promise<void> {
    await this.core.patchNodeStatus({ name, body: { status: { images: images.map((x) => ({ names: [x], sizeBytes: 10_000_000 })) } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  }

  /** Sets status.images of nodes as kubelet reports pulled images (replacing what was there). */
  async reportImages(images: (i: number) => string[], n: number): Promise<void> {
    await pool(Array.from({ length: n }, (_, i) => i), this.concurrency, async (i) => this.reportNodeImages(nodeName(i), images(i)));
  }

  async deleteNode(name: string): Promise<void> {
    await this.core.deleteNode({ name }).catch(() => undefined);
  }

  /** Removes every node of the bench (also those of an interrupted run). */
  async deleteAll(): Promise<void> {
    await pool(await this.existing(), this.concurrency, async (name) => this.deleteNode(name));
    this.count = 0;
  }
}
