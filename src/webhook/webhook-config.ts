// The webhook server's configuration: the original's flags (--cert-file, --key-file, --port,
// --init-server, glog's --stderrthreshold and friends) with the same names and defaults, plus what
// self-managed TLS, caBundle upkeep and out-of-cluster registration need. Pure: argv and env in,
// WebhookConfig or help text out; FlagError (naming the flag) on bad input.

import { DEFAULT_NAMESPACE } from '../api/constants.js';
import { envUsage, readEnvVar, type EnvVarDefs } from '../config/env-vars.js';
import { FlagError, parseFlags, usage, type FlagDefs, type FlagValues } from '../config/flag-parser.js';
import { GLOG_FLAGS, glogLogLevel, type LogLevel } from '../config/glog-flags.js';
import type { V1LabelSelector } from '@kubernetes/client-node';
import { DEFAULT_FAILURE_POLICY, DEFAULT_SERVICE_NAME, DEFAULT_TIMEOUT_SECONDS, DEFAULT_WEBHOOK_CONFIG_NAME, parseEqualitySelector } from './webhook-configuration.js';

export const WEBHOOK_PROGRAM = 'kubefledged-webhook-server';
export const DEFAULT_TLS_SECRET_NAME = 'kubefledged-webhook-server-tls';

const DAY_MS = 24 * 3600 * 1000;

export type TlsMode = 'files' | 'managed';

export interface WebhookConfig {
  /** --port: HTTPS listen port. */
  port: number;
  /** --host: listen address; "" = all interfaces. */
  host: string;
  /** files: --cert-file/--key-file, reloaded when they change; managed: the TLS Secret. */
  tlsMode: TlsMode;
  certFile: string;
  keyFile: string;
  /** --init-server: ensure the Secret, write the files to $CERT_KEY_PATH (if set), patch the caBundle, exit. */
  initServer: boolean;
  /** $CERT_KEY_PATH (original's init container): directory for tls.crt and tls.key in --init-server mode. */
  certKeyPath: string;
  tlsSecretName: string;
  tlsSecretNamespace: string;
  serviceName: string;
  /** DNS names of the serving certificate (service names, --extra-san DNS entries). */
  dnsNames: string[];
  /** IP SANs (from --webhook-url's host and --extra-san IP entries). */
  ipAddresses: string[];
  webhookConfigName: string;
  /** --reconcile-ca-bundle: keep the configuration's caBundle equal to the CA (managed mode). */
  reconcileCaBundle: boolean;
  caBundleSyncPeriodMs: number;
  certificateValidityMs: number;
  caValidityMs: number;
  caPropagationDelayMs: number;
  /** --webhook-url: when set, the server creates/updates its ValidatingWebhookConfiguration with this URL. */
  webhookUrl: string;
  namespaceSelector?: V1LabelSelector;
  failurePolicy: 'Fail' | 'Ignore';
  timeoutSeconds: number;
  unregisterOnExit: boolean;
  fileSyncPeriodMs: number;
  kubeconfig: string;
  logLevel: LogLevel;
}

function checkName(value: string): string | undefined {
  if (/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(value)) return undefined;
  return 'must be a DNS subdomain name (lowercase letters, digits, "-" and ".")';
}

function checkUrl(value: string): string | undefined {
  if (value === '') return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:') return 'must be an https:// URL';
    if (url.username !== '' || url.password !== '' || url.hash !== '' || url.search !== '') {
      return 'must not carry user info, a query or a fragment (the API server rejects them)';
    }
  } catch {
    return 'is not a URL; write e.g. https://127.0.0.1:8443/validate-image-cache';
  }
  return undefined;
}

function checkSelector(value: string): string | undefined {
  try {
    parseEqualitySelector(value);
    return undefined;
  } catch (err) {
    return `${(err as Error).message}; write e.g. kubernetes.io/metadata.name=my-namespace`;
  }
}

