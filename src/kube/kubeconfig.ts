// Where the controller finds its API server (client-go's BuildConfigFromFlags order):
// --kubeconfig if given; else the pod's service account when running in a cluster
// (KUBERNETES_SERVICE_HOST); else $KUBECONFIG or ~/.kube/config. --master overrides the server URL.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConfigSource {
  /** Path of a kubeconfig file ("" = not given). */
  kubeconfig?: string;
  /** API server URL overriding the one of the loaded config ("" = keep it). */
  master?: string;
}

export interface KubeConfigEnvironment {
  env?: Record<string, string | undefined>;
  /** Home directory holding .kube/config (default: os.homedir()). */
  homeDir?: string;
  /** Prefix of the service account directory (tests point it at a temp dir). */
  inClusterPathPrefix?: string;
}

function fail(message: string): never {
  throw new Error(
    `${message}. Pass --kubeconfig=<file>, set KUBECONFIG, create ~/.kube/config, or run the controller in a pod with a service account`,
  );
}

/** "host:port" gets https:// as in client-go; anything else must be an http(s) URL. */
export function normaliseMasterUrl(master: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(master) ? master : `https://${master}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`invalid --master ${JSON.stringify(master)}: use a URL such as https://10.0.0.1:6443`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`invalid --master ${JSON.stringify(master)}: the scheme must be https or http`);
  }
  return withScheme.replace(/\/+$/, '');
}

function loadFile(kc: KubeConfig, file: string, what: string): void {
  if (!fs.existsSync(file)) fail(`${what} ${file} does not exist`);
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new Error(`cannot load ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** kubectl's merge of a KUBECONFIG list: the first file that defines a name (or current-context) wins. */
function mergeFirstWins(kc: KubeConfig, more: KubeConfig): void {
  const has = <T extends { name: string }>(list: T[], name: string) => list.some((x) => x.name === name);
  for (const c of more.clusters) if (!has(kc.clusters, c.name)) kc.addCluster(c);
  for (const u of more.users) if (!has(kc.users, u.name)) kc.addUser(u);
  for (const c of more.contexts) if (!has(kc.contexts, c.name)) kc.addContext(c);
  if (!kc.currentContext && more.currentContext) kc.setCurrentContext(more.currentContext);
}

/** Loads the client configuration; throws an Error saying what was tried when nothing is found. */
export function loadKubeConfig(source: KubeConfigSource, environment: KubeConfigEnvironment = {}): KubeConfig {
  const env = environment.env ?? process.env;
  const kc = new KubeConfig();
  const master = source.master ?? '';

  if (source.kubeconfig) {
    loadFile(kc, source.kubeconfig, '--kubeconfig');
  } else if (env.KUBERNETES_SERVICE_HOST) {
    const port = env.KUBERNETES_SERVICE_PORT;
    if (!port) fail('KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not');
    const prefix = environment.inClusterPathPrefix ?? '';
    const token = `${prefix}${SERVICE_ACCOUNT_DIR}/token`;
    if (!fs.existsSync(token)) {
      fail(`running in a cluster (KUBERNETES_SERVICE_HOST=${env.KUBERNETES_SERVICE_HOST}) but the service account token ${token} is missing (automountServiceAccountToken: false?)`);
    }
    kc.loadFromCluster(prefix);
    // loadFromCluster reads process.env itself; build the server from the environment given to us.
    const host = env.KUBERNETES_SERVICE_HOST;
    const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
    const server = `${scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
    kc.clusters = kc.clusters.map((c) => ({ ...c, server }));
  } else if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '');
    const first = files[0];
    if (first === undefined) fail('KUBECONFIG is set but names no file');
    loadFile(kc, first, 'KUBECONFIG file');
    for (const file of files.slice(1)) {
      if (!fs.existsSync(file)) continue; // kubectl ignores missing files of a list
      const more = new KubeConfig();
      loadFile(more, file, 'KUBECONFIG file');
      mergeFirstWins(kc, more);
    }
  } else {
    const home = environment.homeDir ?? os.homedir();
    const file = path.join(home, '.kube', 'config');
    if (fs.existsSync(file)) {
      loadFile(kc, file, 'kubeconfig');
    } else if (master) {
      // --master alone: an unauthenticated client of that server (client-go allows it too).
      kc.loadFromClusterAndUser({ name: 'master', server: normaliseMasterUrl(master), skipTLSVerify: false }, { name: 'master' });
      return kc;
    } else {
      fail(`no Kubernetes configuration found: --kubeconfig is empty, KUBERNETES_SERVICE_HOST and KUBECONFIG are unset, and ${file} does not exist`);
    }
  }

  if (!kc.getCurrentContext() || !kc.getCurrentCluster()) {
    fail(`the loaded configuration has no usable current context (current-context: ${JSON.stringify(kc.getCurrentContext() ?? '')})`);
  }
  if (master) {
    const current = kc.getCurrentCluster();
    if (current) {
      const server = normaliseMasterUrl(master);
      kc.clusters = kc.clusters.map((c) => (c.name === current.name ? { ...c, server } : c));
    }
  }
  return kc;
}
