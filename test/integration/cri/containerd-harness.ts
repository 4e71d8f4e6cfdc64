// Test helper: starts and stops the private containerd + registry of hack/containerd/, and runs the
// kubefledged-cri-client entrypoint as a child process (no shell).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CRI_CLIENT_ENTRY = path.join(REPO_ROOT, 'src/cmd/cri-client.ts');

export interface TestImage {
  reference: string;
  digest: string;
}

export interface CriEnv {
  dir: string;
  socketPath: string;
  endpoint: string;
  registry: string;
  snapshotter: string;
  images: Record<'hello-v1' | 'hello-v2' | 'bydigest' | 'short' | 'pause' | 'sleeper', TestImage>;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program without a shell; resolves with its exit code and output (never rejects on exit code). */
export function run(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: REPO_ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts containerd + registry in a fresh temp dir (hack/containerd/up.sh) and returns its env.json. */
export async function criUp(): Promise<CriEnv> {
  // short path: the containerd socket path must stay under the unix socket limit
  const dir = await mkdtemp('/tmp/kf-cri-it-');
  const res = await run(path.join(REPO_ROOT, 'hack/containerd/up.sh'), [dir], { timeoutMs: 280_000 });
  if (res.code !== 0) {
    await criDown(dir);
    throw new Error(`hack/containerd/up.sh failed (exit ${res.code}):\n${res.stderr}\n${res.stdout}`);
  }
  return JSON.parse(await readFile(path.join(dir, 'env.json'), 'utf8')) as CriEnv;
}

export async function criDown(dir: string): Promise<void> {
  const res = await run(path.join(REPO_ROOT, 'hack/containerd/down.sh'), [dir], { timeoutMs: 120_000 });
  if (res.code !== 0) throw new Error(`hack/containerd/down.sh failed (exit ${res.code}):\n${res.stderr}`);
}

/** The CLI entrypoint run through tsx, with a clean environment (no inherited CRI endpoints). */
export function criClient(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.CONTAINER_RUNTIME_ENDPOINT;
  delete base.IMAGE_SERVICE_ENDPOINT;
  delete base.KUBEFLEDGED_TERMINATION_LOG;
  return run(process.execPath, ['--import', 'tsx', CRI_CLIENT_ENTRY, ...args], { env: { ...base, ...env }, timeoutMs: 120_000 });
}
