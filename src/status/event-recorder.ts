// Kubernetes Events on ImageCaches (Normal on success, Warning on failure), source kubefledged-controller.
import type { ImageCache } from '../api/imagecache.js';
import { API_VERSION, KIND } from '../api/imagecache.js';
import type { ImageCacheApi } from '../kube/imagecache-api.js';
import type { Logger } from '../operator/logger.js';

export const EVENT_SOURCE = 'kubefledged-controller';

export class EventRecorder {
  constructor(private readonly api: ImageCacheApi, private readonly log: Logger) {}

  async record(cache: ImageCache, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date();
    const ns = cache.metadata.namespace ?? 'default';
    try {
      await this.api.createEvent({
        metadata: { generateName: `${cache.metadata.name}.`, namespace: ns },
        involvedObject: { apiVersion: API_VERSION, kind: KIND, name: cache.metadata.name, namespace: ns, uid: cache.metadata.uid },
        type,
        reason,
        message,
        source: { component: EVENT_SOURCE },
        reportingComponent: EVENT_SOURCE,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (err) {
      // An Event is best effort: the status already carries the outcome.
      this.log.warn('could not record event', { cache: `${ns}/${cache.metadata.name}`, reason, error: String(err) });
    }
  }
}
