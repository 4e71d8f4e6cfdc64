// Support for the install e2e tests: helm and make against the local cluster, ServiceAccount tokens of
// the installed chart, and the project's entrypoints as child processes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { ROOT, kubeconfigPath } from '../../../support/cluster.js';
import { helm } from '../../../unit/install/support/chart.js';

const execFileAsync = promisify(execFile);

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command with KUBECONFIG set to the local cluster; rejects with its output on failure. */
export async function run(cmd: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
  try {
    return await execFileAsync(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: kubeconfigPath(), ...opts.env },
      maxBuffer: 64 << 20,
      timeout: opts.timeoutMs ?? 600_000,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${e.stderr || e.message}\n${e.stdout ?? ''}`, { cause: err });
  }
}

/** Like run, but expects a failure and returns its stderr. */
export async function runFails(cmd: string, args: string[]): Promise<string> {
  try {
    await execFileAsync(cmd, args, { cwd: ROOT, env: { ...process.env, KUBECONFIG: kubeconfigPath() } });
  } catch (err) {
    return (err as { stderr?: string }).stderr ?? '';
  }
  throw new Error(`${cmd} ${args.join(' ')} should have failed`);
}

export async function helmRun(args: string[], timeoutMs?: number): Promise<RunResult> {
  return run(helm(), [...args, '--kubeconfig', kubeconfigPath()], { timeoutMs });
}

/** A kubeconfig file that authenticates as ServiceAccount `ns/sa` (a bound token, 1 hour). */
export async function serviceAccountKubeconfig(kc: k8s.KubeConfig, ns: string, sa: string): Promise<string> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({ name: sa, namespace: ns, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const cluster = kc.getCurrentCluster()!;
  const ca = cluster.caData ?? (cluster.caFile ? fs.readFileSync(cluster.caFile).toString('base64') : undefined);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kf-install-sa-')), 'kubeconfig');
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'sa',
    clusters: [{ name: 'local', cluster: { server: cluster.server, 'certificate-authority-data': ca } }],
    users: [{ name: sa, user: { token: tr.status!.token } }],
    contexts: [{ name: 'sa', context: { cluster: 'local', user: sa, namespace: ns } }],
  };
  fs.writeFileSync(file, JSON.stringify(cfg), { mode: 0o600 });
  return file;
}

export function removeKubeconfig(file: string | undefined): void {
  if (file) fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

/** One of src/cmd/*.ts run with tsx as a child process, its output kept for failure messages. */
export class EntrypointProcess {
  readonly logs: string[] = [];
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  constructor(
    private readonly entrypoint: 'controller' | 'webhook-server' | 'cri-client' | 'kubefledged-operator',
    private readonly args: string[],
    private readonly env: Record<string, string>,
  ) {}

  start(): this {
    this.child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cmd', `${this.entrypoint}.ts`), ...this.args], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (b: Buffer): void => {
      for (const l of b.toString().split('\n')) if (l) this.logs.push(l);
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => this.child!.on('exit', (code) => resolve(code)));
    return this;
  }

  running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (!this.running()) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  dump(): string {
    return `${this.entrypoint} output:\n${this.logs.slice(-40).join('\n')}`;
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Free ports for a private local cluster (hack/cluster-up.sh's port variables), so that it never meets
 * another cluster on this machine (make test's other shard, other checkouts).
 */
export async function privateClusterPorts(): Promise<Record<string, string>> {
  const ports: Record<string, string> = {};
  for (const k of ['ETCD_CLIENT_PORT', 'ETCD_PEER_PORT', 'APISERVER_PORT', 'KCM_PORT', 'SCHEDULER_PORT', 'KWOK_PORT']) ports[k] = String(await freePort());
  return ports;
}

/** Replaces `--name=...` in args (or appends it). */
export function withFlag(args: string[], name: string, value: string): string[] {
  const out = args.filter((a) => !a.startsWith(`--${name}=`));
  out.push(`--${name}=${value}`);
  return out;
}
