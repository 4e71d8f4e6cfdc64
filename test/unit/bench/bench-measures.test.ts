import { expect } from 'chai';
import { TokenBucket } from '../../../bench/support/token-bucket.js';
import { countRequests, parseAuditLines } from '../../../bench/support/audit-log.js';
import { deltaCounts, parseRequestTotals, total } from '../../../bench/support/apiserver-metrics.js';
import { parseStatCpuSeconds, parseStatus } from '../../../bench/support/proc-sampler.js';
import { parseBenchArgs, DEFAULTS } from '../../../bench/support/bench-args.js';

/** A fake clock: sleep advances it, so the bucket's waits can be read off exactly. */
function clock() {
  let t = 0;
  const waits: number[] = [];
  return { now: () => t, sleep: async (ms: number) => { waits.push(ms); t += ms; }, waits, get t() { return t; } };
}

describe('bench: token bucket (client-go / workqueue limiter)', () => {
  it('lets a burst through at once, then one request per 1/qps seconds', async () => {
    const c = clock();
    const b = new TokenBucket(5, 10, c.now, c.sleep);
    const at: number[] = [];
    for (let i = 0; i < 15; i++) {
      await b.take();
      at.push(c.t);
    }
    expect(at.slice(0, 10)).to.deep.equal(Array(10).fill(0));
    expect(at.slice(10)).to.deep.equal([200, 400, 600, 800, 1000]);
  });

  it('reserve() fixes the delay at add time: 10/s after a burst of 100', () => {
    const c = clock();
    const b = new TokenBucket(10, 100, c.now, c.sleep);
    const delays = Array.from({ length: 110 }, () => b.reserve());
    expect(delays.slice(0, 100).every((d) => d === 0)).to.equal(true);
    expect(delays[100]).to.equal(100);
    expect(delays[109]).to.equal(1000);
  });

  it('refuses a rate or burst that cannot work, naming it', () => {
    expect(() => new TokenBucket(0, 10)).to.throw(/qps must be > 0/);
    expect(() => new TokenBucket(5, 0)).to.throw(/burst must be >= 1/);
  });
});

describe('bench: audit log', () => {
  const ev = (id: string, stage: string, verb: string, resource: string | undefined, code: number | undefined, user = 'system:serviceaccount:ns:ctl', sub?: string) =>
    JSON.stringify({ kind: 'Event', auditID: id, stage, verb, user: { username: user }, userAgent: 'node', requestReceivedTimestamp: '2026-12-01T09:00:00.123456Z',
      objectRef: resource ? { resource, subresource: sub } : undefined, responseStatus: code === undefined ? undefined : { code } });

  it('counts a request once per auditID with the code of its last stage, resource/subresource kept apart', () => {
    const text = [
      ev('a', 'ResponseStarted', 'watch', 'pods', 200),
      ev('a', 'ResponseComplete', 'watch', 'pods', 200),
      ev('b', 'ResponseComplete', 'delete', 'jobs', 404),
      ev('c', 'ResponseComplete', 'patch', 'imagecaches', 200, undefined, 'status'),
      ev('d', 'ResponseComplete', 'create', 'jobs', 409, 'someone-else'),
      '{"cut line',
      '',
    ].join('\n');
    const reqs = parseAuditLines(text);
    expect(reqs).to.have.length(4);
    expect(reqs.find((r) => r.auditID === 'b')).to.include({ verb: 'delete', resource: 'jobs', code: 404, user: 'system:serviceaccount:ns:ctl' });
    expect(reqs.find((r) => r.auditID === 'c')!.resource).to.equal('imagecaches/status');
    expect(reqs[0]!.at).to.equal(Date.parse('2026-12-01T09:00:00.123Z'));
    expect(countRequests(reqs.filter((r) => r.user.endsWith(':ctl')))).to.deep.equal([['delete jobs', 1], ['patch imagecaches/status', 1], ['watch pods', 1]]);
  });
});

