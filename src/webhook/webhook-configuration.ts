// The ValidatingWebhookConfiguration of the webhook (spec §4.4), built as a plain object. Pure.
//
// Choices (docs/webhook.md explains them):
//  - failurePolicy Fail: an ImageCache that was not validated is never stored. Status writes go to the
//    /status subresource, which the rule does not match, so an outage blocks only user create/update of
//    ImageCaches, never the controller.
//  - timeoutSeconds 5: the rules answer in well under a millisecond; 5 s rides out a replica restart or
//    a slow network without the original's spurious 1 s timeouts, and stays under the API default (10 s).
//  - matchPolicy Equivalent, sideEffects None, admissionReviewVersions [v1, v1beta1].

import type { V1LabelSelector, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../api/imagecache.js';
import { VALIDATE_PATH } from './admission-paths.js';

export const DEFAULT_WEBHOOK_CONFIG_NAME = 'kubefledged-webhook-server';
export const WEBHOOK_NAME = 'validate-image-cache.kubefledged.io';
export const DEFAULT_SERVICE_NAME = 'kubefledged-webhook-server';
/** The Service port of the original manifests (targetPort is the container's --port). */
export const DEFAULT_SERVICE_PORT = 3443;
export const DEFAULT_TIMEOUT_SECONDS = 5;
export const DEFAULT_FAILURE_POLICY = 'Fail';

export interface WebhookServiceRef {
  namespace: string;
  name: string;
  port?: number;
  path?: string;
}

export interface WebhookConfigurationOptions {
  /** metadata.name; DEFAULT_WEBHOOK_CONFIG_NAME when absent. */
  name?: string;
  /** PEM CA bundle (plain text; base64-encoded here). Absent: no caBundle field (e.g. cert-manager injects it). */
  caBundle?: string;
  /** In-cluster Service reference. Exactly one of service and url. */
  service?: WebhookServiceRef;
  /** Out-of-cluster URL, e.g. https://127.0.0.1:8443/validate-image-cache. */
  url?: string;
  namespaceSelector?: V1LabelSelector;
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
  labels?: Record<string, string>;
}

/** The ValidatingWebhookConfiguration object for the given options. Throws on contradictory options. */
export function buildValidatingWebhookConfiguration(options: WebhookConfigurationOptions): V1ValidatingWebhookConfiguration {
  if ((options.service === undefined) === (options.url === undefined)) {
    throw new Error('buildValidatingWebhookConfiguration: give exactly one of service and url');
  }
  if (options.url !== undefined && !options.url.startsWith('https://')) {
    throw new Error(`webhook URL ${JSON.stringify(options.url)} must start with https://`);
  }
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 30) {
    throw new Error(`timeoutSeconds ${timeoutSeconds} must be a whole number from 1 to 30`);
  }
  const clientConfig: NonNullable<V1ValidatingWebhookConfiguration['webhooks']>[number]['clientConfig'] = {};
  if (options.service !== undefined) {
    clientConfig.service = {
      namespace: options.service.namespace,
      name: options.service.name,
      path: options.service.path ?? VALIDATE_PATH,
      port: options.service.port ?? DEFAULT_SERVICE_PORT,
    };
  } else {
    clientConfig.url = options.url;
  }
  if (options.caBundle !== undefined) clientConfig.caBundle = Buffer.from(options.caBundle, 'utf8').toString('base64');
  const webhook: NonNullable<V1ValidatingWebhookConfiguration['webhooks']>[number] = {
    name: WEBHOOK_NAME,
    admissionReviewVersions: ['v1', 'v1beta1'],
    sideEffects: 'None',
    failurePolicy: options.failurePolicy ?? DEFAULT_FAILURE_POLICY,
    matchPolicy: 'Equivalent',
    timeoutSeconds,
    clientConfig,
    rules: [
      {
        operations: ['CREATE', 'UPDATE'],
        apiGroups: [GROUP],
        apiVersions: [VERSION],
        resources: [PLURAL],
        scope: 'Namespaced',
      },
    ],
  };
  if (options.namespaceSelector !== undefined) webhook.namespaceSelector = options.namespaceSelector;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: {
      name: options.name ?? DEFAULT_WEBHOOK_CONFIG_NAME,
      labels: options.labels ?? { app: 'kubefledged', kubefledged: 'kubefledged-webhook-server' },
    },
    webhooks: [webhook],
  };
}

/**
 * Parses a label selector in kubectl's equality form ("k=v,k2=v2") into matchLabels. Throws a message
 * naming the bad term.
 */
export function parseEqualitySelector(selector: string): V1LabelSelector {
  const matchLabels: Record<string, string> = {};
  for (const term of selector.split(',')) {
    const trimmed = term.trim();
    if (trimmed === '') continue;
    const match = /^([A-Za-z0-9][A-Za-z0-9._/-]*)\s*==?\s*([A-Za-z0-9._-]*)$/.exec(trimmed);
    if (match === null) throw new Error(`selector term ${JSON.stringify(trimmed)} is not of the form key=value`);
    matchLabels[match[1]!] = match[2]!;
  }
  return { matchLabels };
}
