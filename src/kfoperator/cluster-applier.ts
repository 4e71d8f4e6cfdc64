// The API edge of the KubeFledged operator (client-node 1.4): server-side apply under one field manager
// (dry run or for real), the owned objects of a release by label, deletes, and CRDs created once. Thin:
// what to apply, prune or create is decided in release-plan.ts.
import * as k8s from '@kubernetes/client-node';
import { FIELD_MANAGER } from './kubefledged.js';
import { MANAGED_KINDS, apiVersionOf, describe, ownerSelector, type KubeObject, type Owner } from './release-plan.js';

/** An apply the API server refused, with the object it was about. */
export class ApplyError extends Error {
  override readonly name = 'ApplyError';
  constructor(
    readonly object: KubeObject,
    readonly code: number | undefined,
    message: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

function statusMessage(err: unknown): string {
  const e = err as { body?: unknown; message?: string };
  if (typeof e.body === 'string') {
    try {
      const parsed = JSON.parse(e.body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      /* not a Status */
    }
  }
  if (e.body && typeof e.body === 'object' && 'message' in e.body) return String((e.body as { message: unknown }).message);
  return e.message ?? String(err);
}

export function errorCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export class ClusterApplier {
  private readonly objects: k8s.KubernetesObjectApi;
  private readonly crdApi: k8s.ApiextensionsV1Api;

  constructor(kc: k8s.KubeConfig) {
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    this.crdApi = kc.makeApiClient(k8s.ApiextensionsV1Api);
  }

  /** Server-side apply (force: the operator owns these fields); dryRun = the API server checks all, stores nothing. */
  async apply(obj: KubeObject, dryRun: boolean): Promise<void> {
    try {
      await this.objects.patch(
        obj as k8s.KubernetesObject,
        undefined,
        dryRun ? 'All' : undefined,
        FIELD_MANAGER,
        true,
        k8s.PatchStrategy.ServerSideApply,
      );
    } catch (err) {
      throw new ApplyError(obj, errorCode(err), `${describe(obj)}: ${statusMessage(err)}`, { cause: err });
    }
  }

  /** Every object labelled as the owner's, of every managed kind whose API the cluster serves. */
  async listOwned(owner: Owner): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const kind of MANAGED_KINDS) {
      let list: k8s.KubernetesListObject<k8s.KubernetesObject>;
      try {
        list = await this.objects.list(
          apiVersionOf(kind),
          kind.kind,
          kind.namespaced ? owner.namespace : undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          ownerSelector(owner),
        );
      } catch (err) {
        // cert-manager or Prometheus Operator not installed: nothing of that kind can exist
        if (errorCode(err) === 404 || /Unrecognized API version and kind/.test(String((err as Error).message))) continue;
        throw err;
      }
      for (const item of list.items) {
        out.push({ ...(item as unknown as KubeObject), apiVersion: apiVersionOf(kind), kind: kind.kind });
      }
    }
    return out;
  }

  /** Deletes one object (absent = done); dependents go in the background. */
  async delete(obj: KubeObject): Promise<void> {
    try {
      await this.objects.delete(
        { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace } },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background',
      );
    } catch (err) {
      if (errorCode(err) !== 404) throw new ApplyError(obj, errorCode(err), `deleting ${describe(obj)}: ${statusMessage(err)}`, { cause: err });
    }
  }

  /** Names of the given CRDs that exist. */
  async existingCrds(names: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const name of names) {
      try {
        await this.crdApi.readCustomResourceDefinition({ name });
        found.add(name);
      } catch (err) {
        if (errorCode(err) !== 404) throw err;
      }
    }
    return found;
  }

  async createCrd(crd: KubeObject): Promise<void> {
    try {
      await this.crdApi.createCustomResourceDefinition({ body: crd as unknown as k8s.V1CustomResourceDefinition });
    } catch (err) {
      if (errorCode(err) !== 409) throw new ApplyError(crd, errorCode(err), `${describe(crd)}: ${statusMessage(err)}`, { cause: err });
    }
  }
}
