// bench/cluster.sh restart-apiserver on a private bench cluster (own folder and ports): kube-apiserver
// comes back, and etcd is compacted to its current revision and defragmented while it is down. The bench
// starts kube-apiserver again before every contestant, more often than its 5-minute compaction, and
// without this the history of 1,000 x 50 runs filled etcd's 4 GiB quota (docs/benchmark.md).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { ROOT } from '../../support/cluster.js';
import { privateClusterPorts } from '../../e2e/install/support/install-env.js';

const run = promisify(execFile);

describe('bench cluster: restart-apiserver compacts and defragments etcd', function () {
  this.timeout(240_000);
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kf-benchcl-')), 'c');
  let env: NodeJS.ProcessEnv = {};
  let etcd = '';

  const etcdPost = async (api: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${etcd}${api}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.json()) as Record<string, unknown>;
  };

  before(async () => {
    const ports = await privateClusterPorts();
    env = { ...process.env, ...ports, CLUSTER_DIR: dir };
    etcd = `http://127.0.0.1:${ports.ETCD_CLIENT_PORT}`;
    await run(path.join(ROOT, 'bench', 'cluster.sh'), ['up'], { env });
  });

  after(async () => {
    await run(path.join(ROOT, 'hack', 'cluster-down.sh'), [], { env }).catch(() => undefined);
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('an old revision is compacted away, the database shrinks, and kube-apiserver serves the latest state again', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(path.join(dir, 'kubeconfig'));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    // a history of 40 versions of 256 KB
    const name = 'bench-history';
    const data = (i: number) => ({ blob: `${i}`.padEnd(256 * 1024, 'x') });
    const first = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name }, data: data(0) } });
    const firstRevision = first.metadata!.resourceVersion!;
    for (let i = 1; i < 40; i++) await core.replaceNamespacedConfigMap({ name, namespace: 'default', body: { metadata: { name }, data: data(i) } });
    const key = Buffer.from(`/registry/configmaps/default/${name}`).toString('base64');
    const old = await etcdPost('/v3/kv/range', { key, revision: firstRevision });
    expect(old.kvs, 'etcd holds the first version before the restart').to.be.an('array').with.length(1);
    const before = Number((await etcdPost('/v3/maintenance/status', {})).dbSize);

    const restarted = await run(path.join(ROOT, 'bench', 'cluster.sh'), ['restart-apiserver'], { env });
    expect(restarted.stderr).to.match(/etcd compacted to revision \d+ and defragmented: \d+ -> \d+ MiB/);

    const gone = await etcdPost('/v3/kv/range', { key, revision: firstRevision });
    expect(JSON.stringify(gone)).to.contain('required revision has been compacted');
    const after = Number((await etcdPost('/v3/maintenance/status', {})).dbSize);
    expect(after, `etcd's database: ${before} bytes before, ${after} after`).to.be.below(before - 5 * 2 ** 20);
    const latest = await core.readNamespacedConfigMap({ name, namespace: 'default' });
    expect(latest.data?.blob?.startsWith('39x')).to.equal(true);
  });
});
