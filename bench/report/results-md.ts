// The bench's results as markdown (pure): the machine, the summary table, the ratios, then each
// scenario's requests by verb and resource.
import type { FloorFigures, OriginalFigures, OursResult, Requests, Scenario } from '../support/scenario.js';
import { formatCpu } from '../support/control-plane-cpu.js';

export interface Machine { cores: number; memoryGiB: number; cpuModel: string; kubernetes: string; commit: string; node: string; date: string; loadAvg: string }

export interface ScenarioReport { scenario: Scenario; run?: number; /** set when the scenario comes from an earlier run (--include): its date and commit */ from?: string; /** 1-minute load average when it started */ loadAvg?: number; /** kube-apiserver started again before each contestant's run */ freshApiserver?: boolean; ours?: OursResult; floor?: FloorFigures; original?: OriginalFigures; error?: string }

/** Median of ours/floor over the runs of one scenario (undefined when no run has both). */
export function medianRatio(runs: readonly ScenarioReport[]): number | undefined {
  const rs = runs.map((r) => ratio(r.ours?.createSeconds, r.floor?.seconds)).filter((x): x is number => x !== undefined).sort((x, y) => x - y);
  if (rs.length === 0) return undefined;
  const mid = Math.floor(rs.length / 2);
  return rs.length % 2 ? rs[mid] : (rs[mid - 1]! + rs[mid]!) / 2;
}

export interface BenchReport { machine: Machine; args: string; scenarios: ScenarioReport[] }

/** Scenarios by nodes, then images, then caches (stable: repeated runs keep their order), as the table lists them. */
export function sortedScenarios(list: readonly ScenarioReport[]): ScenarioReport[] {
  return [...list].sort((a, b) => a.scenario.nodes - b.scenario.nodes || a.scenario.images - b.scenario.images || a.scenario.caches - b.scenario.caches);
}

const MiB = 1024 * 1024;
const f1 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(1));
const f2 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(2));

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

function writes(r: Requests | undefined): string {
  if (!r) return '–';
  const byRes = r.byVerb.filter(([k]) => /^(create|update|patch|delete|deletecollection) /.test(k));
  return byRes.length ? `${r.writes} (${byRes.map(([k, n]) => `${k} ${n}`).join(', ')})` : '0';
}

