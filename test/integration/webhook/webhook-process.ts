// Runs the real kubefledged-webhook-server entrypoint (src/cmd/webhook-server.ts through tsx) as a
// child process on 127.0.0.1 for integration tests and the latency bench.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { request } from 'node:https';
import * as path from 'node:path';
import { ROOT, kubeconfigPath } from '../../support/cluster.js';

export interface WebhookProcess {
  port: number;
  child: ChildProcess;
  /** stderr/stdout so far (structured JSON log lines). */
  output(): string;
  stop(): Promise<number | null>;
}

/** A port that was free a moment ago (bound to 0, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startWebhookProcess(args: string[], port?: number): Promise<WebhookProcess> {
  const p = port ?? (await freePort());
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/cmd/webhook-server.ts'), `--port=${p}`, '--host=127.0.0.1', `--kubeconfig=${kubeconfigPath()}`, '--stderrthreshold=INFO', ...args],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    port: p,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** GET https://127.0.0.1:<port><path> trusting `ca`; resolves with status and body. */
export function httpsGet(port: number, urlPath: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, method: 'GET', ca, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export { servedFingerprint } from '../../unit/webhook/tls-probe.js';
