// In-memory stand-ins for the few CoreV1Api / AdmissionregistrationV1Api calls the webhook makes, with
// the API server's resourceVersion semantics (409 on a stale replace or an existing name) and hooks to
// inject races.

import type * as k8s from '@kubernetes/client-node';

export class ApiError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

export class FakeSecrets {
  readonly store = new Map<string, k8s.V1Secret>();
  private rv = 1;
  calls: string[] = [];
  /** Runs before a create/replace is applied (e.g. another replica writing first). */
  beforeWrite?: (kind: 'create' | 'replace') => void;

  put(secret: k8s.V1Secret): k8s.V1Secret {
    const copy = clone(secret);
    copy.metadata = { ...copy.metadata, resourceVersion: String(++this.rv) };
    this.store.set(`${copy.metadata.namespace}/${copy.metadata.name}`, copy);
    return clone(copy);
  }

  api(): k8s.CoreV1Api {
    return {
      readNamespacedSecret: async ({ name, namespace }: { name: string; namespace: string }) => {
        this.calls.push('read');
        const s = this.store.get(`${namespace}/${name}`);
        if (s === undefined) throw new ApiError(404, 'not found');
        return clone(s);
      },
      createNamespacedSecret: async ({ namespace, body }: { namespace: string; body: k8s.V1Secret }) => {
        this.calls.push('create');
        this.beforeWrite?.('create');
        if (this.store.has(`${namespace}/${body.metadata!.name}`)) throw new ApiError(409, 'already exists');
        return this.put({ ...body, metadata: { ...body.metadata, namespace } });
      },
      replaceNamespacedSecret: async ({ name, namespace, body }: { name: string; namespace: string; body: k8s.V1Secret }) => {
        this.calls.push('replace');
        this.beforeWrite?.('replace');
        const cur = this.store.get(`${namespace}/${name}`);
        if (cur === undefined) throw new ApiError(404, 'not found');
        if (body.metadata?.resourceVersion !== cur.metadata?.resourceVersion) throw new ApiError(409, 'conflict');
        return this.put(body);
      },
    } as unknown as k8s.CoreV1Api;
  }
}

export class FakeWebhookConfigurations {
  readonly store = new Map<string, k8s.V1ValidatingWebhookConfiguration>();
  calls: string[] = [];
  failPatchWith?: number;

  api(): k8s.AdmissionregistrationV1Api {
    return {
      readValidatingWebhookConfiguration: async ({ name }: { name: string }) => {
        this.calls.push('read');
        const c = this.store.get(name);
        if (c === undefined) throw new ApiError(404, 'not found');
        return clone(c);
      },
      createValidatingWebhookConfiguration: async ({ body }: { body: k8s.V1ValidatingWebhookConfiguration }) => {
        this.calls.push('create');
        if (this.store.has(body.metadata!.name!)) throw new ApiError(409, 'exists');
        this.store.set(body.metadata!.name!, clone(body));
        return clone(body);
      },
      replaceValidatingWebhookConfiguration: async ({ name, body }: { name: string; body: k8s.V1ValidatingWebhookConfiguration }) => {
        this.calls.push('replace');
        this.store.set(name, clone(body));
        return clone(body);
      },
      deleteValidatingWebhookConfiguration: async ({ name }: { name: string }) => {
        this.calls.push('delete');
        if (!this.store.delete(name)) throw new ApiError(404, 'not found');
        return {};
      },
      patchValidatingWebhookConfiguration: async ({ name, body }: { name: string; body: { op: string; path: string; value?: unknown }[] }) => {
        this.calls.push('patch');
        if (this.failPatchWith !== undefined) throw new ApiError(this.failPatchWith, 'injected');
        const c = this.store.get(name);
        if (c === undefined) throw new ApiError(404, 'not found');
        const doc = clone(c) as unknown as Record<string, unknown>;
        for (const op of body) {
          const keys = op.path.split('/').slice(1);
          const last = keys.pop()!;
          let target: Record<string, unknown> = doc;
          for (const k of keys) target = target[k] as Record<string, unknown>;
          if (op.op === 'test') {
            if (JSON.stringify(target[last]) !== JSON.stringify(op.value)) throw new ApiError(422, `test failed at ${op.path}`);
          } else {
            target[last] = op.value;
          }
        }
        this.store.set(name, doc as unknown as k8s.V1ValidatingWebhookConfiguration);
        return clone(doc);
      },
    } as unknown as k8s.AdmissionregistrationV1Api;
  }
}
