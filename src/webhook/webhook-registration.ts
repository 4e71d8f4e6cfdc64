// Registration of the ValidatingWebhookConfiguration by the server itself (out-of-cluster runs with
// --webhook-url, and tests): create it, or bring an existing one to the desired shape. The caBundle is
// left to the CaBundleReconciler.

import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../operator/logger.js';

const MAX_ATTEMPTS = 5;

/** The desired webhooks with each caBundle taken from the current object (so registration never fights the reconciler). */
function withCurrentCaBundles(
  desired: k8s.V1ValidatingWebhook[],
  current: k8s.V1ValidatingWebhook[],
): k8s.V1ValidatingWebhook[] {
  return desired.map((webhook) => {
    const existing = current.find((w) => w.name === webhook.name);
    const caBundle = webhook.clientConfig.caBundle ?? existing?.clientConfig.caBundle;
    const clientConfig = { ...webhook.clientConfig };
    if (caBundle !== undefined) clientConfig.caBundle = caBundle;
    return { ...webhook, clientConfig };
  });
}

function sameWebhooks(a: k8s.V1ValidatingWebhook[], b: k8s.V1ValidatingWebhook[]): boolean {
  const strip = (list: k8s.V1ValidatingWebhook[]): string =>
    JSON.stringify(
      list.map((w) => ({
        name: w.name,
        url: w.clientConfig.url,
        service: w.clientConfig.service,
        rules: w.rules,
        failurePolicy: w.failurePolicy,
        timeoutSeconds: w.timeoutSeconds,
        sideEffects: w.sideEffects,
        admissionReviewVersions: w.admissionReviewVersions,
        namespaceSelector: w.namespaceSelector ?? {},
      })),
    );
  return strip(a) === strip(b);
}

/** Creates the configuration or replaces its webhooks when they differ (caBundle aside). */
export async function ensureWebhookConfiguration(
  api: k8s.AdmissionregistrationV1Api,
  desired: k8s.V1ValidatingWebhookConfiguration,
  logger: Logger,
): Promise<void> {
  const name = desired.metadata?.name;
  if (name === undefined) throw new Error('ensureWebhookConfiguration: desired configuration has no metadata.name');
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let current: k8s.V1ValidatingWebhookConfiguration | undefined;
    try {
      current = await api.readValidatingWebhookConfiguration({ name });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
    try {
      if (current === undefined) {
        await api.createValidatingWebhookConfiguration({ body: desired });
        logger.info(`ValidatingWebhookConfiguration ${name} created`, { webhookConfiguration: name });
        return;
      }
      const webhooks = withCurrentCaBundles(desired.webhooks ?? [], current.webhooks ?? []);
      if (sameWebhooks(webhooks, current.webhooks ?? [])) return;
      await api.replaceValidatingWebhookConfiguration({
        name,
        body: { ...current, metadata: { ...current.metadata, labels: { ...current.metadata?.labels, ...desired.metadata?.labels } }, webhooks },
      });
      logger.info(`ValidatingWebhookConfiguration ${name} updated`, { webhookConfiguration: name });
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
  throw new Error(`could not register ValidatingWebhookConfiguration ${name}: kept conflicting with other writers`);
}

/** Deletes the configuration; absent is fine. */
export async function removeWebhookConfiguration(api: k8s.AdmissionregistrationV1Api, name: string, logger: Logger): Promise<void> {
  try {
    await api.deleteValidatingWebhookConfiguration({ name });
    logger.info(`ValidatingWebhookConfiguration ${name} deleted`, { webhookConfiguration: name });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
}
