// Keeps webhooks[].clientConfig.caBundle of the ValidatingWebhookConfiguration equal to the CA bundle,
// so that a `kubectl apply` or `helm upgrade` that resets it is repaired at the next sync.
// The patch is a JSON patch guarded by `test` operations (webhook name and old value at each index):
// two replicas patching at once cannot clobber a concurrent edit; the loser gets 422 and retries at
// its next sync.

import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../operator/logger.js';
import type { WebhookMetrics } from './webhook-metrics.js';

const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

export interface JsonPatchOperation {
  op: 'test' | 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

export type CaBundleSyncResult = 'in-sync' | 'patched' | 'absent' | 'conflict';

/** The JSON patch that sets every webhook's caBundle to `caBundleBase64`; empty when all match. Pure. */
export function planCaBundlePatch(config: k8s.V1ValidatingWebhookConfiguration, caBundleBase64: string): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  (config.webhooks ?? []).forEach((webhook, i) => {
    const current = webhook.clientConfig?.caBundle;
    if (current === caBundleBase64) return;
    ops.push({ op: 'test', path: `/webhooks/${i}/name`, value: webhook.name });
    if (webhook.clientConfig === undefined) {
      ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig`, value: { caBundle: caBundleBase64 } });
      return;
    }
    if (current !== undefined) ops.push({ op: 'test', path: `/webhooks/${i}/clientConfig/caBundle`, value: current });
    ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundleBase64 });
  });
  return ops;
}

export class CaBundleReconciler {
  private lastResult: CaBundleSyncResult | undefined;

  constructor(
    private readonly api: k8s.AdmissionregistrationV1Api,
    private readonly configName: string,
    private readonly logger: Logger,
    private readonly metrics?: WebhookMetrics,
  ) {}

  /** One sync: read the configuration, patch it when its caBundle differs from `caBundlePem`. */
  async sync(caBundlePem: string): Promise<CaBundleSyncResult> {
    const result = await this.syncOnce(Buffer.from(caBundlePem, 'utf8').toString('base64'));
    if (result !== this.lastResult && result !== 'patched') {
      const log = result === 'absent' ? this.logger.warn.bind(this.logger) : this.logger.info.bind(this.logger);
      log(`ValidatingWebhookConfiguration ${this.configName}: caBundle ${result}`, { webhookConfiguration: this.configName });
    }
    this.lastResult = result;
    return result;
  }

  private async syncOnce(caBundleBase64: string): Promise<CaBundleSyncResult> {
    let config: k8s.V1ValidatingWebhookConfiguration;
    try {
      config = await this.api.readValidatingWebhookConfiguration({ name: this.configName });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return 'absent';
      throw err;
    }
    const ops = planCaBundlePatch(config, caBundleBase64);
    if (ops.length === 0) return 'in-sync';
    try {
      await this.api.patchValidatingWebhookConfiguration({ name: this.configName, body: ops }, jsonPatch);
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 404) return 'absent';
      if (code === 409 || code === 422) return 'conflict';
      throw err;
    }
    this.metrics?.countCaBundleRepair();
    this.logger.info(`ValidatingWebhookConfiguration ${this.configName}: caBundle set to the current CA`, {
      webhookConfiguration: this.configName,
      webhooks: (config.webhooks ?? []).length,
    });
    return 'patched';
  }
}
