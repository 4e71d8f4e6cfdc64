// CPU seconds of the local control plane's processes (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kwok) over a phase, from their pid files (hack/cluster-lib.sh: <cluster dir>/pids) and
// /proc. The floor's figure is what the control plane itself takes to run the Jobs: on 2 cores it keeps
// both busy, so whatever CPU the controller (and the API server on its behalf) adds is time added.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sampleProc } from './proc-sampler.js';

export const CONTROL_PLANE = ['kube-apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;

export type CpuByComponent = Partial<Record<(typeof CONTROL_PLANE)[number], number>>;

/** The cluster directory of the audit log at <cluster dir>/logs/audit.log (bench/cluster.sh audit). */
export function clusterDirOfAuditLog(auditFile: string): string {
  return path.dirname(path.dirname(auditFile));
}

/** CPU seconds so far of each control-plane process that runs (a missing pid file or process is left out). */
export function controlPlaneCpu(clusterDir: string): CpuByComponent {
  const out: CpuByComponent = {};
  for (const c of CONTROL_PLANE) {
    let pid: number;
    try {
      pid = Number(fs.readFileSync(path.join(clusterDir, 'pids', `${c}.pid`), 'utf8').trim());
    } catch {
      continue;
    }
    const s = Number.isInteger(pid) && pid > 0 ? sampleProc(pid) : undefined;
    if (s) out[c] = s.cpuSeconds;
  }
  return out;
}

/** after - before, per component present in both. */
export function cpuDelta(before: CpuByComponent, after: CpuByComponent): CpuByComponent {
  const out: CpuByComponent = {};
  for (const c of CONTROL_PLANE) {
    const a = before[c];
    const b = after[c];
    if (a !== undefined && b !== undefined) out[c] = Math.max(0, b - a);
  }
  return out;
}

/** CPU seconds of every component together. */
function totalOf(d: CpuByComponent): number {
  return CONTROL_PLANE.reduce((s, c) => s + (d[c] ?? 0), 0);
}

/** "13.1 CPU s (1.87 cores over 7.0 s): kube-apiserver 8.2, kwok 1.9, ..." */
export function formatCpu(d: CpuByComponent, seconds: number): string {
  const parts = CONTROL_PLANE.filter((c) => d[c] !== undefined).map((c) => `${c} ${d[c]!.toFixed(1)}`);
  const total = totalOf(d);
  const cores = seconds > 0 ? ` (${(total / seconds).toFixed(2)} cores over ${seconds.toFixed(1)} s)` : '';
  return `${total.toFixed(1)} CPU s${cores}: ${parts.join(', ')}`;
}

export interface QuietOptions {
  /** length of one sample window */
  windowMs?: number;
  /** the control plane is quiet when it used at most this many cores in two windows in a row */
  maxCores?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  read?: (clusterDir: string) => CpuByComponent;
}

/**
 * Waits until the control plane is quiet: at most `maxCores` over two windows in a row. After the bench
 * grows its nodes, kube-controller-manager and kwok take them on for tens of seconds (0.5 of a core for
 * about 20 s after 500 nodes): a phase measured meanwhile would share the cores with that work. Every
 * contestant's phase starts from the same quiet cluster. Resolves with the seconds waited (at most
 * timeoutMs: the phase then starts anyway).
 */
export async function waitForQuietControlPlane(clusterDir: string, o: QuietOptions = {}): Promise<number> {
  const windowMs = o.windowMs ?? 2000;
  const maxCores = o.maxCores ?? 0.2;
  const timeoutMs = o.timeoutMs ?? 120_000;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const read = o.read ?? controlPlaneCpu;
  let waited = 0;
  let quiet = 0;
  let prev = read(clusterDir);
  while (quiet < 2 && waited < timeoutMs) {
    await sleep(windowMs);
    waited += windowMs;
    const now = read(clusterDir);
    quiet = totalOf(cpuDelta(prev, now)) <= maxCores * (windowMs / 1000) ? quiet + 1 : 0;
    prev = now;
  }
  return waited / 1000;
}
