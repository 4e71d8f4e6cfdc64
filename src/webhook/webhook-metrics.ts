// Prometheus metrics of the webhook server, on a registry of its own (several servers can live in one
// test process).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How a request ended: allowed or denied by the rules, or rejected before the rules ran. */
export type AdmissionOutcome = 'allowed' | 'denied' | 'error';

export class WebhookMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'path' | 'operation' | 'verdict'>;
  private readonly latency: Histogram<'path' | 'verdict'>;
  private readonly certificateExpiry: Gauge;
  private readonly caBundleRepairs: Counter;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.requests = new Counter({
      name: 'kubefledged_webhook_admission_requests_total',
      help: 'Admission requests handled, by path, operation and verdict (allowed, denied, error).',
      labelNames: ['path', 'operation', 'verdict'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'kubefledged_webhook_admission_duration_seconds',
      help: 'Time from receiving an admission request to sending the answer.',
      labelNames: ['path', 'verdict'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [this.registry],
    });
    this.certificateExpiry = new Gauge({
      name: 'kubefledged_webhook_certificate_expiry_timestamp_seconds',
      help: 'Unix time at which the serving certificate in use expires.',
      registers: [this.registry],
    });
    this.caBundleRepairs = new Counter({
      name: 'kubefledged_webhook_ca_bundle_repairs_total',
      help: 'Times the ValidatingWebhookConfiguration caBundle was found different from the CA and patched.',
      registers: [this.registry],
    });
    if (options.defaultMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  observeRequest(path: string, operation: string, verdict: AdmissionOutcome, seconds: number): void {
    this.requests.inc({ path, operation, verdict });
    this.latency.observe({ path, verdict }, seconds);
  }

  setCertificateExpiry(notAfter: Date): void {
    this.certificateExpiry.set(notAfter.getTime() / 1000);
  }

  countCaBundleRepair(): void {
    this.caBundleRepairs.inc();
  }

  contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }
}
