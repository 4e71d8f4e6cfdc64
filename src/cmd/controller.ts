#!/usr/bin/env node
// kubefledged-controller: flags -> wiring -> start. Flags are those of the original (see --help).
//
// Life cycle:
// - every API call and watch goes through one request layer (rate limit --kube-api-qps/--kube-api-burst,
//   retries of 429/5xx/refused/reset/timeouts); only a bad flag (exit 2) or a missing permission
//   (exit 1, naming it) ends the process;
// - with --leader-elect, each leadership term runs its own Controller behind a request gate: losing
//   the Lease closes the gate (every request of that term fails at once, so no reconcile runs
//   without the Lease), stops the term's controller, and campaigns again (--leader-elect-exit-on-loss
//   keeps client-go's exit instead);
// - SIGTERM/SIGINT: no new work and no new Jobs from then on, a drain bounded by
//   --shutdown-grace-period, the watches stopped, the Lease released, exit 0.
import * as os from 'node:os';
import { parseControllerConfig, type ControllerConfig } from '../config/controller-config.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { parseOrExit } from '../config/parse-or-exit.js';
import { LeaderElector } from '../kube/leader-election.js';
import { MissingPermissionError } from '../kube/informers.js';
import { apiErrorLogFields } from '../kube/api-errors.js';
import { withRequestLayer, type LayeredKubeConfig, type RequestGate } from '../kube/request-layer.js';
import { Controller } from '../operator/controller.js';
import { createLogger, type Logger } from '../operator/logger.js';
import { createControllerMetrics, type ControllerMetrics } from '../operator/metrics.js';
import { startHealthServer } from '../operator/health-server.js';

function parse(): ControllerConfig {
  return parseOrExit(() => parseControllerConfig(process.argv.slice(2), process.env));
}

/** 'leading': all requests; 'draining' (SIGTERM): no creates but Events; 'over': none. */
type TermState = 'leading' | 'draining' | 'over';

interface Term {
  state: TermState;
  controller: Controller;
}

/** The gate of one term: see TermState. */
function termGate(term: { state: TermState }): RequestGate {
  return ({ method, url }) => {
    if (term.state === 'over') return 'this controller no longer leads';
    if (term.state === 'draining' && method === 'POST' && !/\/events(\?|$)/.test(url)) return 'shutting down: no new Jobs';
    return undefined;
  };
}

function fatal(log: Logger, err: unknown): never {
  if (err instanceof MissingPermissionError) log.error(err.message, { resource: err.resource, code: err.code });
  else log.error('controller failed to start', apiErrorLogFields(err));
  process.exit(1);
}

class ControllerProcess {
  private term: Term | undefined;
  private stopping = false;
  private elector: LeaderElector | undefined;

  constructor(
    private readonly config: ControllerConfig,
    private readonly kc: LayeredKubeConfig,
    private readonly leaseKc: LayeredKubeConfig,
    private readonly log: Logger,
    private readonly metrics: ControllerMetrics,
  ) {}

  healthy(): { ok: boolean; reason?: string } {
    return this.term ? this.term.controller.healthy() : { ok: true };
  }

  /** A standby replica is ready (it serves); the leader once its watches have synced. */
  ready(): boolean {
    if (this.stopping) return false;
    if (this.config.leaderElect && !this.term) return true;
    return this.term?.controller.ready() ?? false;
  }

  /** Starts a term's controller behind its own gate; a start-up failure other than the term ending is fatal. */
  private beginTerm(): Term {
    const term = { state: 'leading' } as Term;
    term.controller = new Controller(this.config, this.kc.withGate(termGate(term)), this.log, this.metrics);
    this.term = term;
    this.metrics.leader.set(1);
    term.controller.start().catch((err: unknown) => {
      if (term.state !== 'leading') return; // the term ended while it started
      fatal(this.log, err);
    });
    return term;
  }

  /** Ends a term at once: its gate closes, its workers and watches stop. */
  private async endTerm(term: Term, drainMs: number): Promise<void> {
    this.metrics.leader.set(0);
    if (drainMs === 0) term.state = 'over';
    await term.controller.stop(drainMs);
    term.state = 'over';
    if (this.term === term) this.term = undefined;
  }

