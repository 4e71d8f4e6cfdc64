// The controller under test: a child process under the chart's RBAC (a ServiceAccount token bound to
// deploy/'s ClusterRole), with its /readyz on a free loopback port, its /proc sampled for RSS and CPU, and
// its requests identified in the audit log by its ServiceAccount. It runs the compiled JavaScript of
// dist/ (`make build`), as the image does; `from: 'src'` runs the TypeScript through tsx instead
// (test/support/controller-process.ts), whose transpiler adds its own memory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import type * as k8s from '@kubernetes/client-node';
import { ControllerProcess, serviceAccountKubeconfig } from '../../test/support/controller-process.js';
import { ROOT } from '../../test/support/cluster.js';
import { freePort } from '../../test/integration/webhook/webhook-process.js';
import { ProcSampler, type ProcSample } from './proc-sampler.js';
import { sleep } from './pool.js';
import { CONTROLLER_ENV, CONTROLLER_NODE_ARGS } from '../../hack/bundle.mjs';

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** A ServiceAccount of the chart's ClusterRole in `namespace`, and the audit user it makes requests as. */
export interface BenchIdentity { kubeconfig: string; user: string; cleanup: () => Promise<void> }

export async function chartIdentity(kc: k8s.KubeConfig, namespace: string, sa = 'kubefledged-controller'): Promise<BenchIdentity> {
  const s = await serviceAccountKubeconfig(kc, namespace, sa);
  return { kubeconfig: s.file, user: `system:serviceaccount:${namespace}:${sa}`, cleanup: s.cleanup };
}

export type ControllerSource = 'dist' | 'modules' | 'src';

/** The newest modification time under `dir`. */
function newest(dir: string): number {
  return fs.readdirSync(dir, { withFileTypes: true })
    .reduce((m, e) => Math.max(m, e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs), 0);
}

/**
 * The compiled controller, refusing one older than the sources (the bench would measure stale code):
 * 'dist' is what the image starts (dist/bundle/controller.js, hack/bundle.mjs), 'modules' the one file per
 * module of tsc (dist/cmd/controller.js), kept to measure what the bundle changes.
 */