export function summaryLines(r: ScenarioReport): string[] {
  const s = r.scenario;
  const o = r.ours;
  const lines = [`scenario ${s.nodes} nodes x ${s.images} images x ${s.caches} cache(s)${r.run ? `, run ${r.run}` : ''}${r.from ? `, from the run of ${r.from}` : ''}${r.loadAvg !== undefined ? ` (load average ${r.loadAvg.toFixed(2)} at its start)` : ''}${r.freshApiserver ? ', kube-apiserver started again before each contestant' : ''}`];
  if (r.error) lines.push(`  error: ${r.error}`);
  if (o) {
    lines.push(`  ours: create: first Job created at ${f1(o.createTimeline.firstJobSeconds)} s, last at ${f1(o.createTimeline.lastJobSeconds)} s, last pod with its images at ${f1(o.createTimeline.lastPulledSeconds)} s, every status final at ${f1(o.createSeconds)} s`);
    lines.push(`  ours: create -> Succeeded ${f1(o.createSeconds)} s; refresh of the unchanged cache ${f1(o.refreshSeconds)} s; new node Ready -> cached ${f1(o.newNodeSeconds)} s`);
    if (o.newNodeError) lines.push(`  ours: new node: ${o.newNodeError}`);
    const t = o.newNodeSteps;
    if (t) lines.push(`  ours: new node, seconds after Ready: its Job seen ${f1(t.job)}, pod created ${f1(t.created)}, bound ${f1(t.bound)}, started ${f1(t.started)}, images pulled ${f1(t.pulled)}`);
    lines.push(`  ours: ${o.jobs} Jobs, ${o.pods} pods (${o.podsSucceeded} seen with their images pulled when the status was final) (refresh ${o.refreshJobs} Jobs, new node ${o.newNodeJobs}); status ${o.statusBytes} B (${o.finalStatus.join(',')})`);
    lines.push(`  ours: create requests ${o.create.total} (${f2(o.create.total / s.nodes)} per node; 404: ${o.create.notFound}, 409: ${o.create.conflict}): ${o.create.byVerb.map(([k, n]) => `${k} ${n}`).join(', ')}`);
    lines.push(`  ours: requests while nodes reported their images ${o.nodeReport.total} (writes ${writes(o.nodeReport)}); refresh ${o.refresh.total} (writes ${writes(o.refresh)}); new node ${o.newNode.total} (writes ${writes(o.newNode)})`);
    if (o.idle) lines.push(`  ours: idle ${o.idleSeconds} s, refresh off: ${o.idle.total} requests, writes ${writes(o.idle)}`);
    if (o.refreshOn) lines.push(`  ours: one refresh period (${o.refreshPeriodSeconds} s), refresh on: ${o.refreshOn.total} requests, writes ${writes(o.refreshOn)}, Jobs ${o.refreshOnJobs}`);
    lines.push(`  ours: RSS ${f1(o.readyRssBytes / MiB)} MiB when ready (no cache), peak ${f1(o.peakRssBytes / MiB)} MiB; CPU ${f1(o.cpuCreateSeconds)} s during create, ${f1(o.cpuSeconds)} s over the run`);
    if (o.heap) lines.push(...`heap snapshot after create: ${o.heap}`.split('\n').map((l) => `  ${l}`));
    lines.push(`  apiserver (every client) during create: ${o.apiserverCreateTotal} requests: ${o.apiserverCreate.slice(0, 8).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    if (o.controlPlaneCpuCreate) lines.push(`  ours: control plane during create: ${formatCpu(o.controlPlaneCpuCreate, o.createSeconds)}`);
  }
  if (r.floor) {
    lines.push(`  floor: ${r.floor.jobs} Jobs in ${f1(r.floor.seconds)} s (first created at ${f1(r.floor.timeline.firstJobSeconds)} s, last at ${f1(r.floor.timeline.lastJobSeconds)} s; ${r.floor.requests.total} requests of its own, ${r.floor.apiserverTotal} at the apiserver from every client)`);
    if (r.floor.controlPlaneCpu) lines.push(`  floor: control plane: ${formatCpu(r.floor.controlPlaneCpu, r.floor.seconds)}`);
    if (r.floor.newNodeSeconds !== undefined || r.floor.newNodeError) {
      const t = r.floor.newNodeSteps;
      lines.push(`  floor: new node (joined ${f1(o?.joinAfterSeconds)} s after the create, as ours'; its Job created at Ready) Ready -> cached ${f1(r.floor.newNodeSeconds)} s${r.floor.newNodeError ? `: ${r.floor.newNodeError}` : ''}${t ? `; pod created ${f1(t.created)}, bound ${f1(t.bound)}, started ${f1(t.started)}, images pulled ${f1(t.pulled)}` : ''}`);
    }
    lines.push(`  ours/floor = ${f2(ratio(o?.createSeconds, r.floor.seconds))}`);
  }
  if (r.original) {
    lines.push(`  original: ${r.original.jobs} Jobs, ${r.original.pods} pods, ${f1(r.original.seconds)} s to ${r.original.status}; ${r.original.requests.total} requests of its own (${r.original.requests.byVerb.map(([k, n]) => `${k} ${n}`).join(', ')})`);
    if (r.original.from) lines.push(`  original: measured in an earlier run on the same cluster, ${r.original.from}`);
    lines.push(`  original/ours = ${f2(ratio(r.original.seconds, o?.createSeconds))}`);
  }
  return lines;
}

export function resultsMarkdown(rep: BenchReport): string {
  const m = rep.machine;
  const out: string[] = [];
  out.push('# Cluster-scale bench: results', '');
  out.push(`Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB.toFixed(1)} GiB memory, load average at start ${m.loadAvg}; Kubernetes ${m.kubernetes} (local control plane, kwok nodes, instant pulls); Node.js ${m.node}; commit ${m.commit}; ${m.date}.`);
  out.push(`Command: \`${rep.args}\`. How to read it: [docs/benchmark.md](../../docs/benchmark.md).`, '');
  out.push('| nodes | images | caches | ours create → Succeeded s | floor s | ours/floor | original s | original/ours | refresh (unchanged) s | new node Ready → cached s | floor new node s | Jobs | pods | controller requests (create) | per node | 404 | 409 | idle writes (refresh off) | writes in one refresh period | RSS MiB ready / peak | CPU s (create) | status B |');
  out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|');
  for (const r of rep.scenarios) {
    const s = r.scenario;
    const o = r.ours;
    if (!o) {
      out.push(`| ${s.nodes} | ${s.images} | ${s.caches} | failed: ${(r.error ?? '').replace(/\|/g, '/').slice(0, 120)} |${' – |'.repeat(18)}`);
      continue;
    }
    out.push(`| ${s.nodes} | ${s.images} | ${s.caches} | ${f1(o.createSeconds)} | ${f1(r.floor?.seconds)} | ${f2(ratio(o.createSeconds, r.floor?.seconds))} | ${f1(r.original?.seconds)}${r.original?.from ? ' †' : ''} | ${f2(ratio(r.original?.seconds, o.createSeconds))} | ${f1(o.refreshSeconds)} | ${f1(o.newNodeSeconds)} | ${f1(r.floor?.newNodeSeconds)} | ${o.jobs} | ${o.pods} | ${o.create.total} | ${f2(o.create.total / s.nodes)} | ${o.create.notFound} | ${o.create.conflict} | ${o.idle ? `${o.idle.writes} in ${o.idleSeconds} s` : '–'} | ${o.refreshOn ? `${o.refreshOn.writes} in ${o.refreshPeriodSeconds} s` : '–'} | ${f1(o.readyRssBytes / MiB)} / ${f1(o.peakRssBytes / MiB)} | ${f1(o.cpuCreateSeconds)} | ${o.statusBytes} |`);
  }
  if (rep.scenarios.some((r) => r.original?.from)) out.push('', '† the original\'s strategy measured in an earlier run on the same cluster (its figures do not depend on this project\'s code): see the scenario below.');
  out.push('', '## Per scenario', '');
  for (const r of rep.scenarios) out.push('```', ...summaryLines(r), '```', '');
  return out.join('\n');
}

/**
 * --merge: the scenarios of several results files in one (a later file's replaces an earlier file's of
 * the same key); each row says where it comes from. The machine is the last file's.
 */
export function mergeReports(reports: readonly BenchReport[]): BenchReport {
  const byKey = new Map<string, ScenarioReport[]>();
  for (const rep of reports) {
    const mine = new Map<string, ScenarioReport[]>();
    for (const r of rep.scenarios) {
      const k = `${r.scenario.nodes}x${r.scenario.images}x${r.scenario.caches}`;
      mine.set(k, [...(mine.get(k) ?? []), { ...r, from: r.from ?? `${rep.machine.date} (commit ${rep.machine.commit})` }]);
    }
    for (const [k, rows] of mine) byKey.set(k, rows);
  }
  const last = reports[reports.length - 1]!;
  return { machine: last.machine, args: reports.map((r) => r.args).join(' + '), scenarios: sortedScenarios([...byKey.values()].flat()) };
}