  async run(): Promise<void> {
    if (!this.config.leaderElect) {
      this.beginTerm();
      return;
    }
    const { config, log } = this;
    while (!this.stopping) {
      const elector = new LeaderElector({
        kubeConfig: this.leaseKc,
        namespace: config.namespace,
        name: config.leaderElectResourceName,
        identity: `${os.hostname()}_${process.pid}`,
        leaseDurationMs: config.leaderElectLeaseDurationMs,
        renewDeadlineMs: config.leaderElectRenewDeadlineMs,
        retryPeriodMs: config.leaderElectRetryPeriodMs,
        log,
      });
      this.elector = elector;
      let term: Term | undefined;
      let ended: Promise<void> | undefined;
      await elector.run({
        onStartedLeading: () => {
          term = this.beginTerm();
        },
        onStoppedLeading: () => {
          if (this.stopping || !term) return; // shutdown() ends the term itself
          if (config.leaderElectExitOnLoss) {
            log.error('leader election lost: exiting (--leader-elect-exit-on-loss)');
            process.exit(1);
          }
          log.error('leader election lost: stopped reconciling; campaigning again');
          ended = this.endTerm(term, 0);
        },
      });
      await ended;
    }
  }

  async shutdown(signal: string): Promise<void> {
    if (this.stopping) {
      this.log.warn(`received ${signal} again: exiting now`);
      process.exit(1);
    }
    this.stopping = true;
    this.log.info(`received ${signal}: shutting down`);
    const grace = this.config.shutdownGracePeriodMs;
    // a last resort: the drain is bounded, but a hung release must not keep the process
    setTimeout(() => {
      this.log.error('shutdown did not finish in time: exiting');
      process.exit(1);
    }, grace + 15_000).unref();
    const term = this.term;
    if (term && term.state === 'leading') term.state = 'draining';
    try {
      if (term) await this.endTerm(term, grace);
      await this.elector?.release();
    } catch (err) {
      this.log.error('shutdown: cleanup failed', apiErrorLogFields(err));
    }
  }
}

async function main(): Promise<void> {
  const config = parse();
  const log = createLogger(config.logLevel);
  // The SDK's constructor loads a client from the default locations before ours replaces it: point
  // KUBECONFIG at the same file so that load cannot fail on an unrelated $KUBECONFIG.
  if (config.kubeconfig) process.env.KUBECONFIG = config.kubeconfig;
  let loaded;
  try {
    loaded = loadKubeConfig({ kubeconfig: config.kubeconfig, master: config.master });
  } catch (err) {
    process.stderr.write(`kubefledged-controller: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const metrics = createControllerMetrics();
  metrics.imagePullDeadline.set(config.imagePullDeadlineMs / 1000);
  const kc = withRequestLayer(loaded, {
    qps: config.kubeApiQps, burst: config.kubeApiBurst, clientLimit: config.kubeApiClientLimit, log, onRetry: () => metrics.apiRetries.inc(),
    // one pool of kept-alive connections: client-node makes a TLS handshake per request otherwise, on
    // both sides (about a tenth of the controller's CPU in a 100-node create)
    keepAlive: true,
  });
  // The Lease has its own bucket (a renewal never waits behind bulk work), no retries of its own (the
  // elector retries every retry period within its renew deadline) and a kept-alive connection.
  const leaseKc = withRequestLayer(loaded, {
    qps: config.kubeApiQps, burst: config.kubeApiBurst, clientLimit: config.kubeApiClientLimit, retry: { maxElapsedMs: 0 }, keepAlive: true,
    log: { warn: log.warn.bind(log), debug: log.debug.bind(log) }, // the main layer says when the limit changes
  });
  const proc = new ControllerProcess(config, kc, leaseKc, log, metrics);

  const health = config.metricsBindAddress !== '0'
    ? await startHealthServer({
      bindAddress: config.metricsBindAddress,
      registry: metrics.registry,
      isHealthy: () => proc.healthy(),
      isReady: () => proc.ready(),
    })
    : undefined;
  if (health) log.info('serving /metrics, /healthz and /readyz', { port: health.port });

  const onSignal = (signal: string) => {
    void proc.shutdown(signal).finally(async () => {
      await health?.close().catch(() => undefined);
      log.info('shutdown complete');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  await proc.run();
}

main().catch((err) => {
  process.stderr.write(`kubefledged-controller: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
