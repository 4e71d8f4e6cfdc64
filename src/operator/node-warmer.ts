// The node warmer (--warm-nodes): lifts the startup taint kubefledged.io/warming from a node once every
// cache that selects it has its images there, or at --warming-deadline (with a Warning Event), as
// planning/warming.ts decides. What is warm is known in memory only: after a restart a tainted node is
// simply cached onto again (a node-join), then lifted.
import * as k8s from '@kubernetes/client-node';
import { WARMING_TAINT_KEY } from '../api/constants.js';
import { hasWarmingTaint, warmingDecision } from '../planning/warming.js';
import type { Logger } from './logger.js';

export interface NodeWarmerDeps {
  core: k8s.CoreV1Api;
  log: Logger;
  deadlineMs: number;
  listNodes(): readonly k8s.V1Node[];
  /** keys of the caches whose spec selects the node */
  selecting(node: k8s.V1Node): string[];
  now?(): number;
  onLifted?(why: string, seconds: number): void;
}

export class NodeWarmer {
  private readonly warm = new Map<string, Set<string>>(); // node name -> warm cache keys
  private readonly lifting = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly deps: NodeWarmerDeps) {}

  /** An operation of `key` pulled its whole spec onto these nodes without a failure there. */
  markWarm(key: string, nodes: readonly string[]): void {
    for (const n of nodes) {
      let s = this.warm.get(n);
      if (!s) this.warm.set(n, (s = new Set()));
      s.add(key);
    }
    void this.tick();
  }

  start(periodMs = 2_000): void {
    this.timer = setInterval(() => void this.tick(), periodMs);
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Looks at every tainted node once. */
  async tick(): Promise<void> {
    const now = this.deps.now?.() ?? Date.now();
    for (const node of this.deps.listNodes()) {
      const name = node.metadata?.name ?? '';
      if (!hasWarmingTaint(node) || this.lifting.has(name)) continue;
      const d = warmingDecision({ node, selecting: this.deps.selecting(node), warm: this.warm.get(name) ?? new Set(), nowMs: now, deadlineMs: this.deps.deadlineMs });
      if (d.action === 'wait') continue;
      this.lifting.add(name);
      try {
        await this.lift(node);
        const seconds = (now - new Date(node.metadata?.creationTimestamp ?? now).getTime()) / 1000;
        this.deps.onLifted?.(d.why, seconds);
        if (d.why === 'deadline') {
          this.deps.log.warn(`node ${name}: warming deadline passed; taint ${WARMING_TAINT_KEY} removed with caches still cold`, { node: name, caches: d.cold });
          await this.event(node, 'Warning', 'WarmingDeadlineExceeded', `Taint ${WARMING_TAINT_KEY} removed after the warming deadline; image caches not warm on this node: ${d.cold.join(', ')}`);
        } else {
          this.deps.log.info(`node ${name} is warm: taint ${WARMING_TAINT_KEY} removed`, { node: name, why: d.why, seconds });
          await this.event(node, 'Normal', 'NodeWarm', d.why === 'warm' ? `Every image cache selecting this node has its images here; taint ${WARMING_TAINT_KEY} removed` : `No image cache selects this node; taint ${WARMING_TAINT_KEY} removed`);
        }
        this.warm.delete(name);
      } catch (err) {
        this.deps.log.warn(`node ${name}: could not remove taint ${WARMING_TAINT_KEY}; retrying`, { node: name, error: String((err as Error).message ?? err) });
      } finally {
        this.lifting.delete(name);
      }
    }
  }

  /** Removes the taint, conditional on the node's resourceVersion (a concurrent taint edit is not lost). */
  private async lift(node: k8s.V1Node): Promise<void> {
    const taints = (node.spec?.taints ?? []).filter((t) => t.key !== WARMING_TAINT_KEY);
    await this.deps.core.patchNode(
      {
        name: node.metadata?.name ?? '',
        body: [
          { op: 'test', path: '/metadata/resourceVersion', value: node.metadata?.resourceVersion },
          { op: 'replace', path: '/spec/taints', value: taints },
        ],
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
  }

  private async event(node: k8s.V1Node, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date();
    try {
      await this.deps.core.createNamespacedEvent({
        namespace: 'default',
        body: {
          metadata: { generateName: `${node.metadata?.name}.` },
          involvedObject: { kind: 'Node', name: node.metadata?.name, uid: node.metadata?.name, apiVersion: 'v1' },
          type, reason, message, source: { component: 'kubefledged-controller' }, reportingComponent: 'kubefledged-controller',
          firstTimestamp: now, lastTimestamp: now, count: 1,
        },
      });
    } catch {
      /* an Event is best effort */
    }
  }
}
