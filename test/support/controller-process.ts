// Test support: the controller as a child process, under the ClusterRole shipped in deploy/ through a
// ServiceAccount token (not cluster-admin), so a missing permission fails the test.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { ROOT, kubeconfigPath } from './cluster.js';

/** Applies deploy/kubefledged-clusterrole-controller.yaml and binds it to a fresh ServiceAccount in `ns`. */
export async function serviceAccountKubeconfig(kc: k8s.KubeConfig, ns: string, saName = 'kubefledged-controller'): Promise<{ file: string; cleanup: () => Promise<void> }> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const role = parseYaml(fs.readFileSync(path.join(ROOT, 'deploy', 'kubefledged-clusterrole-controller.yaml'), 'utf8')) as k8s.V1ClusterRole;
  try {
    await rbac.createClusterRole({ body: role });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    await rbac.replaceClusterRole({ name: role.metadata!.name!, body: role });
  }
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: saName } } });
  const bindingName = `kf-test-${ns}`;
  await rbac.createClusterRoleBinding({ body: {
    metadata: { name: bindingName, labels: { 'kubefledged.io/test': 'true' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata!.name! },
    subjects: [{ kind: 'ServiceAccount', name: saName, namespace: ns }],
  } });
  // leader election: the namespaced Role of deploy/ (leases) bound in the test namespace
  const leaseRole = parseYaml(fs.readFileSync(path.join(ROOT, 'deploy', 'kubefledged-role-controller.yaml'), 'utf8')) as k8s.V1Role;
  leaseRole.metadata = { ...leaseRole.metadata, namespace: ns };
  await rbac.createNamespacedRole({ namespace: ns, body: leaseRole });
  await rbac.createNamespacedRoleBinding({ namespace: ns, body: {
    metadata: { name: 'kf-test-leases', namespace: ns },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: leaseRole.metadata!.name! },
    subjects: [{ kind: 'ServiceAccount', name: saName, namespace: ns }],
  } });
  const tr = await core.createNamespacedServiceAccountToken({ name: saName, namespace: ns, body: { spec: { audiences: [], expirationSeconds: 7200 } } });
  const cluster = kc.getCurrentCluster()!;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kf-sa-')), 'kubeconfig');
  const cfg = {
    apiVersion: 'v1', kind: 'Config', 'current-context': 'sa',
    clusters: [{ name: 'local', cluster: { server: cluster.server, 'certificate-authority-data': fs.existsSync(kubeconfigPath()) ? caData(kc) : undefined } }],
    users: [{ name: saName, user: { token: tr.status!.token } }],
    contexts: [{ name: 'sa', context: { cluster: 'local', user: saName, namespace: ns } }],
  };
  fs.writeFileSync(file, JSON.stringify(cfg), { mode: 0o600 });
  return {
    file,
    cleanup: async () => {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      await rbac.deleteClusterRoleBinding({ name: bindingName }).catch(() => undefined);
    },
  };
}

function caData(kc: k8s.KubeConfig): string | undefined {
  const c = kc.getCurrentCluster();
  if (c?.caData) return c.caData;
  if (c?.caFile) return fs.readFileSync(c.caFile).toString('base64');
  return undefined;
}

export class ControllerProcess {
  readonly logs: string[] = [];
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  /** `entry`: a compiled controller (dist/cmd/controller.js) instead of src/cmd/controller.ts through tsx. */
  constructor(private readonly kubeconfig: string, private readonly args: string[], private readonly env: Record<string, string> = {}, private readonly entry?: string) {}

  start(): this {
    const program = this.entry ? [this.entry] : ['--import', 'tsx', path.join(ROOT, 'src', 'cmd', 'controller.ts')];
    // KF_CONTROLLER_NODE_ARGS: node flags for the controllers of a test run, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
    // (node refuses --cpu-prof in NODE_OPTIONS)
    const nodeArgs = (process.env.KF_CONTROLLER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    this.child = spawn(process.execPath, [...nodeArgs, ...program, `--kubeconfig=${this.kubeconfig}`, '--metrics-bind-address=0', ...this.args], {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: this.kubeconfig, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (b: Buffer) => { for (const l of b.toString().split('\n')) if (l) this.logs.push(l); };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => this.child!.on('exit', (code) => resolve(code)));
    return this;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  waitExit(): Promise<number | null> {
    return this.exited ?? Promise.resolve(null);
  }

  running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL: no graceful shutdown (the crash case). */
  async kill(): Promise<void> {
    if (!this.running()) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after 10 s. */
  async stop(): Promise<number | null> {
    if (!this.running()) return this.child?.exitCode ?? null;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    const code = await this.exited!;
    clearTimeout(timer);
    return code;
  }

  dump(): string {
    return this.logs.slice(-60).join('\n');
  }
}
