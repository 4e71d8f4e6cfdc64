// Wiring of the webhook server from its configuration: certificate source (files or the self-managed
// Secret), HTTPS admission server, caBundle upkeep and, with --webhook-url, registration of the
// ValidatingWebhookConfiguration. Used by src/cmd/webhook-server.ts and by integration tests.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import type { Logger } from '../operator/logger.js';
import { AdmissionServer, type ServingCertificate } from './admission-server.js';
import { CaBundleReconciler } from './ca-bundle-reconciler.js';
import { ManagedTls } from './managed-tls.js';
import { CertificateFileSource } from './tls-file-source.js';
import { DEFAULT_RENEW_BEFORE_FRACTION, type TlsPolicy } from './tls-rotation-plan.js';
import { TlsSecretStore } from './tls-secret-store.js';
import type { WebhookConfig } from './webhook-config.js';
import { buildValidatingWebhookConfiguration } from './webhook-configuration.js';
import { WebhookMetrics } from './webhook-metrics.js';
import { ensureWebhookConfiguration, removeWebhookConfiguration } from './webhook-registration.js';
import { apiErrorLogFields, apiErrorText } from '../kube/api-errors.js';

export interface WebhookDeps {
  logger: Logger;
  metrics?: WebhookMetrics;
  /** API access; loaded from --kubeconfig, in-cluster, $KUBECONFIG or ~/.kube/config when absent (managed mode only). */
  kubeConfig?: k8s.KubeConfig;
}

export interface RunningWebhook {
  server: AdmissionServer;
  port: number;
  metrics: WebhookMetrics;
  /** PEM CA bundle clients must trust (managed mode). */
  caBundle(): string | undefined;
  stop(): Promise<void>;
}

const STARTUP_ATTEMPTS = 10;
/** Unregistration on the way out: a few quick attempts (about 4 s), the process is stopping. */
const UNREGISTER_ATTEMPTS = 5;

export function tlsPolicyOf(config: WebhookConfig): TlsPolicy {
  return {
    caCommonName: `${config.serviceName}-ca`,
    caValidityMs: config.caValidityMs,
    servingValidityMs: config.certificateValidityMs,
    renewBeforeFraction: DEFAULT_RENEW_BEFORE_FRACTION,
    caPropagationMs: config.caPropagationDelayMs,
    dnsNames: config.dnsNames,
    ipAddresses: config.ipAddresses,
  };
}

async function withRetries<T>(what: string, logger: Logger, fn: () => Promise<T>, attempts = STARTUP_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts) throw new Error(`${what} failed after ${attempt} attempts: ${apiErrorText(err)}`, { cause: err });
      const delay = Math.min(5000, 250 * 2 ** attempt);
      logger.warn(`${what} failed; retrying`, { attempt, delayMs: delay, ...apiErrorLogFields(err) });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Starts the server per `config`; resolves once it listens (and, with --webhook-url, is registered). */
export async function startWebhook(config: WebhookConfig, deps: WebhookDeps): Promise<RunningWebhook> {
  const { logger } = deps;
  const metrics = deps.metrics ?? new WebhookMetrics({ defaultMetrics: true });

  if (config.tlsMode === 'files') {
    // The certificate source exists before the server it feeds; the holder links them.
    const holder: { server?: AdmissionServer } = {};
    const source = new CertificateFileSource(config.certFile, config.keyFile, config.fileSyncPeriodMs, logger, (certificate) =>
      holder.server?.updateCertificate(certificate),
    );
    const certificate = await source.load();
    const running = new AdmissionServer({ port: config.port, host: hostOf(config), certificate, logger, metrics });
    holder.server = running;
    const port = await running.start();
    source.start();
    return {
      server: running,
      port,
      metrics,
      caBundle: () => undefined,
      stop: async () => {
        source.stop();
        await running.stop();
      },
    };
  }

  const holder: { server?: AdmissionServer } = {};
  const { admission, managed } = managedTlsOf(config, deps, metrics, (certificate) => holder.server?.updateCertificate(certificate));
  const material = await withRetries('Ensuring the TLS Secret', logger, () => managed.init());
  const running = new AdmissionServer({ port: config.port, host: hostOf(config), certificate: { cert: material.cert, key: material.key }, logger, metrics });
  holder.server = running;
  const port = await running.start();
  if (config.webhookUrl !== '') {
    const desired = buildValidatingWebhookConfiguration({
      name: config.webhookConfigName,
      url: config.webhookUrl,
      caBundle: material.caBundle,
      namespaceSelector: config.namespaceSelector,
      failurePolicy: config.failurePolicy,
      timeoutSeconds: config.timeoutSeconds,
    });
    await withRetries('Registering the ValidatingWebhookConfiguration', logger, () => ensureWebhookConfiguration(admission, desired, logger));
  }
  managed.start();
  return {
    server: running,
    port,
    metrics,
    caBundle: () => managed.current()?.caBundle,
    stop: async () => {
      await managed.stop();
      await running.stop();
      if (config.webhookUrl !== '' && config.unregisterOnExit) {
        await withRetries('Unregistering the ValidatingWebhookConfiguration', logger,
          () => removeWebhookConfiguration(admission, config.webhookConfigName, logger), UNREGISTER_ATTEMPTS);
      }
    },
  };
}

/**
 * --init-server (the original's init container): make the TLS Secret current, write tls.crt and
 * tls.key into $CERT_KEY_PATH when set, set the caBundle once, and return.
 */
export async function runInitServer(config: WebhookConfig, deps: WebhookDeps): Promise<void> {
  const { logger } = deps;
  const { managed, reconciler } = managedTlsOf(config, deps, deps.metrics ?? new WebhookMetrics(), () => undefined);
  const material = await withRetries('Ensuring the TLS Secret', logger, () => managed.init());
  if (config.certKeyPath !== '') {
    await mkdir(config.certKeyPath, { recursive: true });
    await writeFile(join(config.certKeyPath, 'tls.crt'), material.cert, { mode: 0o644 });
    await writeFile(join(config.certKeyPath, 'tls.key'), material.key, { mode: 0o600 });
    logger.info('Certificate files written', { directory: config.certKeyPath });
  }
  if (reconciler !== undefined) await withRetries('Setting the caBundle', logger, () => reconciler.sync(material.caBundle));
}

function managedTlsOf(
  config: WebhookConfig,
  deps: WebhookDeps,
  metrics: WebhookMetrics,
  onCertificate: (certificate: ServingCertificate) => void,
): { admission: k8s.AdmissionregistrationV1Api; managed: ManagedTls; reconciler: CaBundleReconciler | undefined } {
  const kc = deps.kubeConfig ?? loadKubeConfig({ kubeconfig: config.kubeconfig });
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  const store = new TlsSecretStore(core, { namespace: config.tlsSecretNamespace, name: config.tlsSecretName }, deps.logger);
  const reconciler = config.reconcileCaBundle ? new CaBundleReconciler(admission, config.webhookConfigName, deps.logger, metrics) : undefined;
  const managed = new ManagedTls({
    store,
    policy: tlsPolicyOf(config),
    reconciler,
    periodMs: config.caBundleSyncPeriodMs,
    // Expiry is checked at least every minute, and often enough for short test validities.
    replanMs: Math.min(60_000, config.certificateValidityMs / 10),
    logger: deps.logger,
    onCertificate,
  });
  return { admission, managed, reconciler };
}

function hostOf(config: WebhookConfig): string | undefined {
  return config.host === '' ? undefined : config.host;
}