describe('bench: apiserver_request_total', () => {
  const metrics = (n: number) => [
    '# HELP apiserver_request_total [STABLE] Counter of apiserver requests',
    '# TYPE apiserver_request_total counter',
    `apiserver_request_total{code="201",component="apiserver",dry_run="",group="batch",resource="jobs",scope="resource",subresource="",verb="POST",version="v1"} ${n}`,
    `apiserver_request_total{code="409",component="apiserver",dry_run="",group="batch",resource="jobs",scope="resource",subresource="",verb="POST",version="v1"} 2`,
    'apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="WATCH",version="v1"} 7',
    'apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="status",verb="PATCH",version="v1"} 3e+00',
    'apiserver_request_duration_seconds_bucket{verb="POST",le="1"} 99',
  ].join('\n');

  it('sums codes per verb and resource[/subresource], leaves out watches, and takes deltas', () => {
    const before = parseRequestTotals(metrics(10));
    expect([...before.entries()]).to.deep.equal([['POST jobs', 12], ['PATCH pods/status', 3]]);
    const d = deltaCounts(before, parseRequestTotals(metrics(110)));
    expect([...d.entries()]).to.deep.equal([['POST jobs', 100]]);
    expect(total(d)).to.equal(100);
  });
});

describe('bench: /proc parsing', () => {
  it('reads VmRSS and VmHWM in bytes, and utime+stime in seconds even with a command name holding ") "', () => {
    expect(parseStatus('Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n')).to.deep.equal({ rssBytes: 100 * 1024 * 1024, hwmBytes: 200 * 1024 * 1024 });
    const stat = '4242 (node (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 123 0 0';
    expect(parseStatCpuSeconds(stat)).to.equal(3);
  });
});

describe('bench: command line', () => {
  it('has the full matrix by default and parses lists and keys', () => {
    expect(parseBenchArgs([])).to.deep.include({ nodes: [100, 500, 1000], images: [10, 50], caches: [1, 10], floor: true });
    const a = parseBenchArgs(['--nodes', '100', '--images=10', '--caches', '1,10', '--original=', '--idle-at', '100x10x1', '--no-floor', '--controller-arg=-v=4']);
    expect(a).to.deep.include({ nodes: [100], images: [10], caches: [1, 10], original: [], idleAt: ['100x10x1'], floor: false, controllerArgs: ['-v=4'] });
    expect(DEFAULTS.controllerArgs).to.deep.equal([]);
    // the shipped bundle by default; node/V8 flags of the controller process repeatable, none by default
    expect(DEFAULTS).to.deep.include({ controllerFrom: 'dist', controllerNodeOptions: [] });
    const b = parseBenchArgs(['--controller-from', 'modules', '--controller-node-option=--max-semi-space-size=16', '--controller-node-option', '--max-old-space-size=256']);
    expect(b).to.deep.include({ controllerFrom: 'modules', controllerNodeOptions: ['--max-semi-space-size=16', '--max-old-space-size=256'] });
    expect(DEFAULTS.controllerNodeOptions).to.deep.equal([]); // not shared with a parsed copy
    // earlier runs' figures of the original's strategy: a list, repeatable
    expect(parseBenchArgs(['--original-from', 'a.json,b.json', '--original-from=c.json']).originalFrom).to.deep.equal(['a.json', 'b.json', 'c.json']);
    expect(DEFAULTS.originalFrom).to.deep.equal([]);
    // each contestant starts on a kube-apiserver started again, unless told not to
    expect(DEFAULTS.freshApiserver).to.equal(true);
    expect(parseBenchArgs(['--no-fresh-apiserver']).freshApiserver).to.equal(false);
  });

  it('refuses bad values naming the flag and the fix', () => {
    expect(() => parseBenchArgs(['--nodes', '100,x'])).to.throw(/--nodes: "100,x" is not a comma-separated list of integers >= 1 \(e\.g\. --nodes 100,500\)/);
    expect(() => parseBenchArgs(['--original', '100'])).to.throw(/--original: "100" is not NODESxIMAGES \(e\.g\. 100x10\)/);
    expect(() => parseBenchArgs(['--caches', '3'])).to.throw(/--caches: 1 or 10/);
    expect(() => parseBenchArgs(['--nodes'])).to.throw(/--nodes needs a value/);
    expect(() => parseBenchArgs(['--fast'])).to.throw(/unknown flag --fast: use --nodes/);
    expect(() => parseBenchArgs(['--controller-from', 'image'])).to.throw(/--controller-from: "image" is none of dist \(the shipped bundle, make build\), modules .* or src/);
  });
});

