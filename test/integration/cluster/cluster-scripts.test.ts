// hack/cluster-up.sh and hack/cluster-down.sh on a second, private cluster (own folder and ports):
// reuse of a healthy cluster, replacement of a dead one, and nothing left behind by cluster-down.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT } from '../../support/cluster.js';
import { privateClusterPorts } from '../../e2e/install/support/install-env.js';

const run = promisify(execFile);
// free ports picked at start: other local clusters (make test's second shard, other checkouts) may run here
let ports: Record<string, string> = {};

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(false); });
    s.on('error', () => resolve(true));
  });
}
function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe('local cluster scripts (make cluster-up / cluster-down)', function () {
  this.timeout(240_000);
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kf-cluster2-')), 'c');
  let env: NodeJS.ProcessEnv = {};
  const up = () => run(path.join(ROOT, 'hack', 'cluster-up.sh'), [], { env });
  const down = () => run(path.join(ROOT, 'hack', 'cluster-down.sh'), [], { env });
  const pids = () => fs.readdirSync(path.join(dir, 'pids')).map((f) => Number(fs.readFileSync(path.join(dir, 'pids', f), 'utf8')));

  before(async () => {
    ports = await privateClusterPorts();
    env = { ...process.env, ...ports, CLUSTER_DIR: dir, NODES: '1' };
  });

  after(async () => {
    await down().catch(() => undefined);
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('starts, reuses a healthy cluster, replaces a dead one, and cluster-down leaves no process, port or folder', async () => {
    const first = await up();
    expect(first.stderr).to.match(/up in \d+s/);
    const firstPids = pids();
    expect(firstPids).to.have.length(5);
    const again = await up();
    expect(again.stderr).to.contain('reusing the healthy cluster');
    expect(pids()).to.deep.equal(firstPids);
    // kill the API server: the next cluster-up replaces the whole cluster
    const apiserverPid = Number(fs.readFileSync(path.join(dir, 'pids', 'kube-apiserver.pid'), 'utf8'));
    process.kill(apiserverPid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    const replaced = await up();
    expect(replaced.stderr).to.contain('replacing a dead or partial cluster');
    const newPids = pids();
    expect(newPids.some((p) => firstPids.includes(p))).to.equal(false);
    for (const p of firstPids) expect(alive(p), `old pid ${p}`).to.equal(false);
    const status = await run(path.join(ROOT, 'hack', 'cluster-up.sh'), ['--status'], { env });
    expect(status.stdout).to.contain('local cluster is up');
    await down();
    for (const p of newPids) expect(alive(p), `pid ${p}`).to.equal(false);
    expect(fs.existsSync(dir)).to.equal(false);
    for (const p of Object.values(ports)) expect(await portFree(Number(p)), `port ${p}`).to.equal(true);
  });
});
