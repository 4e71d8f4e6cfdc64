// The API edge for KubeFledged objects (client-node 1.4): read, list, finalizer and status patches.
// The finalizer patches carry the resourceVersion, so they never clobber a concurrent edit (a 409 retries).
import * as k8s from '@kubernetes/client-node';
import { FINALIZER, GROUP, PLURAL, VERSION, type KubeFledged, type KubeFledgedStatus } from './kubefledged.js';
import { errorCode } from './cluster-applier.js';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export class KubeFledgedApi {
  private readonly custom: k8s.CustomObjectsApi;

  constructor(kc: k8s.KubeConfig) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  async get(namespace: string, name: string): Promise<KubeFledged | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name })) as KubeFledged;
    } catch (err) {
      if (errorCode(err) === 404) return undefined;
      throw err;
    }
  }

  async list(namespace: string): Promise<KubeFledged[]> {
    const list = (await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace })) as { items: KubeFledged[] };
    return list.items;
  }

  private async setFinalizers(obj: KubeFledged, finalizers: string[]): Promise<KubeFledged> {
    return (await this.custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        body: { metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion } },
      },
      mergePatch,
    )) as KubeFledged;
  }

  async addFinalizer(obj: KubeFledged): Promise<KubeFledged> {
    return this.setFinalizers(obj, [...(obj.metadata.finalizers ?? []), FINALIZER]);
  }

  async removeFinalizer(obj: KubeFledged): Promise<void> {
    try {
      await this.setFinalizers(obj, (obj.metadata.finalizers ?? []).filter((f) => f !== FINALIZER));
    } catch (err) {
      if (errorCode(err) !== 404) throw err;
    }
  }

  /** Merge-patches /status (conditions are replaced as a whole: the operator is their only writer). */
  async patchStatus(obj: KubeFledged, status: KubeFledgedStatus): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace: obj.metadata.namespace, name: obj.metadata.name, body: { status } },
      mergePatch,
    );
  }
}