describe('bench: scenario list', () => {
  it('is the matrix by default, or the explicit keys, always by ascending nodes', async () => {
    const { scenarioList } = await import('../../../bench/support/bench-args.js');
    expect(scenarioList(parseBenchArgs(['--nodes', '500,100', '--images', '10', '--caches', '1']))).to.deep.equal([
      { nodes: 100, images: 10, caches: 1 }, { nodes: 500, images: 10, caches: 1 }]);
    expect(scenarioList(parseBenchArgs(['--scenarios', '1000x10x10,100x50x1']))).to.deep.equal([
      { nodes: 100, images: 50, caches: 1 }, { nodes: 1000, images: 10, caches: 10 }]);
    expect(() => parseBenchArgs(['--scenarios', '100x10x3'])).to.throw(/--caches: 1 or 10/);
  });
});

describe('bench: heap snapshot summary', () => {
  it('sums self sizes by constructor (objects, closures) or by type, largest first', async () => {
    const { summariseHeap, formatHeap } = await import('../../../bench/support/heap-summary.js');
    const snap = {
      snapshot: { meta: { node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'], node_types: [['hidden', 'array', 'string', 'object', 'code', 'closure'], 'string'] } },
      // type, name, id, self_size, edge_count
      nodes: [3, 0, 1, 100, 0, 3, 0, 2, 50, 0, 2, 1, 3, 400, 0, 5, 2, 4, 30, 0],
      strings: ['V1Node', 'some text', 'handler'],
    };
    const s = summariseHeap(snap);
    expect(s.totalBytes).to.equal(580);
    expect(s.rows).to.deep.equal([
      { kind: '(string)', count: 1, selfBytes: 400 },
      { kind: 'V1Node', count: 2, selfBytes: 150 },
      { kind: 'handler()', count: 1, selfBytes: 30 },
    ]);
    expect(formatHeap(s)).to.match(/^heap 0\.0 MiB/);
  });
});

describe('bench: the control plane\'s CPU per phase', () => {
  it('reads each component\'s pid file and /proc, gives the deltas and a readable line', async () => {
    const { controlPlaneCpu, cpuDelta, formatCpu, clusterDirOfAuditLog } = await import('../../../bench/support/control-plane-cpu.js');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kfb-cp-'));
    try {
      fs.mkdirSync(path.join(dir, 'pids'));
      fs.writeFileSync(path.join(dir, 'pids', 'kube-apiserver.pid'), `${process.pid}\n`); // this process stands in
      fs.writeFileSync(path.join(dir, 'pids', 'etcd.pid'), '999999999\n'); // gone: left out
      const a = controlPlaneCpu(dir);
      expect(Object.keys(a)).to.deep.equal(['kube-apiserver']);
      const until = Date.now() + 30;
      while (Date.now() < until) { /* burn a little CPU */ }
      const d = cpuDelta(a, controlPlaneCpu(dir));
      expect(d['kube-apiserver']).to.be.at.least(0);
      expect(formatCpu({ 'kube-apiserver': 8.2, kwok: 1.9 }, 5)).to.equal('10.1 CPU s (2.02 cores over 5.0 s): kube-apiserver 8.2, kwok 1.9');
      expect(clusterDirOfAuditLog('/x/.cluster/logs/audit.log')).to.equal('/x/.cluster');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bench: waiting for a quiet control plane', () => {
  it('waits until two windows in a row stay under the limit; gives up at the timeout', async () => {
    const { waitForQuietControlPlane } = await import('../../../bench/support/control-plane-cpu.js');
    // cumulative kube-apiserver CPU seconds at each read: busy (1 core) for 3 windows, then quiet
    const busy = [0, 2, 4, 6, 6.1, 6.2, 6.3];
    let i = 0;
    const waited = await waitForQuietControlPlane('/x', { windowMs: 2000, maxCores: 0.2, sleep: async () => {}, read: () => ({ 'kube-apiserver': busy[Math.min(i++, busy.length - 1)]! }) });
    expect(waited).to.equal(10); // 3 busy windows, then 2 quiet ones
    let t = 0;
    const never = await waitForQuietControlPlane('/x', { windowMs: 2000, timeoutMs: 6000, sleep: async () => {}, read: () => ({ 'kube-apiserver': (t += 2) }) });
    expect(never).to.equal(6);
  });
});
