// The cluster-scale bench (issue 12): this project's controller against the floor (the same Jobs created
// directly) and the original kube-fledged's strategy, on kwok nodes of the local control plane.
//
//   make bench          the full matrix (bench/cluster.sh up first: the audit log tells clients apart)
//   make bench-quick    100 nodes x 10 images x 1 cache; prints "ours/floor = X.XX"
//   npx tsx bench/cluster-scale.ts --nodes 100,500 --images 10 --caches 1,10 --original 100x10 \
//       --idle-seconds 300 --refresh-period 60 --idle-at 500x10x1 --out bench/results/cluster-scale
//
// For every scenario it prints, per contestant: seconds from create to Succeeded, for a refresh of the
// unchanged cache and from a new node Ready to its images cached; Jobs and pods; the controller's API
// requests by verb and resource (audit log, by ServiceAccount) and every client's (apiserver /metrics);
// peak RSS and CPU seconds (/proc); status size; writes of an idle controller. docs/benchmark.md explains.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, eventually, ROOT } from '../test/support/cluster.js';
import { GROUP, PLURAL, VERSION } from '../src/api/imagecache.js';
import { ensureCrd } from '../test/support/imagecaches.js';
import { AuditLog } from './support/audit-log.js';
import { clusterDirOfAuditLog } from './support/control-plane-cpu.js';
import { BenchNodes } from './support/bench-nodes.js';
import { runFloorScenario, runOriginalScenario, runOurs, scenarioKey, type BenchEnv } from './support/scenario.js';
import { medianRatio, mergeReports, resultsMarkdown, sortedScenarios, summaryLines, type BenchReport, type Machine, type ScenarioReport } from './report/results-md.js';
import { chartSvg, type Series } from './report/chart-svg.js';
import { haveRsvgConvert, svgToPng } from './report/png.js';
import { parseBenchArgs, scenarioList, type BenchArgs } from './support/bench-args.js';
import { compiledController } from './support/bench-controller.js';

