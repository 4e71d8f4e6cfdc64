// Flags and environment of kubefledged-operator (pure). The namespace it serves is WATCH_NAMESPACE, as
// with the original helm-operator (the Deployment sets it to its own namespace).
import { FlagError, parseFlags, usage, type FlagDefs } from '../config/flag-parser.js';
import { defaultChartDir, defaultHelmBinary } from './chart-renderer.js';

export const OPERATOR_FLAGS = {
  kubeconfig: { type: 'string', default: '', description: 'Path to a kubeconfig. Only required if out-of-cluster.' },
  'resync-period': { type: 'duration', default: 5 * 60_000, min: 1000, description: 'Reconcile every KubeFledged this often, to restore objects changed or deleted behind the operator\'s back.' },
  workers: { type: 'int', default: 2, min: 1, max: 32, description: 'KubeFledged objects reconciled at the same time.' },
  v: { type: 'enum', default: 'info', values: ['debug', 'info', 'warn', 'error'] as const, description: 'Log level.' },
} satisfies FlagDefs;

export interface OperatorConfig {
  kubeconfig: string;
  namespace: string;
  resyncPeriodMs: number;
  workers: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  helmBinary: string;
  chartDir: string;
}

export const ENVIRONMENT_HELP = `
Environment:
  WATCH_NAMESPACE        the namespace whose KubeFledged objects are reconciled (required)
  HELM_BINARY            the helm binary that renders the chart (default: helm on PATH)
  KUBEFLEDGED_CHART_DIR  the kube-fledged chart (default: helm/kube-fledged of this package)
`;

export function parseOperatorConfig(argv: readonly string[], env: Record<string, string | undefined>): { config: OperatorConfig } | { help: string } {
  const parsed = parseFlags(OPERATOR_FLAGS, argv);
  if (parsed.help) return { help: `${usage(OPERATOR_FLAGS, { program: 'kubefledged-operator' })}${ENVIRONMENT_HELP}` };
  if (parsed.args.length) throw new FlagError(`unexpected argument ${JSON.stringify(parsed.args[0])}: kubefledged-operator takes flags only`);
  const namespace = (env.WATCH_NAMESPACE ?? '').trim();
  if (!namespace) {
    throw new FlagError('WATCH_NAMESPACE is not set: set it to the namespace whose KubeFledged objects this operator reconciles (the Deployment sets it from metadata.namespace)');
  }
  if (namespace.includes(',')) {
    throw new FlagError(`WATCH_NAMESPACE=${JSON.stringify(namespace)} names more than one namespace: run one operator per namespace`);
  }
  return {
    config: {
      kubeconfig: parsed.values.kubeconfig,
      namespace,
      resyncPeriodMs: parsed.values['resync-period'],
      workers: parsed.values.workers,
      logLevel: parsed.values.v,
      helmBinary: defaultHelmBinary(env),
      chartDir: defaultChartDir(env),
    },
  };
}
