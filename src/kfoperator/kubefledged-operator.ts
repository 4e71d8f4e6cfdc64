// The SDK Operator (@dot-i/k8s-operator) for the KubeFledged kind: the entry point for its events in
// the operator's own namespace (WATCH_NAMESPACE). The handler only enqueues the key: synchronous, no
// I/O, never throws. The reconcile reads the current object itself (release-reconciler.ts).
// The SDK exits the process on a watch error; the reconcile is level-based and the startup relist
// brings every object back, so a restart loses nothing.
import sdk, { type ResourceEvent } from '@dot-i/k8s-operator';
import { GROUP, PLURAL, VERSION } from './kubefledged.js';
import type { Logger } from '../operator/logger.js';

const Operator = sdk.default;

export class KubeFledgedOperator extends Operator {
  constructor(
    private readonly namespace: string,
    private readonly enqueue: (key: string) => void,
    logger: Logger,
  ) {
    super({
      debug: (m: string) => logger.debug(m, { source: 'k8s-operator' }),
      info: (m: string) => logger.info(m, { source: 'k8s-operator' }),
      warn: (m: string) => logger.warn(m, { source: 'k8s-operator' }),
      error: (m: string) => logger.error(m, { source: 'k8s-operator' }),
    });
  }

  protected async init(): Promise<void> {
    await this.watchResource(GROUP, VERSION, PLURAL, async (e: ResourceEvent) => this.onEvent(e), this.namespace);
  }

  /** Never awaits, never throws (the SDK drops handler errors and runs handlers one at a time). */
  onEvent(e: ResourceEvent): void {
    try {
      const ns = e.meta.namespace ?? e.object.metadata?.namespace;
      if (ns !== this.namespace) return; // only the operator's own namespace
      this.enqueue(`${ns}/${e.meta.name}`);
    } catch {
      /* malformed event: the next relist brings the object again */
    }
  }
}
