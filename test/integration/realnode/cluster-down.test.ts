// make cluster-down after make cluster-up REAL_NODES=1, on a private cluster (own folder and free
// ports) with a container running on the real node: nothing is left behind: no process (kubelet,
// containerd, shims, containers, registry), no mount, no bridge, no network namespace, no cgroup, no
// iptables rule, no container log link, no folder.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT, eventually } from '../../support/cluster.js';
import { pushBusyboxImage, realNode, type RealNodeEnv } from '../../e2e/realnode/support/real-node.js';
import { privateClusterPorts } from '../../e2e/install/support/install-env.js';

const run = promisify(execFile);

/** pid -> its /proc/<pid>/<file> text, for every process still readable. */
function procFiles(file: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      out.set(Number(d), fs.readFileSync(`/proc/${d}/${file}`, 'utf8'));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
function netnsOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}
async function iptablesSave(): Promise<string> {
  return (await run('iptables-save', [])).stdout;
}

describe('real node: make cluster-down leaves nothing behind', function () {
  this.timeout(300_000);
  const base = fs.mkdtempSync('/tmp/kf-rn-');
  const dir = path.join(base, 'c');
  let env: NodeJS.ProcessEnv = {};
  const down = () => run(path.join(ROOT, 'hack', 'cluster-down.sh'), [], { env });

  after(async () => {
    await down().catch(() => undefined);
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('removes processes, mounts, bridge, network namespaces, cgroups, iptables rules and log links', async () => {
    const ports = await privateClusterPorts();
    const apiPort = ports.APISERVER_PORT;
    // the kubelet's ports: free ones picked by hack/realnode/up.sh (REALNODE_KUBELET_PORT_BASE unset)
    env = { ...process.env, ...ports, CLUSTER_DIR: dir, NODES: '0', REAL_NODES: '1' };
    delete env.REALNODE_KUBELET_PORT_BASE;
    delete env.KUBECONFIG;
    await run(path.join(ROOT, 'hack', 'cluster-up.sh'), [], { env, maxBuffer: 16 << 20 });
    const kubeconfig = path.join(dir, 'kubeconfig');
    const rn = JSON.parse(fs.readFileSync(path.join(dir, 'realnode', 'env.json'), 'utf8')) as RealNodeEnv;
    const node = realNode(rn);
    const image = await pushBusyboxImage(rn.registry, 'kf-test/sleeper:1');
    await run('kubectl', ['--kubeconfig', kubeconfig, 'run', 'sleeper', `--image=${image}`, '--restart=Never',
      `--overrides=${JSON.stringify({ spec: { nodeName: node.name } })}`, '--command', '--', '/bin/busybox', 'sleep', '3600']);
    await eventually('pod sleeper Running', async () => {
      const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'pod', 'sleeper', '-o', 'jsonpath={.status.phase}']);
      return stdout === 'Running';
    }, 120_000, 500);

    // what exists while the node runs a container
    const cgroupMark = `/kfr-${apiPort}-0/`;
    const podPids = [...procFiles('cgroup')].filter(([, cg]) => cg.includes(cgroupMark)).map(([pid]) => pid);
    expect(podPids.length, 'processes in the node\'s cgroup root (pause + sleeper)').to.be.greaterThan(1);
    const hostNetns = netnsOf(process.pid);
    const podNetns = new Set(podPids.map(netnsOf).filter((n): n is string => n !== undefined && n !== hostNetns));
    expect(podNetns.size, 'a network namespace of the pod').to.be.greaterThan(0);
    const mountsBefore = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1]?.startsWith(`${dir}/`));
    expect(mountsBefore.some((l) => l.startsWith('nsfs ')), 'the pod\'s netns mount under the cluster folder').to.equal(true);
    expect(mountsBefore.some((l) => l.startsWith('overlay ')), 'the container\'s rootfs').to.equal(true);
    expect((await run('ip', ['-o', 'link', 'show', node.bridge])).stdout).to.contain(node.bridge);
    expect((await run('ip', ['-o', 'link', 'show', 'master', node.bridge])).stdout, 'the pod\'s veth on the bridge').to.contain('veth');
    expect(await iptablesSave()).to.contain(`KFR-${apiPort}`);
    expect(fs.readdirSync('/sys/fs/cgroup/memory')).to.include(`kfr-${apiPort}-0`);
    const links = () => fs.readdirSync('/var/log/containers').filter((l) => {
      try { return fs.readlinkSync(path.join('/var/log/containers', l)).startsWith(`${dir}/`); } catch { return false; }
    });
    expect(links().length, 'container log links').to.be.greaterThan(0);
    const pidFiles = fs.readdirSync(path.join(dir, 'pids')).map((f) => Number(fs.readFileSync(path.join(dir, 'pids', f), 'utf8')));

    await down();

    expect(fs.existsSync(dir), 'cluster folder').to.equal(false);
    const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    for (const p of [...pidFiles, ...podPids]) expect(alive(p), `pid ${p}`).to.equal(false);
    const left = [...procFiles('cmdline')].filter(([, c]) => c.includes(dir)).map(([pid, c]) => `${pid}: ${c.replace(/\0/g, ' ')}`);
    expect(left, 'processes naming the cluster folder (containerd, shims, kubelet)').to.deep.equal([]);
    expect([...procFiles('cgroup')].filter(([, cg]) => cg.includes(cgroupMark)).map(([p]) => p), 'processes in the node\'s cgroups').to.deep.equal([]);
    const nsLeft = [...procFiles('stat')].map(([pid]) => netnsOf(pid)).filter((n) => n !== undefined && podNetns.has(n));
    expect(nsLeft, 'processes in the pod\'s network namespace').to.deep.equal([]);
    const mountsAfter = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(dir));
    expect(mountsAfter, 'mounts').to.deep.equal([]);
    const linkShow = await run('ip', ['-o', 'link', 'show', node.bridge]).then((r) => r.stdout, (e: { stderr: string }) => e.stderr);
    expect(linkShow, 'bridge').to.match(/does not exist/);
    expect(await iptablesSave(), 'iptables').not.to.contain(`KFR-${apiPort}`);
    for (const h of fs.readdirSync('/sys/fs/cgroup')) {
      expect(fs.existsSync(path.join('/sys/fs/cgroup', h, `kfr-${apiPort}-0`)), `cgroup ${h}/kfr-${apiPort}-0`).to.equal(false);
    }
    expect(links(), 'container log links').to.deep.equal([]);
    for (const p of [...Object.values(ports), rn.registry.split(':')[1], String(node.kubeletPort)]) {
      const inUse = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: Number(p) }, () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      });
      expect(inUse, `port ${p}`).to.equal(false);
    }
  });
});
