#!/usr/bin/env node
// kubefledged-controller: flags -> wiring -> start. Flags are those of the original (see --help).
import * as os from 'node:os';
import { FlagError, parseControllerConfig, type ControllerConfig } from '../config/controller-config.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { LeaderElector } from '../kube/leader-election.js';
import { Controller } from '../operator/controller.js';
import { createLogger } from '../operator/logger.js';
import { createControllerMetrics } from '../operator/metrics.js';
import { startHealthServer } from '../operator/health-server.js';

function parse(): ControllerConfig {
  try {
    const parsed = parseControllerConfig(process.argv.slice(2), process.env);
    if ('help' in parsed) {
      process.stdout.write(parsed.help);
      process.exit(0);
    }
    return parsed.config;
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = parse();
  const log = createLogger(config.logLevel);
  // The SDK loads its own client from the default locations: point it at the same kubeconfig.
  if (config.kubeconfig) process.env.KUBECONFIG = config.kubeconfig;
  const kc = loadKubeConfig({ kubeconfig: config.kubeconfig, master: config.master });
  const metrics = createControllerMetrics();
  const controller = new Controller(config, kc, log, metrics);
  let leading = !config.leaderElect;

  const health = config.metricsBindAddress !== '0'
    ? await startHealthServer({
      bindAddress: config.metricsBindAddress,
      registry: metrics.registry,
      isHealthy: () => true,
      // A standby replica is ready (it serves); the leader once its watches have synced.
      isReady: () => !leading || controller.ready(),
    })
    : undefined;
  if (health) log.info('serving /metrics, /healthz and /readyz', { port: health.port });

  const elector = config.leaderElect
    ? new LeaderElector({
      kubeConfig: kc,
      namespace: config.namespace,
      name: config.leaderElectResourceName,
      identity: `${os.hostname()}_${process.pid}`,
      leaseDurationMs: config.leaderElectLeaseDurationMs,
      renewDeadlineMs: config.leaderElectRenewDeadlineMs,
      retryPeriodMs: config.leaderElectRetryPeriodMs,
      log,
    })
    : undefined;

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) process.exit(1); // a second signal: exit now
    stopping = true;
    log.info(`received ${signal}: shutting down`);
    try {
      await controller.stop();
      await elector?.release();
      await health?.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const startController = async () => {
    leading = true;
    metrics.leader.set(1);
    try {
      await controller.start();
    } catch (err) {
      log.error('controller failed to start', { error: String(err) });
      process.exit(1);
    }
  };
  if (elector) {
    await elector.run({
      onStartedLeading: () => void startController(),
      onStoppedLeading: () => {
        metrics.leader.set(0);
        if (!stopping) {
          log.error('leader election lost: exiting so a new leader takes over');
          process.exit(1);
        }
      },
    });
  } else {
    await startController();
  }
}

main().catch((err) => {
  process.stderr.write(`kubefledged-controller: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
