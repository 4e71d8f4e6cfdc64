// Test support: ImageCache objects through the API.
import * as k8s from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type ImageCache, type ImageCacheSpec } from '../../src/api/imagecache.js';
import { eventually, kubectl, ROOT } from './cluster.js';

export async function ensureCrd(): Promise<void> {
  await kubectl(['apply', '-f', `${ROOT}/crds/imagecaches.kubefledged.io.yaml`]);
  // a CRD just created has no conditions yet, and kubectl wait then fails at once instead of waiting
  await eventually('the ImageCache CRD established', async () => {
    await kubectl(['wait', '--for', 'condition=established', '--timeout=60s', 'crd/imagecaches.kubefledged.io']);
    return true;
  }, 90_000, 500);
}

export class ImageCaches {
  readonly api: k8s.CustomObjectsApi;
  constructor(kc: k8s.KubeConfig) {
    this.api = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  async create(namespace: string, name: string, spec: ImageCacheSpec, annotations?: Record<string, string>): Promise<ImageCache> {
    return (await this.api.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ImageCache', metadata: { name, namespace, annotations }, spec } })) as ImageCache;
  }

  async get(namespace: string, name: string): Promise<ImageCache> {
    return (await this.api.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name })) as ImageCache;
  }

  async patch(namespace: string, name: string, body: object): Promise<ImageCache> {
    return (await this.api.patchNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch))) as ImageCache;
  }

  async annotate(namespace: string, name: string, key: string): Promise<void> {
    await this.patch(namespace, name, { metadata: { annotations: { [key]: '' } } });
  }

  async setImages(namespace: string, name: string, cacheSpec: ImageCacheSpec['cacheSpec']): Promise<void> {
    await this.patch(namespace, name, { spec: { cacheSpec } });
  }

  async delete(namespace: string, name: string): Promise<void> {
    await this.api.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name });
  }

  /** Waits for a final (non-Processing) status of the given reason, started at or after `after`. */
  async waitFinal(namespace: string, name: string, reason: string, opts: { timeoutMs?: number; notBefore?: Date } = {}): Promise<ImageCache> {
    return eventually(`${namespace}/${name} to finish ${reason}`, async () => {
      const c = await this.get(namespace, name);
      const st = c.status;
      if (!st || st.status === 'Processing' || st.reason !== reason) return undefined;
      if (opts.notBefore && new Date(st.startTime).getTime() < opts.notBefore.getTime() - 1000) return undefined;
      return c;
    }, opts.timeoutMs ?? 90_000, 300);
  }
}