export function compiledController(from: Exclude<ControllerSource, 'src'> = 'dist'): string {
  const entry = path.join(ROOT, 'dist', ...(from === 'dist' ? ['bundle', 'controller.js'] : ['cmd', 'controller.js']));
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run "make build" (make bench does), or pass --controller-from src`);
  if (newest(path.join(ROOT, 'src')) > fs.statSync(entry).mtimeMs) throw new Error(`${entry} is older than src/: run "make build" (make bench does)`);
  return entry;
}

/** The V8 flags the image starts the controller with (written by hack/bundle.mjs beside the bundle). */
export function shippedNodeOptions(): string {
  return fs.readFileSync(path.join(ROOT, 'dist', 'bundle', 'controller.node-options'), 'utf8').trim();
}

/**
 * What the launcher (dist/bundle/kubefledged-controller) adds besides NODE_OPTIONS, as it does: its
 * environment (a variable already set in `env` is kept; set empty, e.g. `MALLOC_MMAP_THRESHOLD_=`, the
 * controller runs without it, to measure what it buys) and node's own flags (replaced by
 * KUBEFLEDGED_CONTROLLER_NODE_ARGS when set).
 */
export function shippedLaunch(env: NodeJS.ProcessEnv): { env: Record<string, string | undefined>; nodeArgs: string[] } {
  const own = Object.fromEntries(Object.entries(CONTROLLER_ENV).filter(([k]) => !env[k]).map(([k, v]) => [k, env[k] === '' ? undefined : v]));
  const override = env.KUBEFLEDGED_CONTROLLER_NODE_ARGS;
  return { env: own, nodeArgs: override !== undefined ? override.split(' ').filter(Boolean) : [...CONTROLLER_NODE_ARGS] };
}

export class BenchController {
  private proc?: ControllerProcess;
  sampler?: ProcSampler;
  startCpu?: ProcSample;

  constructor(private readonly id: BenchIdentity, private readonly namespace: string, private readonly args: string[], private readonly from: ControllerSource = 'dist',
    private readonly nodeOptions = '') {}

  /** Starts the controller and resolves when /readyz answers 200 (its caches are synced). */
  async start(timeoutMs = 120_000): Promise<void> {
    const port = await freePort();
    const args = ['--leader-elect=false', '--stderrthreshold=ERROR', ...this.args, `--metrics-bind-address=127.0.0.1:${port}`];
    const env: Record<string, string | undefined> = { KUBEFLEDGED_NAMESPACE: this.namespace };
    // the shipped bundle runs with the V8 flags of its launcher (dist/bundle/kubefledged-controller); extra ones come after and win
    const nodeOptions = [this.from === 'dist' ? shippedNodeOptions() : '', process.env.NODE_OPTIONS ?? '', this.nodeOptions].filter(Boolean).join(' ');
    if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
    if (this.from === 'dist') {
      // and the launcher's environment and node flags (ControllerProcess reads its node flags from
      // KF_CONTROLLER_NODE_ARGS when it starts: the shipped ones first, a run's own after them)
      const launch = shippedLaunch(process.env);
      // an undefined value is left out of the child's environment (spawn skips it; ControllerProcess puts `env` last)
      Object.assign(env, launch.env);
      const saved = process.env.KF_CONTROLLER_NODE_ARGS;
      process.env.KF_CONTROLLER_NODE_ARGS = [...launch.nodeArgs, saved ?? ''].join(' ');
      try {
        this.proc = new ControllerProcess(this.id.kubeconfig, args, env as Record<string, string>, compiledController(this.from)).start();
      } finally {
        if (saved === undefined) delete process.env.KF_CONTROLLER_NODE_ARGS;
        else process.env.KF_CONTROLLER_NODE_ARGS = saved;
      }
    } else {
      this.proc = (this.from === 'src' ? new ControllerProcess(this.id.kubeconfig, args, env as Record<string, string>) : new ControllerProcess(this.id.kubeconfig, args, env as Record<string, string>, compiledController(this.from))).start();
    }
    const deadline = Date.now() + timeoutMs;
    while ((await get(`http://127.0.0.1:${port}/readyz`)) !== 200) {
      if (!this.proc.running()) throw new Error(`controller exited during start-up:\n${this.proc.dump()}`);
      if (Date.now() > deadline) throw new Error(`controller not ready within ${timeoutMs} ms:\n${this.proc.dump()}`);
      await sleep(200);
    }
    this.sampler = new ProcSampler(this.proc.pid!).start();
    this.startCpu = this.sampler.now();
  }

  running(): boolean {
    return this.proc?.running() ?? false;
  }

  /** CPU seconds used since /readyz (start-up, including tsx's transpiling, is not counted). */
  cpuSinceReady(): number {
    const now = this.sampler?.now();
    return now && this.startCpu ? now.cpuSeconds - this.startCpu.cpuSeconds : 0;
  }

  /** RSS when /readyz first answered (the baseline before any cache). */
  readyRssBytes(): number {
    return this.startCpu?.rssBytes ?? 0;
  }

  /**
   * Writes a heap snapshot of the controller (it runs with --heapsnapshot-signal=SIGUSR2) into `dir`;
   * resolves with its path once the file is complete.
   */
  async heapSnapshot(dir: string, timeoutMs = 120_000): Promise<string> {
    const pid = this.proc?.pid;
    if (!pid) throw new Error('controller not running');
    const before = new Set(fs.readdirSync(dir));
    process.kill(pid, 'SIGUSR2');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await sleep(500);
      const f = fs.readdirSync(dir).find((x) => !before.has(x) && x.endsWith('.heapsnapshot') && x.includes(`.${pid}.`));
      if (f) {
        // V8 writes the file in pieces: it is complete when it parses
        const file = path.join(dir, f);
        for (;;) {
          try {
            JSON.parse(fs.readFileSync(file, 'utf8'));
            return file;
          } catch (err) {
            if (Date.now() > deadline) throw new Error(`heap snapshot ${file} still incomplete after ${timeoutMs} ms`, { cause: err });
            await sleep(2000);
          }
        }
      }
      if (Date.now() > deadline) throw new Error(`no heap snapshot of pid ${pid} in ${dir} within ${timeoutMs} ms`);
    }
  }

  cpuNow(): number {
    return this.sampler?.now()?.cpuSeconds ?? 0;
  }

  peakRssBytes(): number {
    this.sampler?.now();
    return this.sampler?.peakRss ?? 0;
  }

  logs(): string {
    return this.proc?.dump() ?? '';
  }

  /** Writes the whole log of the controller to a file and returns its path. */
  saveLogs(file: string): string {
    fs.writeFileSync(file, `${(this.proc?.logs ?? []).join('\n')}\n`);
    return file;
  }

  async stop(): Promise<void> {
    this.sampler?.stop();
    await this.proc?.stop();
  }
}
