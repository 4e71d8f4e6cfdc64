// Leader election on a coordination.k8s.io/v1 Lease with the semantics of client-go's
// tools/leaderelection (LeaseLock, ReleaseOnCancel):
// - acquire: create the Lease, or take it over when it has no holder or the holder has not renewed
//   for leaseDurationSeconds as observed on OUR clock (no clock-skew assumptions); every write is a
//   replace carrying the resourceVersion read just before, so two candidates never both win;
// - renew every retryPeriod with one write of the Lease last observed (client-go's optimistic renewal:
//   no read first, so a busy API server answers one request, not two); on a conflict or an error it
//   falls back to read, then write, in the same attempt;
// - if no renewal succeeded for renewDeadline, or another holder shows up,
//   leadership is lost: onStoppedLeading() runs (the controller stops its work at once and campaigns
//   again with a new elector, or exits with --leader-elect-exit-on-loss);
// - release() on shutdown clears holderIdentity, so a standby takes over at its next attempt.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';

/** The Lease calls the elector makes; the default goes to the API server, tests may pass a fake. */
export interface LeaseClient {
  /** The Lease, or undefined when it does not exist. */
  get(namespace: string, name: string): Promise<V1Lease | undefined>;
  /** Creates it; rejects with `.code === 409` when it already exists. */
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  /** Replaces it (metadata.resourceVersion is a precondition); rejects with `.code === 409` on conflict. */
  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

export function kubeLeaseClient(kc: KubeConfig): LeaseClient {
  const api = kc.makeApiClient(CoordinationV1Api);
  return {
    get: async (namespace, name) => {
      try {
        return await api.readNamespacedLease({ namespace, name });
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    },
    create: (namespace, body) => api.createNamespacedLease({ namespace, body }),
    replace: (namespace, name, body) => api.replaceNamespacedLease({ namespace, name, body }),
  };
}

/** The part of a winston logger the elector uses. */
export interface ElectorLog {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
}

export interface LeaderElectorOptions {
  kubeConfig: KubeConfig;
  /** Namespace of the Lease. */
  namespace: string;
  /** Name of the Lease. */
  name: string;
  /** Unique per process, e.g. `${hostname}_${pid}`. */
  identity: string;
  /** Non-leaders wait this long after the last observed change before taking over (client-go: 15 s). */
  leaseDurationMs: number;
  /** The leader gives up when it could not renew for this long (client-go: 10 s). */
  renewDeadlineMs: number;
  /** Interval between acquire/renew attempts (client-go: 2 s). */
  retryPeriodMs: number;
  log: ElectorLog;
  /** Lease calls; default kubeLeaseClient(kubeConfig). */
  leaseClient?: LeaseClient;
  /** Clock, default Date.now (tests inject a fake). */
  now?: () => number;
  /** Random in [0,1) for the acquire jitter, default Math.random. */
  random?: () => number;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/** client-go's JitterFactor for acquire retries. */
const JITTER_FACTOR = 1.2;

interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number | undefined;
  renewTime: number | undefined;
  leaseTransitions: number;
}

function timeOf(t: unknown): number | undefined {
  if (t === undefined || t === null || t === '') return undefined;
  const ms = new Date(t as string | Date).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

function recordOf(lease: V1Lease): LeaseRecord {
  const s = lease.spec ?? {};
  return {
    holderIdentity: s.holderIdentity ?? '',
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    acquireTime: timeOf(s.acquireTime),
    renewTime: timeOf(s.renewTime),
    leaseTransitions: s.leaseTransitions ?? 0,
  };
}

function sameRecord(a: LeaseRecord | undefined, b: LeaseRecord | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function errorText(err: unknown): string {
  const e = err as { code?: number; message?: string; body?: unknown };
  const body = typeof e.body === 'string' ? e.body : e.body ? JSON.stringify(e.body) : '';
  return [e.code ? `HTTP ${e.code}` : '', e.message ?? String(err), body].filter((x) => x !== '').join(': ');
}

class TimeoutError extends Error {}

export class LeaderElector {
  private readonly client: LeaseClient;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly leaseName: string;

  private observedRecord: LeaseRecord | undefined;
  private observedLease: V1Lease | undefined;
  private observedTime = 0;
  private observedResourceVersion: string | undefined;
  private running = false;
  private stopped = false;
  private inFlight: Promise<unknown> | undefined;
  private wake: (() => void) | undefined;
  private runDone: Promise<void> | undefined;
  private lastReportedLeader: string | undefined;

  constructor(private readonly opts: LeaderElectorOptions) {
    if (!opts.identity) throw new Error('leader election: identity must not be empty');
    if (!(opts.leaseDurationMs > opts.renewDeadlineMs)) {
      throw new Error(`leader election: leaseDuration (${opts.leaseDurationMs} ms) must be greater than renewDeadline (${opts.renewDeadlineMs} ms)`);
    }
    if (!(opts.renewDeadlineMs > JITTER_FACTOR * opts.retryPeriodMs)) {
      throw new Error(`leader election: renewDeadline (${opts.renewDeadlineMs} ms) must be greater than ${JITTER_FACTOR} x retryPeriod (${opts.retryPeriodMs} ms)`);
    }
    if (!(opts.retryPeriodMs > 0)) throw new Error('leader election: retryPeriod must be > 0');
    this.client = opts.leaseClient ?? kubeLeaseClient(opts.kubeConfig);
    this.now = opts.now ?? (() => Date.now());
    this.random = opts.random ?? Math.random;
    this.leaseName = `${opts.namespace}/${opts.name}`;
  }

  /** True while this candidate holds the Lease as last observed. */
  isLeader(): boolean {
    return this.observedRecord?.holderIdentity === this.opts.identity;
  }

  /** The identity of the holder as last observed ('' when none). */
  getLeader(): string {
    return this.observedRecord?.holderIdentity ?? '';
  }

  /**
   * Campaigns until elected, calls onStartedLeading, then renews until leadership is lost or release()
   * is called; then calls onStoppedLeading (only if it had led) and resolves.
   */
  run(callbacks: LeaderCallbacks): Promise<void> {
    if (this.running) throw new Error('leader election: run() called twice');
    this.running = true;
    this.runDone = this.campaign(callbacks).finally(() => {
      this.running = false;
    });
    return this.runDone;
  }

  /**
   * Stops campaigning or renewing and, if this candidate holds the Lease, clears its holder so that a
   * standby takes over at once. Resolves after the write (errors are logged, not thrown).
   */
  async release(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.inFlight?.catch(() => undefined);
    await this.runDone?.catch(() => undefined);
    if (!this.isLeader()) return;
    const { namespace, name, identity } = this.opts;
    try {
      const lease = await this.client.get(namespace, name);
      if (!lease || recordOf(lease).holderIdentity !== identity) return;
      const now = new V1MicroTime(this.now());
      const released: V1Lease = {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: lease.spec?.leaseTransitions ?? 0,
        },
      };
      const updated = await this.client.replace(namespace, name, released);
      this.observe(updated);
      this.opts.log.info(`released leader lease ${this.leaseName}`, { identity });
    } catch (err) {
      this.opts.log.error(`failed to release leader lease ${this.leaseName}; a standby takes over when it expires`, {
        identity,
        error: errorText(err),
      });
    }
  }

  private async campaign(callbacks: LeaderCallbacks): Promise<void> {
    const { log, identity } = this.opts;
    log.info(`attempting to acquire leader lease ${this.leaseName}...`, { identity });
    while (!this.stopped) {
      if (await this.attempt(this.opts.renewDeadlineMs)) break;
      if (this.stopped) return;
      await this.sleep(this.opts.retryPeriodMs * (1 + this.random() * JITTER_FACTOR));
    }
    if (this.stopped) return;
    log.info(`successfully acquired lease ${this.leaseName}`, { identity });
    this.callback(callbacks.onStartedLeading, 'onStartedLeading');

    let lastRenew = this.now();
    let reason = 'released';
    while (!this.stopped) {
      await this.sleep(this.opts.retryPeriodMs);
      if (this.stopped) break;
      const remaining = lastRenew + this.opts.renewDeadlineMs - this.now();
      const renewed = remaining > 0 && (await this.attempt(remaining));
      if (this.stopped) break;
      if (renewed) {
        lastRenew = this.now();
        continue;
      }
      if (this.observedRecord && this.observedRecord.holderIdentity !== identity && this.observedRecord.holderIdentity !== '') {
        reason = `lease now held by ${this.observedRecord.holderIdentity}`;
        break;
      }
      if (this.now() - lastRenew >= this.opts.renewDeadlineMs) {
        reason = `could not renew for ${this.opts.renewDeadlineMs} ms (renew deadline)`;
        break;
      }
    }
    if (reason !== 'released') {
      log.error(`failed to renew lease ${this.leaseName}: ${reason}; leadership lost`, { identity });
      // Forget our own holdership so release() does not clear a lease we no longer hold.
      if (this.observedRecord?.holderIdentity === identity) this.observedRecord = { ...this.observedRecord, holderIdentity: '' };
    }
    this.callback(callbacks.onStoppedLeading, 'onStoppedLeading');
  }

  private callback(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      this.opts.log.error(`leader election: ${what} threw`, { error: errorText(err) });
    }
  }

  /** One tryAcquireOrRenew bounded by timeoutMs; never throws. */
  private async attempt(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const call = this.tryAcquireOrRenew();
    this.inFlight = call;
    try {
      return await Promise.race([
        call,
        new Promise<boolean>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError(`timed out after ${Math.round(timeoutMs)} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      this.opts.log.warn(`error retrieving or updating leader lease ${this.leaseName}`, {
        identity: this.opts.identity,
        error: errorText(err),
      });
      return false;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private observe(lease: V1Lease): void {
    const record = recordOf(lease);
    if (!sameRecord(record, this.observedRecord)) {
      this.observedRecord = record;
      this.observedTime = this.now();
    }
    this.observedResourceVersion = lease.metadata?.resourceVersion;
    this.observedLease = lease;
    if (record.holderIdentity !== this.lastReportedLeader) {
      this.lastReportedLeader = record.holderIdentity;
      if (record.holderIdentity && record.holderIdentity !== this.opts.identity) {
        this.opts.log.info(`new leader elected: ${record.holderIdentity}`, { lease: this.leaseName });
      }
    }
  }

  /** The Lease as this candidate writes it at `now`: held by it, renewed, acquired now unless renewing. */
  private claimed(lease: V1Lease, old: LeaseRecord, now: number): V1Lease {
    const renewing = old.holderIdentity === this.opts.identity;
    return {
      ...lease,
      metadata: { ...lease.metadata, resourceVersion: this.observedResourceVersion },
      spec: {
        ...lease.spec,
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000),
        acquireTime: renewing && old.acquireTime !== undefined ? new V1MicroTime(old.acquireTime) : new V1MicroTime(now),
        renewTime: new V1MicroTime(now),
        leaseTransitions: renewing ? old.leaseTransitions : old.leaseTransitions + 1,
      },
    };
  }

  /** client-go's tryAcquireOrRenew: true when this candidate holds the Lease after the call. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = this.now();
    const leaseDurationSeconds = Math.ceil(this.opts.leaseDurationMs / 1000);
    // 1. the leader's fast path: write the Lease last observed, without reading it first
    if (this.isLeader() && this.observedLease && this.observedRecord) {
      try {
        this.observe(await this.client.replace(namespace, name, this.claimed(this.observedLease, this.observedRecord, this.now())));
        return true;
      } catch (err) {
        if (this.stopped) return false;
        this.opts.log.debug(`optimistic renewal of lease ${this.leaseName} failed; reading it`, { error: errorText(err) });
      }
    }
    // 2. read, then decide
    const lease = await this.client.get(namespace, name);
    if (this.stopped) return false;
    if (!lease) {
      try {
        const created = await this.client.create(namespace, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: new V1MicroTime(now),
            renewTime: new V1MicroTime(now),
            leaseTransitions: 0,
          },
        });
        this.observe(created);
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 409) return false; // another candidate created it first
        throw err;
      }
    }

    this.observe(lease);
    const old = this.observedRecord as LeaseRecord;
    const heldByOther = old.holderIdentity !== '' && old.holderIdentity !== identity;
    if (heldByOther && this.observedTime + old.leaseDurationSeconds * 1000 > now) {
      this.opts.log.debug(`lease ${this.leaseName} is held by ${old.holderIdentity} and has not yet expired`);
      return false;
    }

    try {
      this.observe(await this.client.replace(namespace, name, this.claimed(lease, old, now)));
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 409) return false; // someone else wrote it in between
      throw err;
    }
  }

  /** Sleeps ms, or less if release() is called. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