export const WEBHOOK_FLAGS = {
  // --- the original's flags (glog's are added from GLOG_FLAGS below) ---
  'cert-file': { type: 'string', default: '', description: 'PEM serving certificate (chain allowed); with --key-file, disables the self-managed TLS Secret. Reloaded when the file changes' },
  'key-file': { type: 'string', default: '', description: 'PEM private key of --cert-file' },
  port: { type: 'int', default: 443, min: 0, max: 65535, description: 'HTTPS port to listen on (0 picks a free port)' },
  'init-server': {
    type: 'bool',
    default: false,
    description: 'Run once and exit (the original\'s init container): ensure the TLS Secret, write tls.crt/tls.key into $CERT_KEY_PATH when set, set the caBundle',
  },
  // --- this implementation ---
  host: { type: 'string', default: '', description: 'Address to listen on; empty means all interfaces' },
  'manage-tls': {
    type: 'bool',
    default: true,
    description: 'Keep a CA and serving certificate in the TLS Secret (created when absent, rotated before expiry); must be false or unset when --cert-file/--key-file are given',
  },
  'tls-secret-name': { type: 'string', default: DEFAULT_TLS_SECRET_NAME, validate: checkName, description: 'Secret (type kubernetes.io/tls, with ca.crt and ca.key) holding the self-managed CA and serving certificate' },
  'tls-secret-namespace': { type: 'string', default: '', description: 'Namespace of the TLS Secret; empty means $KUBEFLEDGED_NAMESPACE (default "kube-fledged")' },
  'service-name': { type: 'string', default: '', validate: (v: string) => (v === '' ? undefined : checkName(v)), description: 'Service in front of the webhook; its DNS names go into the serving certificate. Empty means $WEBHOOK_SERVER_SERVICE or "kubefledged-webhook-server"' },
  'extra-san': { type: 'list', default: [], description: 'Additional DNS name or IP address for the serving certificate' },
  'webhook-config-name': { type: 'string', default: DEFAULT_WEBHOOK_CONFIG_NAME, validate: checkName, description: 'ValidatingWebhookConfiguration whose caBundle is kept equal to the CA; when the flag is not given, $VALIDATING_WEBHOOK_CONFIG (if set) is used' },
  'reconcile-ca-bundle': { type: 'bool', default: true, description: 'Keep the caBundle of --webhook-config-name equal to the CA of the TLS Secret (self-managed TLS only)' },
  'ca-bundle-sync-period': { type: 'duration', default: 2000, min: 100, description: 'How often the TLS Secret and the caBundle are checked (a reset caBundle is repaired within this period)' },
  'certificate-validity': { type: 'duration', default: 365 * DAY_MS, min: 10_000, description: 'Validity of the serving certificate; renewed when less than a third is left' },
  'ca-validity': { type: 'duration', default: 5 * 365 * DAY_MS, min: 10_000, description: 'Validity of the CA; a new CA is added when less than a third is left' },
  'ca-propagation-delay': { type: 'duration', default: 300_000, min: 0, description: 'How long a new CA is published in the caBundle before the serving certificate moves to it' },
  'webhook-url': { type: 'string', default: '', validate: checkUrl, description: 'Register the ValidatingWebhookConfiguration with this URL (out-of-cluster runs, e.g. https://127.0.0.1:8443/validate-image-cache); its host goes into the certificate' },
  'namespace-selector': { type: 'string', default: '', validate: checkSelector, description: 'With --webhook-url: namespaceSelector of the registered webhook, as key=value[,key=value]' },
  'failure-policy': { type: 'enum', values: ['Fail', 'Ignore'], default: DEFAULT_FAILURE_POLICY, description: 'With --webhook-url: failurePolicy of the registered webhook' },
  'timeout-seconds': { type: 'int', default: DEFAULT_TIMEOUT_SECONDS, min: 1, max: 30, description: 'With --webhook-url: timeoutSeconds of the registered webhook' },
  'unregister-on-exit': { type: 'bool', default: false, description: 'With --webhook-url: delete the ValidatingWebhookConfiguration when the server stops' },
  'file-sync-period': { type: 'duration', default: 5000, min: 100, description: 'How often --cert-file/--key-file are checked for changes' },
  kubeconfig: { type: 'string', default: '', description: 'Path of a kubeconfig file; empty means in-cluster, then $KUBECONFIG, then ~/.kube/config' },
  ...GLOG_FLAGS,
} as const satisfies FlagDefs;

export type WebhookFlagValues = FlagValues<typeof WEBHOOK_FLAGS>;

export const WEBHOOK_ENV = {
  KUBEFLEDGED_NAMESPACE: { default: DEFAULT_NAMESPACE, description: 'Install namespace: default of --tls-secret-namespace and of the Service DNS names' },
  WEBHOOK_SERVER_SERVICE: { default: DEFAULT_SERVICE_NAME, description: 'Default of --service-name (the original init container\'s variable)' },
  VALIDATING_WEBHOOK_CONFIG: { default: '', description: 'Overrides the default of --webhook-config-name when set (the original init container\'s variable)' },
  CERT_KEY_PATH: { default: '', description: 'With --init-server: directory to write tls.crt and tls.key into' },
} as const satisfies EnvVarDefs;

export function webhookHelp(): string {
  return `${usage(WEBHOOK_FLAGS, { program: WEBHOOK_PROGRAM })}\n${envUsage(WEBHOOK_ENV)}`;
}

/** DNS names a client may use to reach the Service `name` in `namespace`. */
export function serviceDnsNames(name: string, namespace: string): string[] {
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}

function envOr(env: Record<string, string | undefined>, name: keyof typeof WEBHOOK_ENV): string {
  return readEnvVar(env, WEBHOOK_ENV, name);
}

