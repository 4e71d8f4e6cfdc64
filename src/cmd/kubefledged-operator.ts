#!/usr/bin/env node
// kubefledged-operator: installs, upgrades and removes kube-fledged from KubeFledged objects
// (charts.helm.kubefledged.io/v1alpha2) in WATCH_NAMESPACE, rendering the chart with helm.
// flags/env -> wiring -> start: the SDK's watch enqueues keys, workers reconcile them, a periodic
// resync (and the startup relist) enqueues every object again.
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { parseOrExit } from '../config/parse-or-exit.js';
import { createLogger } from '../operator/logger.js';
import { WorkQueue, runWorkers } from '../queue/work-queue.js';
import { ChartRenderer } from '../kfoperator/chart-renderer.js';
import { ClusterApplier } from '../kfoperator/cluster-applier.js';
import { KubeFledgedApi } from '../kfoperator/kubefledged-api.js';
import { KubeFledgedOperator } from '../kfoperator/kubefledged-operator.js';
import { parseOperatorConfig, type OperatorConfig } from '../kfoperator/operator-config.js';
import { ReleaseReconciler } from '../kfoperator/release-reconciler.js';

function parse(): OperatorConfig {
  return parseOrExit(() => parseOperatorConfig(process.argv.slice(2), process.env));
}

async function main(): Promise<void> {
  const config = parse();
  const log = createLogger(config.logLevel, 'kubefledged-operator');
  // The SDK loads its own client from the default locations: point it at the same kubeconfig.
  if (config.kubeconfig) process.env.KUBECONFIG = config.kubeconfig;
  const kc = loadKubeConfig({ kubeconfig: config.kubeconfig });
  const api = new KubeFledgedApi(kc);
  const renderer = new ChartRenderer(config.chartDir, config.helmBinary);
  // fail now, not at the first event, when the chart or helm is missing
  const chart = renderer.info().chart;
  const helmVersion = await renderer.helmVersion();
  const reconciler = new ReleaseReconciler(api, new ClusterApplier(kc), renderer, log);
  const queue = new WorkQueue();
  const operator = new KubeFledgedOperator(config.namespace, (key) => queue.add(key), log);

  const relist = async (): Promise<void> => {
    try {
      for (const o of await api.list(config.namespace)) queue.add(`${o.metadata.namespace}/${o.metadata.name}`);
    } catch (err) {
      log.error('listing KubeFledged objects failed', { namespace: config.namespace, error: String(err) });
    }
  };
  const workers = runWorkers(queue, config.workers, (key) => reconciler.reconcile(key), log);

  const resync = setInterval(() => void relist(), config.resyncPeriodMs);
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info(`received ${signal}: shutting down`);
    clearInterval(resync);
    // Not operator.stop(): the SDK exits 1 on it. Drain the reconciles in flight, then exit.
    await queue.shutDownWithDrain();
    await workers;
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  // The first list must succeed before the watch starts: the SDK exits on a watch error, and a CRD
  // that was just created answers 429 for a moment ("storage is (re)initializing").
  for (let attempt = 0; ; attempt++) {
    try {
      for (const o of await api.list(config.namespace)) queue.add(`${o.metadata.namespace}/${o.metadata.name}`);
      break;
    } catch (err) {
      const delay = Math.min(1000 * 2 ** attempt, 30_000);
      log.warn('cannot list KubeFledged objects yet; retrying', { namespace: config.namespace, error: String(err), retryInMs: delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  await operator.start();
  log.info('kubefledged-operator started', { namespace: config.namespace, chart, chartDir: config.chartDir, helm: config.helmBinary, helmVersion });
}

main().catch((err) => {
  process.stderr.write(`kubefledged-operator: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
