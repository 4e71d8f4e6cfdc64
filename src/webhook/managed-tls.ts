// Self-managed TLS upkeep, one loop per replica: every period, read the TLS Secret; when it changed (or
// a re-plan is due) make it current (create, rotate, repair: TlsSecretStore), hand a new serving
// certificate to the server, and keep the webhook configuration's caBundle equal to the CA bundle.
// Errors are logged and retried at the next period; the server keeps serving its last certificate.

import type { Logger } from '../operator/logger.js';
import type { ServingCertificate } from './admission-server.js';
import type { CaBundleReconciler } from './ca-bundle-reconciler.js';
import type { TlsMaterial, TlsPolicy } from './tls-rotation-plan.js';
import type { TlsSecretStore } from './tls-secret-store.js';

export interface ManagedTlsOptions {
  store: TlsSecretStore;
  policy: TlsPolicy;
  /** Absent: the caBundle is someone else's job (e.g. cert-manager's CA injector). */
  reconciler?: CaBundleReconciler;
  periodMs: number;
  /** Re-plan an unchanged Secret at least this often (expiry checks); default 60 s. */
  replanMs?: number;
  logger: Logger;
  onCertificate: (certificate: ServingCertificate) => void;
  now?: () => Date;
}

export class ManagedTls {
  private material: TlsMaterial | undefined;
  private resourceVersion: string | undefined;
  private lastPlan = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly options: ManagedTlsOptions) {}

  /** Makes the Secret current and returns its material (the first serving certificate). */
  async init(): Promise<TlsMaterial> {
    const ensured = await this.options.store.ensure(this.options.policy, this.now);
    this.material = ensured.material;
    this.resourceVersion = ensured.resourceVersion;
    this.lastPlan = this.now().getTime();
    return ensured.material;
  }

  current(): TlsMaterial | undefined {
    return this.material;
  }

  /** One pass: Secret, certificate hand-over, caBundle. Throws on API errors (the loop logs them). */
  async syncOnce(): Promise<void> {
    const secret = await this.options.store.read();
    const replanMs = this.options.replanMs ?? 60_000;
    const due = this.now().getTime() - this.lastPlan >= replanMs;
    if (secret === undefined || secret.metadata?.resourceVersion !== this.resourceVersion || due || this.material === undefined) {
      const previous = this.material;
      const ensured = await this.options.store.ensure(this.options.policy, this.now);
      this.material = ensured.material;
      this.resourceVersion = ensured.resourceVersion;
      this.lastPlan = this.now().getTime();
      if (previous === undefined || previous.cert !== ensured.material.cert || previous.key !== ensured.material.key) {
        this.options.onCertificate({ cert: ensured.material.cert, key: ensured.material.key });
      }
    }
    if (this.options.reconciler !== undefined) await this.options.reconciler.sync(this.material.caBundle);
  }

  start(): void {
    this.running = true;
    const tick = async (): Promise<void> => {
      try {
        await this.syncOnce();
      } catch (err) {
        this.options.logger.warn('TLS upkeep failed; retrying', { error: (err as Error).message });
      }
      if (this.running) this.timer = setTimeout(() => (this.inFlight = tick()), this.options.periodMs);
    };
    this.timer = setTimeout(() => (this.inFlight = tick()), 0);
  }

  /** Stops the loop and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private readonly now = (): Date => (this.options.now ?? (() => new Date()))();
}
