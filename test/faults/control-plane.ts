// Fault injection on the local control plane started by hack/cluster-up.sh: stop a component
// (kube-apiserver, etcd) and start it again with the same command line, environment and log file.
// The pid files under $CLUSTER_DIR/pids are updated, so `make cluster-down` still stops it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { ROOT } from '../support/cluster.js';

const clusterDir = () => process.env.CLUSTER_DIR ?? path.join(ROOT, '.cluster');

function pidOf(component: string): number {
  const file = path.join(clusterDir(), 'pids', `${component}.pid`);
  const pid = Number(fs.readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid in ${file}`);
  return pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops `component` (SIGTERM, then SIGKILL after 3 s: kube-apiserver otherwise holds its watches open
 * for most of a 10 s grace, and etcd's WAL is crash-safe, so a kill is a fault worth testing too), waits
 * downMs, starts it again as it was.
 * Resolves with how long the stop took (ms); the caller waits for the API to answer.
 */
export async function restartComponent(component: 'kube-apiserver' | 'etcd', downMs: number): Promise<number> {
  const pid = pidOf(component);
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  const env = Object.fromEntries(fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((e) => e.includes('=')).map((e) => {
    const i = e.indexOf('=');
    return [e.slice(0, i), e.slice(i + 1)];
  }));
  const stopping = Date.now();
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 3_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
  const stopMs = Date.now() - stopping;
  await new Promise((r) => setTimeout(r, downMs));
  const log = fs.openSync(path.join(clusterDir(), 'logs', `${component}.log`), 'a');
  const child = spawn(argv[0]!, argv.slice(1), { env, detached: true, stdio: ['ignore', log, log] });
  child.unref();
  fs.closeSync(log);
  fs.writeFileSync(path.join(clusterDir(), 'pids', `${component}.pid`), `${child.pid}\n`);
  return stopMs;
}
