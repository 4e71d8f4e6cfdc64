// Triggers that live in memory only, re-derived after a restart (the refresh timer, the node watch):
//   refresh due   the periodic refresh of every cache
//   joined nodes  nodes that joined (or newly match a selector: full pull) or came back from a short
//                 NotReady (only what their status says is missing)
// Only the operation that does the work consumes its trigger: a create or a full refresh consumes all of
// them; a refresh of some nodes consumes those nodes; an update (only the diff) and a purge consume none.
// Node-triggered work is rate-limited per cache: nodes that join meanwhile wait and go in one operation.
import type { ImageCache } from '../api/imagecache.js';
import { refreshAllowed, type JoinedNodes, type NextOperation } from '../planning/next-operation.js';

export class PendingTriggers {
  private readonly refreshDue = new Set<string>();
  /** cache key -> node name -> only what is missing (false = every image) */
  private readonly joinedNodes = new Map<string, Map<string, boolean>>();
  private readonly lastNodeOperation = new Map<string, number>();

  constructor(
    private readonly minNodeIntervalMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  markRefreshDue(key: string): void { this.refreshDue.add(key); }
  isRefreshDue(key: string): boolean { return this.refreshDue.has(key); }

  /** A node to cache onto; a full pull wins over "only what is missing". */
  addJoinedNode(key: string, node: string, opts: { onlyMissing?: boolean } = {}): void {
    let m = this.joinedNodes.get(key);
    if (!m) this.joinedNodes.set(key, (m = new Map()));
    const onlyMissing = opts.onlyMissing === true && (m.get(node) ?? true);
    m.set(node, onlyMissing);
  }
  removeNode(node: string): void {
    for (const m of this.joinedNodes.values()) m.delete(node);
  }

  joined(key: string): JoinedNodes {
    const full: string[] = [];
    const onlyMissing: string[] = [];
    for (const [node, missing] of this.joinedNodes.get(key) ?? []) (missing ? onlyMissing : full).push(node);
    return { full: full.sort(), onlyMissing: onlyMissing.sort() };
  }

  /** Milliseconds until node-triggered work may start again for this cache (0 = now). */
  nodeWorkDelay(key: string): number {
    const last = this.lastNodeOperation.get(key);
    return last === undefined ? 0 : Math.max(0, last + this.minNodeIntervalMs - this.now());
  }

  /** The operation `next` started: consume the triggers it covers, and only those. */
  consume(key: string, next: NextOperation): void {
    if (next.type === 'create' || (next.type === 'refresh' && !next.nodes)) {
      this.refreshDue.delete(key);
      this.joinedNodes.delete(key);
    } else if (next.type === 'refresh' && next.nodes) {
      const m = this.joinedNodes.get(key);
      for (const n of next.nodes) m?.delete(n);
      this.lastNodeOperation.set(key, this.now());
    }
  }

  /** These nodes got every image of the cache (from a create or full refresh that reached them mid-way). */
  consumeNodes(key: string, nodes: readonly string[]): void {
    const m = this.joinedNodes.get(key);
    for (const n of nodes) m?.delete(n);
  }

  /** No operation may run for these triggers (a purged cache is not refreshed by the timer or a join). */
  dropDisallowed(key: string, cache: ImageCache): void {
    if (!refreshAllowed(cache)) {
      this.refreshDue.delete(key);
      this.joinedNodes.delete(key);
    }
  }

  forget(key: string): void {
    this.refreshDue.delete(key);
    this.joinedNodes.delete(key);
    this.lastNodeOperation.delete(key);
  }
}