/** Parses argv (without node and script) and env. `{ help }` for -h/--help, else `{ config }`. */
export function parseWebhookConfig(argv: readonly string[], env: Record<string, string | undefined>): { config: WebhookConfig } | { help: string } {
  const parsed = parseFlags(WEBHOOK_FLAGS, argv);
  if (parsed.help) return { help: webhookHelp() };
  if (parsed.args.length > 0) {
    throw new FlagError(`unexpected argument ${JSON.stringify(parsed.args[0])}: ${WEBHOOK_PROGRAM} takes only flags (-name=value); see --help`);
  }
  const v = parsed.values;

  const certFile = v['cert-file'];
  const keyFile = v['key-file'];
  if ((certFile === '') !== (keyFile === '')) {
    const missing = certFile === '' ? 'cert-file' : 'key-file';
    throw new FlagError(`flag -${missing} is required when -${missing === 'cert-file' ? 'key-file' : 'cert-file'} is given`, missing);
  }
  const files = certFile !== '';
  if (files && parsed.set.has('manage-tls') && v['manage-tls']) {
    throw new FlagError('invalid value "true" for flag -manage-tls: not with -cert-file/-key-file (give one or the other)', 'manage-tls');
  }
  if (!files && !v['manage-tls']) {
    throw new FlagError('flag -manage-tls=false needs -cert-file and -key-file (the server must get a certificate from somewhere)', 'manage-tls');
  }
  if (files && v['init-server']) {
    throw new FlagError('flag -init-server works with the self-managed TLS Secret, not with -cert-file/-key-file', 'init-server');
  }

  const namespace = v['tls-secret-namespace'] !== '' ? v['tls-secret-namespace'] : envOr(env, 'KUBEFLEDGED_NAMESPACE');
  const namespaceError = checkName(namespace);
  if (namespaceError !== undefined) {
    throw new FlagError(`invalid value ${JSON.stringify(namespace)} for flag -tls-secret-namespace: ${namespaceError}`, 'tls-secret-namespace');
  }
  const installNamespace = envOr(env, 'KUBEFLEDGED_NAMESPACE');
  const serviceName = v['service-name'] !== '' ? v['service-name'] : envOr(env, 'WEBHOOK_SERVER_SERVICE');
  const webhookConfigName = parsed.set.has('webhook-config-name') || envOr(env, 'VALIDATING_WEBHOOK_CONFIG') === '' ? v['webhook-config-name'] : envOr(env, 'VALIDATING_WEBHOOK_CONFIG');

  const dnsNames = serviceDnsNames(serviceName, installNamespace);
  const ipAddresses: string[] = [];
  const addSan = (value: string): void => {
    const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
    if (/^[0-9.]+$/.test(bare) || bare.includes(':')) {
      if (!ipAddresses.includes(bare)) ipAddresses.push(bare);
    } else if (!dnsNames.includes(bare.toLowerCase())) {
      dnsNames.push(bare.toLowerCase());
    }
  };
  for (const san of v['extra-san']) {
    if (!/^[A-Za-z0-9.:[\]*-]+$/.test(san)) {
      throw new FlagError(`invalid value ${JSON.stringify(san)} for flag -extra-san: give a DNS name or an IP address`, 'extra-san');
    }
    addSan(san);
  }
  const webhookUrl = v['webhook-url'];
  if (webhookUrl !== '') addSan(new URL(webhookUrl).hostname);
  for (const name of ['namespace-selector', 'failure-policy', 'timeout-seconds', 'unregister-on-exit'] as const) {
    if (parsed.set.has(name) && webhookUrl === '') {
      throw new FlagError(`flag -${name} only applies with -webhook-url (the server registers the webhook itself only then)`, name);
    }
  }

  const config: WebhookConfig = {
    port: v.port,
    host: v.host,
    tlsMode: files ? 'files' : 'managed',
    certFile,
    keyFile,
    initServer: v['init-server'],
    certKeyPath: envOr(env, 'CERT_KEY_PATH'),
    tlsSecretName: v['tls-secret-name'],
    tlsSecretNamespace: namespace,
    serviceName,
    dnsNames,
    ipAddresses,
    webhookConfigName,
    reconcileCaBundle: v['reconcile-ca-bundle'] && !files,
    caBundleSyncPeriodMs: v['ca-bundle-sync-period'],
    certificateValidityMs: v['certificate-validity'],
    caValidityMs: v['ca-validity'],
    caPropagationDelayMs: v['ca-propagation-delay'],
    webhookUrl,
    failurePolicy: v['failure-policy'],
    timeoutSeconds: v['timeout-seconds'],
    unregisterOnExit: v['unregister-on-exit'],
    fileSyncPeriodMs: v['file-sync-period'],
    kubeconfig: v.kubeconfig,
    logLevel: glogLogLevel(v),
  };
  if (v['namespace-selector'] !== '') config.namespaceSelector = parseEqualitySelector(v['namespace-selector']);
  if (config.certificateValidityMs > config.caValidityMs) {
    throw new FlagError('invalid value for flag -certificate-validity: must not exceed -ca-validity', 'certificate-validity');
  }
  return { config };
}
