// The API edge for ImageCaches, Jobs and Events (client-node 1.4). Thin: no decisions here.
import * as k8s from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type ImageCache, type ImageCacheStatus } from '../api/imagecache.js';

const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}
export function isConflict(err: unknown): boolean {
  return (err as { code?: number }).code === 409;
}
/** Errors worth a retry with the same request: throttling, server errors and network failures. */
export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  return code === undefined || code === 429 || code >= 500;
}
/** The request itself can never succeed (too large, invalid): retrying it is pointless. */
export function isUnsatisfiable(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  return code === 400 || code === 413 || code === 422;
}

/** A JSON patch op that makes the write conditional on the object's resourceVersion (409 when it moved on). */
function precondition(resourceVersion: string | undefined): { op: 'replace'; path: string; value: string }[] {
  return resourceVersion ? [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }] : [];
}

export class ImageCacheApi {
  readonly custom: k8s.CustomObjectsApi;
  readonly batch: k8s.BatchV1Api;
  readonly core: k8s.CoreV1Api;

  constructor(kc: k8s.KubeConfig) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.batch = kc.makeApiClient(k8s.BatchV1Api);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  async get(namespace: string, name: string): Promise<ImageCache | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name })) as ImageCache;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async listAll(): Promise<ImageCache[]> {
    const list = (await this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as { items: ImageCache[] };
    return list.items;
  }

  /**
   * Replaces status as a whole through the status subresource (JSON patch: no merge of stale failures).
   * With a resourceVersion the write is conditional: a concurrent writer makes it fail with 409.
   */
  async replaceStatus(namespace: string, name: string, status: ImageCacheStatus, resourceVersion?: string): Promise<ImageCache> {
    return (await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP, version: VERSION, plural: PLURAL, namespace, name,
        body: [...precondition(resourceVersion), { op: 'add', path: '/status', value: status }],
      },
      jsonPatch,
    )) as ImageCache;
  }

  /** Merge-patches a part of status (e.g. counts while processing); conditional like replaceStatus. */
  async mergeStatus(namespace: string, name: string, status: Partial<ImageCacheStatus>, resourceVersion?: string): Promise<ImageCache> {
    return (await this.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: { ...(resourceVersion ? { metadata: { resourceVersion } } : {}), status } },
      mergePatch,
    )) as ImageCache;
  }

  /** Removes annotations (no-op when absent). */
  async removeAnnotations(namespace: string, name: string, keys: readonly string[]): Promise<ImageCache> {
    const annotations = Object.fromEntries(keys.map((k) => [k, null]));
    return (await this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: { metadata: { annotations } } },
      mergePatch,
    )) as ImageCache;
  }

  /** The Job controller's FailedCreate Events in a namespace: why pods of its Jobs could not be created. */
  async jobCreateFailures(namespace: string): Promise<k8s.CoreV1Event[]> {
    const list = await this.core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.kind=Job,reason=FailedCreate' });
    return list.items;
  }

  /**
   * POST /apis/batch/v1/namespaces/<ns>/jobs through the generic object client: the same request as
   * BatchV1Api.createNamespacedJob, without its typed copies (the body walked through the V1Job schema
   * before JSON.stringify, the answer turned back into class instances and Dates, which the controller
   * never reads): a sixth of the controller's CPU in a 200-node create went to them.
   */
  async createJob(job: k8s.V1Job): Promise<'created' | 'exists'> {
    try {
      await this.custom.createNamespacedCustomObject({ group: 'batch', version: 'v1', plural: 'jobs', namespace: job.metadata?.namespace ?? 'default', body: job });
      return 'created';
    } catch (err) {
      if (isConflict(err)) return 'exists';
      throw err;
    }
  }

  /** The kubelet's Events of one reason on pods of a namespace (e.g. FailedToRetrieveImagePullSecret). */
  async podEvents(namespace: string, reason: string): Promise<k8s.CoreV1Event[]> {
    const list = await this.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=Pod,reason=${reason}` });
    return list.items;
  }

  async getJob(namespace: string, name: string): Promise<k8s.V1Job | undefined> {
    try {
      return await this.batch.readNamespacedJob({ namespace, name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async deleteJob(namespace: string, name: string): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async createEvent(event: k8s.CoreV1Event): Promise<void> {
    await this.core.createNamespacedEvent({ namespace: event.metadata?.namespace ?? 'default', body: event });
  }
}