function log(msg: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

async function machine(kc: k8s.KubeConfig): Promise<Machine> {
  const v = await kc.makeApiClient(k8s.VersionApi).getCode();
  const git = (args: string[]) => execFileSync('git', args, { cwd: ROOT }).toString().trim();
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? ' (with uncommitted changes)' : '';
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: os.totalmem() / 2 ** 30,
    kubernetes: v.gitVersion,
    commit: `${git(['rev-parse', '--short', 'HEAD'])}${dirty}`,
    node: process.version,
    date: new Date().toISOString(),
    loadAvg: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

function chart(rep: BenchReport): string {
  const one = rep.scenarios.filter((r) => r.scenario.caches === 1);
  const pts = (images: number, pick: (r: ScenarioReport) => number | undefined) =>
    one.filter((r) => r.scenario.images === images).flatMap((r) => { const y = pick(r); return y === undefined ? [] : [{ x: r.scenario.nodes, y }]; });
  const series: Series[] = [];
  const images = [...new Set(one.map((r) => r.scenario.images))].sort((a, b) => a - b);
  const colors = [['#1f77b4', '#2ca02c'], ['#9467bd', '#8c564b']];
  images.forEach((i, k) => {
    const [c1, c2] = colors[k % colors.length]!;
    series.push({ name: `ours, ${i} images`, color: c1!, points: pts(i, (r) => r.ours?.createSeconds) });
    series.push({ name: `floor, ${i} images`, color: c2!, points: pts(i, (r) => r.floor?.seconds), dashed: true });
  });
  const orig = one.filter((r) => r.original);
  if (orig.length) {
    const o = orig[0]!;
    series.push({ name: `original, ${o.scenario.images} images`, color: '#d62728', points: orig.map((r) => ({ x: r.scenario.nodes, y: r.original!.seconds })) });
  }
  const m = rep.machine;
  return chartSvg('ImageCache create → Succeeded (seconds) against nodes', `${m.cores} cores, ${m.memoryGiB.toFixed(0)} GiB, Kubernetes ${m.kubernetes}, kwok nodes; commit ${m.commit}`,
    'kwok nodes', 'seconds', series.filter((s) => s.points.length));
}

/** Fills the original's figures of scenarios not measured in this run from an earlier run's JSON (they do not depend on this project's code). */
function mergeOriginal(rep: BenchReport, file: string): void {
  const earlier = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchReport;
  for (const r of rep.scenarios) {
    const e = earlier.scenarios.find((x) => scenarioKey(x.scenario) === scenarioKey(r.scenario));
    if (r.original || !e?.original) continue;
    r.original = { ...e.original, from: `${earlier.machine.date} (commit ${earlier.machine.commit})` };
  }
}

/** Writes the results (JSON, markdown, SVG and PNG chart) to `--out`; returns its absolute prefix and what was written. */
function writeResults(rep: BenchReport, a: BenchArgs): { out: string; done: BenchReport } {
  const earlier = a.include ? (JSON.parse(fs.readFileSync(a.include, 'utf8')) as BenchReport) : undefined;
  const done: BenchReport = { ...rep, scenarios: sortedScenarios([...(earlier?.scenarios ?? []).map((r) => ({ ...r, from: r.from ?? `${earlier!.machine.date} (commit ${earlier!.machine.commit})` })), ...rep.scenarios.map((r) => ({ ...r }))]) };
  for (const file of a.originalFrom) mergeOriginal(done, file);
  const out = path.resolve(ROOT, a.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(`${out}.json`, JSON.stringify(done, null, 2));
  fs.writeFileSync(`${out}.md`, resultsMarkdown(done));
  // the chart draws one-cache scenarios (time against nodes): none measured yet, no chart yet
  if (done.scenarios.some((r) => r.ours && r.scenario.caches === 1)) {
    fs.writeFileSync(`${out}.svg`, chart(done));
    if (a.png === true || (a.png === 'if-available' && haveRsvgConvert())) svgToPng(`${out}.svg`, `${out}.png`);
    else if (a.png) log('rsvg-convert not installed (bench/install-deps.sh): SVG chart only');
  }
  return { out, done };
}

async function main(): Promise<void> {
  const a = parseBenchArgs(process.argv.slice(2));
  if (a.merge.length > 0) {
    const merged = mergeReports(a.merge.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as BenchReport));
    const { out } = writeResults(merged, { ...a, include: undefined });
    log(`merged ${a.merge.length} results files: ${path.relative(ROOT, out)}.{md,json,svg,png}`);
    return;
  }
  const auditFile = execFileSync(path.join(ROOT, 'bench', 'cluster.sh'), ['audit'], { env: process.env }).toString().trim();
  const kc = adminKubeConfig();
  await ensureCrd();
  // a CRD just established answers 429 "storage is (re)initializing" for a moment
  await eventually('ImageCache storage ready', async () => {
    await kc.makeApiClient(k8s.CustomObjectsApi).listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, limit: 1 });
    return true;
  }, 60_000, 500);
  if (a.controllerFrom !== 'src') compiledController(a.controllerFrom); // refuses a missing or stale build before anything starts
  const env: BenchEnv = { kc, audit: new AuditLog(auditFile), nodes: new BenchNodes(kc), log, controllerFrom: a.controllerFrom, controllerNodeOptions: a.controllerNodeOptions,
    heapDir: a.heapSnapshot ? fs.mkdtempSync(path.join(os.tmpdir(), 'kfb-heap-')) : undefined, clusterDir: clusterDirOfAuditLog(auditFile), freshApiserver: a.freshApiserver };
  const rep: BenchReport = { machine: await machine(kc), args: `npx tsx bench/cluster-scale.ts ${process.argv.slice(2).join(' ')}`.trim(), scenarios: [] };
  log(`${rep.machine.cores} cores, ${rep.machine.memoryGiB.toFixed(1)} GiB, Kubernetes ${rep.machine.kubernetes}, commit ${rep.machine.commit}`);
  const leftovers = await env.nodes.existing();
  if (leftovers.length) {
    log(`removing ${leftovers.length} nodes of an earlier bench run`);
    await env.nodes.deleteAll();
  }
  try {
    for (const s of scenarioList(a).flatMap((x) => Array.from({ length: a.repeat }, (_, run) => ({ ...x, run })))) {
      if (env.nodes.count < s.nodes) {
        log(`growing the bench's kwok nodes to ${s.nodes}`);
        await env.nodes.growTo(s.nodes);
      }
      const key = scenarioKey(s);
      const r: ScenarioReport = { scenario: { nodes: s.nodes, images: s.images, caches: s.caches }, run: a.repeat > 1 ? s.run + 1 : undefined, loadAvg: os.loadavg()[0], ...(a.freshApiserver ? { freshApiserver: true } : {}) };
      rep.scenarios.push(r);
      const windows = a.idleAt.includes(key) && s.run === 0 ? { idleSeconds: a.idleSeconds, refreshPeriodSeconds: a.refreshPeriod } : { idleSeconds: 0, refreshPeriodSeconds: 0 };
      try {
        const ours = await runOurs(env, s, windows, a.controllerArgs);
        r.ours = ours.result;
        if (a.floor) r.floor = await runFloorScenario(env, s, ours.jobs, a.floorConcurrency, ours.result.joinAfterSeconds !== undefined ? { afterSeconds: ours.result.joinAfterSeconds } : undefined);
        if (a.original.includes(`${s.nodes}x${s.images}`) && s.caches === 1) r.original = await runOriginalScenario(env, s);
      } catch (err) {
        r.error = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
        if (err instanceof Error && err.message.includes('\n')) log(err.message);
        log(`scenario ${key} failed: ${r.error}`);
      }
      console.log(summaryLines(r).join('\n'));
      writeResults(rep, { ...a, png: false }); // so far, in case the run is cut short
    }
  } finally {
    if (!a.keepNodes) {
      log('removing the bench nodes');
      await env.nodes.deleteAll();
    }
  }
  if (env.heapDir) fs.rmSync(env.heapDir, { recursive: true, force: true });
  const { out, done } = writeResults(rep, a);
  console.log('');
  console.log(resultsMarkdown(done).split('\n').filter((l) => l.startsWith('|')).join('\n'));
  const quick = medianRatio(done.scenarios.filter((r) => scenarioKey(r.scenario) === '100x10x1'));
  if (quick !== undefined) console.log(`ours/floor = ${quick.toFixed(2)}`);
  log(`results: ${path.relative(ROOT, out)}.{md,json,svg,png}`);
  if (done.scenarios.some((r) => r.error)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
