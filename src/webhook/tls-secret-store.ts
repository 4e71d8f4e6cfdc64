// The TLS Secret in the install namespace: read it, ask the planner, write the plan. Race-safe across
// replicas: creation that loses (409) re-reads and uses the winner's Secret; updates carry the
// resourceVersion they were planned from, and a conflict re-reads and re-plans.

import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import { CA_ADDED_AT_ANNOTATION, TLS_SECRET_KEYS, planTlsMaterial, type TlsMaterial, type TlsPolicy } from './tls-rotation-plan.js';
import type { Logger } from '../operator/logger.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kubefledged-webhook-server';
const MAX_ATTEMPTS = 5;

export interface TlsSecretRef {
  namespace: string;
  name: string;
}

export interface EnsuredTls {
  material: TlsMaterial;
  resourceVersion: string;
  /** True when this call wrote the Secret. */
  written: boolean;
}

export class TlsSecretStore {
  constructor(
    private readonly core: CoreV1Api,
    private readonly ref: TlsSecretRef,
    private readonly logger: Logger,
  ) {}

  /** Makes the Secret hold valid, current material (creating or rotating it) and returns it. */
  async ensure(policy: TlsPolicy, now: () => Date = () => new Date()): Promise<EnsuredTls> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const existing = await this.read();
      // A blank Secret is one an installer created for the webhook to fill (Helm always sets its own
      // managed-by label, and owns the Secret so that uninstall removes it).
      if (existing !== undefined && !isManaged(existing) && !hasCompleteMaterial(existing) && !isBlank(existing)) {
        throw new Error(
          `Secret ${this.ref.namespace}/${this.ref.name} exists, is not managed by the webhook (label ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}) and holds other data than a usable ca.crt/ca.key/tls.crt/tls.key; delete it or choose another --tls-secret-name`,
        );
      }
      const plan = await planTlsMaterial(existing !== undefined ? materialOf(existing) : undefined, policy, now());
      if (plan.action === 'keep') {
        return { material: plan.material, resourceVersion: existing?.metadata?.resourceVersion ?? '', written: false };
      }
      try {
        const written = existing === undefined ? await this.create(plan.material) : await this.replace(existing, plan.material);
        this.logger.info('TLS Secret written', {
          secret: `${this.ref.namespace}/${this.ref.name}`,
          action: existing === undefined ? 'create' : 'update',
          reasons: plan.reasons,
        });
        return { material: plan.material, resourceVersion: written.metadata?.resourceVersion ?? '', written: true };
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code !== 409) throw err;
        lastError = err;
        this.logger.info('TLS Secret changed by another replica; re-reading', { secret: `${this.ref.namespace}/${this.ref.name}`, attempt });
      }
    }
    throw new Error(`could not settle TLS Secret ${this.ref.namespace}/${this.ref.name} after ${MAX_ATTEMPTS} attempts: ${String(lastError)}`);
  }

  async read(): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ name: this.ref.name, namespace: this.ref.namespace });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  private async create(material: TlsMaterial): Promise<V1Secret> {
    return this.core.createNamespacedSecret({
      namespace: this.ref.namespace,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: {
          name: this.ref.name,
          namespace: this.ref.namespace,
          labels: { app: 'kubefledged', kubefledged: 'kubefledged-webhook-server', [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
          annotations: annotationsFor(material),
        },
        data: dataFor(material),
      },
    });
  }

  private async replace(existing: V1Secret, material: TlsMaterial): Promise<V1Secret> {
    const metadata = existing.metadata ?? {};
    return this.core.replaceNamespacedSecret({
      name: this.ref.name,
      namespace: this.ref.namespace,
      body: {
        ...existing,
        metadata: {
          ...metadata,
          labels: { ...(metadata.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
          annotations: { ...(metadata.annotations ?? {}), ...annotationsFor(material) },
        },
        data: { ...(existing.data ?? {}), ...dataFor(material) },
      },
    });
  }
}

/** Decoded material of a Secret (absent keys stay absent). */
export function materialOf(secret: V1Secret): Partial<TlsMaterial> {
  const data = secret.data ?? {};
  const decode = (key: string): string | undefined => {
    const value = data[key];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  };
  const material: Partial<TlsMaterial> = {};
  const caBundle = decode(TLS_SECRET_KEYS.caBundle);
  const caKey = decode(TLS_SECRET_KEYS.caKey);
  const cert = decode(TLS_SECRET_KEYS.cert);
  const key = decode(TLS_SECRET_KEYS.key);
  if (caBundle !== undefined) material.caBundle = caBundle;
  if (caKey !== undefined) material.caKey = caKey;
  if (cert !== undefined) material.cert = cert;
  if (key !== undefined) material.key = key;
  const addedAt = secret.metadata?.annotations?.[CA_ADDED_AT_ANNOTATION];
  if (addedAt !== undefined) material.caAddedAt = addedAt;
  return material;
}

function dataFor(material: TlsMaterial): Record<string, string> {
  const encode = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return {
    [TLS_SECRET_KEYS.caBundle]: encode(material.caBundle),
    [TLS_SECRET_KEYS.caKey]: encode(material.caKey),
    [TLS_SECRET_KEYS.cert]: encode(material.cert),
    [TLS_SECRET_KEYS.key]: encode(material.key),
  };
}

function annotationsFor(material: TlsMaterial): Record<string, string> {
  return material.caAddedAt !== undefined ? { [CA_ADDED_AT_ANNOTATION]: material.caAddedAt } : {};
}

function isManaged(secret: V1Secret): boolean {
  return secret.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
}

function isBlank(secret: V1Secret): boolean {
  return Object.keys(secret.data ?? {}).length === 0 && Object.keys(secret.stringData ?? {}).length === 0;
}

function hasCompleteMaterial(secret: V1Secret): boolean {
  const m = materialOf(secret);
  return Boolean(m.caBundle && m.caKey && m.cert && m.key);
}
