// Test support: access to the local control plane started by hack/cluster-up.sh.
// Integration and e2e tests import this; they never start an API server of their own.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
const execFileAsync = promisify(execFile);

/** Path of the admin kubeconfig of the local cluster (KUBECONFIG wins when set). */
export function kubeconfigPath(): string {
  const fromEnv = process.env.KUBECONFIG;
  if (fromEnv && fs.existsSync(fromEnv)) return fromEnv;
  const local = path.join(ROOT, '.cluster', 'kubeconfig');
  if (!fs.existsSync(local)) {
    throw new Error(`no cluster: ${local} is missing. Start one with "make cluster-up" (make test does it for you).`);
  }
  return local;
}

export function adminKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  return kc;
}

/** Runs kubectl against the local cluster; resolves with stdout, rejects with stderr in the message. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  const child = execFileAsync('kubectl', ['--kubeconfig', kubeconfigPath(), ...args], { maxBuffer: 64 << 20 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    const { stdout } = await child;
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

/** Polls fn until it returns a value that is not undefined/false, or fails after timeoutMs. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * Creates a namespace and waits until its default ServiceAccount exists (the ServiceAccount admission
 * plugin rejects pods before that). Returns the name; delete it with deleteNamespace.
 */
export async function createNamespace(core: k8s.CoreV1Api, prefix: string, labels: Record<string, string> = {}, serviceAccountTimeoutMs = 60_000): Promise<string> {
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name, labels: { 'kubefledged.io/test': 'true', ...labels } } } });
  await eventually(`serviceaccount default in ${name}`, async () => {
    await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
    return true;
  }, serviceAccountTimeoutMs);
  return name;
}

export async function deleteNamespace(core: k8s.CoreV1Api, name: string, wait = false): Promise<void> {
  try {
    await core.deleteNamespace({ name, body: { propagationPolicy: 'Background' } });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
  if (wait) {
    await eventually(`namespace ${name} gone`, async () => {
      try {
        await core.readNamespace({ name });
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    }, 120_000, 500);
  }
}

export function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}
