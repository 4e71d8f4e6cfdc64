// A real Prometheus (Debian's package, installed by hack/prometheus/install.sh) on 127.0.0.1 with a
// temporary configuration and data directory, and a small client of its HTTP API.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { stringify } from 'yaml';
import { ROOT, eventually } from '../../support/cluster.js';
import { freePort } from '../webhook/webhook-process.js';

/**
 * Installs Prometheus when missing (as root, with the project's script). Returns why the test cannot
 * run (not root and Prometheus missing), or undefined when prometheus and promtool are there.
 */
export function prometheusUnavailable(): string | undefined {
  const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (have('prometheus') && have('promtool')) return undefined;
  if (process.getuid?.() !== 0) return 'prometheus/promtool are not installed and this is not root: run hack/prometheus/install.sh as root';
  execFileSync(path.join(ROOT, 'hack', 'prometheus', 'install.sh'), { stdio: 'inherit' });
  return undefined;
}

export interface PrometheusOptions {
  /** "host:port" targets of the one scrape job, with extra target labels. */
  targets: string[];
  jobName: string;
  targetLabels?: Record<string, string>;
  /** Rule groups (the `spec.groups` of a PrometheusRule), loaded as a rule file. */
  ruleGroups?: unknown[];
  intervalSeconds?: number;
}

export interface QueryResult {
  resultType: string;
  result: { metric: Record<string, string>; value?: [number, string]; values?: unknown[] }[];
}

export class PrometheusProcess {
  readonly logs: string[] = [];
  readonly dir: string;
  readonly rulesFile: string;
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  url = '';

  constructor(private readonly opts: PrometheusOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-prometheus-'));
    this.rulesFile = path.join(this.dir, 'rules.yaml');
  }

  async start(): Promise<this> {
    const interval = `${this.opts.intervalSeconds ?? 1}s`;
    fs.writeFileSync(this.rulesFile, stringify({ groups: this.opts.ruleGroups ?? [] }));
    const config = {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: [this.rulesFile],
      scrape_configs: [{ job_name: this.opts.jobName, static_configs: [{ targets: this.opts.targets, labels: this.opts.targetLabels ?? {} }] }],
    };
    const configFile = path.join(this.dir, 'prometheus.yml');
    fs.writeFileSync(configFile, stringify(config));
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn('prometheus', [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(this.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (b: Buffer) => { for (const l of b.toString().split('\n')) if (l) this.logs.push(l); };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    let spawnError: Error | undefined;
    this.exited = new Promise((resolve) => {
      this.child!.on('exit', (code) => resolve(code));
      this.child!.on('error', (err) => { spawnError = err; resolve(null); });
    });
    await eventually('Prometheus ready', async () => {
      if (spawnError) throw new Error(`prometheus did not start: ${spawnError.message}`);
      if (this.child!.exitCode !== null) throw new Error(`prometheus exited ${this.child!.exitCode}: ${this.dump()}`);
      return (await fetch(`${this.url}/-/ready`)).ok;
    }, 30_000, 200);
    return this;
  }

  /** GET /api/v1/<endpoint>; throws on a non-success answer. */
  async api<T>(endpoint: string, params: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${this.url}/api/v1/${endpoint}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== 'success') throw new Error(`${endpoint} ${JSON.stringify(params)}: ${body.errorType}: ${body.error}`);
    return body.data;
  }

  /** An instant query, evaluated now. */
  query(expr: string): Promise<QueryResult> {
    return this.api<QueryResult>('query', { query: expr });
  }

  /** SIGTERM (SIGKILL after 10 s), then the temporary directory is removed. */
  async stop(): Promise<void> {
    if (this.child?.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  dump(): string {
    return this.logs.slice(-40).join('\n');
  }
}
