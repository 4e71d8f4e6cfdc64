// The chart's observability objects read back as data: the dashboard's queries, the PrometheusRule's
// alerts, and the metric names a PromQL expression reads. Shared by the unit tests of the chart and
// the integration test that runs every query against a real Prometheus.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHART_DIR } from '../../../../hack/chart/helm-binary.js';
import type { K8sObject } from './chart.js';

export const DASHBOARD_FILE = path.join(CHART_DIR, 'dashboards', 'kube-fledged.json');

export interface DashboardQuery {
  panel: string;
  refId: string;
  expr: string;
}

interface Panel {
  type: string;
  title: string;
  targets?: { refId: string; expr?: string }[];
  panels?: Panel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: unknown; definition?: string }[] };
}

export function readDashboard(text = fs.readFileSync(DASHBOARD_FILE, 'utf8')): Dashboard {
  return JSON.parse(text) as Dashboard;
}

/** Every panel of the dashboard except rows, including panels nested in collapsed rows. */
export function dashboardPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

/** Every query of every panel, in panel order. */
export function dashboardQueries(d: Dashboard): DashboardQuery[] {
  return dashboardPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr ?? '' })));
}

/** The `label_values(metric..., label)` queries of the dashboard's query variables. */
export function variableQueries(d: Dashboard): { name: string; expr: string }[] {
  return d.templating.list.filter((v) => v.type === 'query').map((v) => ({ name: v.name, expr: v.definition ?? '' }));
}

/**
 * A Grafana query with its variables replaced as Grafana would for "All" (regex .* / .+) and the
 * given intervals, so that Prometheus can evaluate it.
 */
export function substituteVariables(expr: string, vars: { namespace?: string; job?: string; rateInterval?: string; range?: string } = {}): string {
  return expr
    .replaceAll('$namespace', vars.namespace ?? '.*')
    .replaceAll('$job', vars.job ?? '.+')
    .replaceAll('$__rate_interval', vars.rateInterval ?? '1m')
    .replaceAll('$__range', vars.range ?? '1h');
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The alerting rules of a rendered PrometheusRule. */
export function alertRules(rule: K8sObject): AlertRule[] {
  const spec = rule.spec as { groups: { name: string; rules: AlertRule[] }[] };
  return spec.groups.flatMap((g) => g.rules);
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'or', 'and', 'unless', 'offset', 'bool', 'inf', 'nan']);

/**
 * The metric names an expression reads: identifiers that are neither functions, keywords, label
 * names (inside `{...}` or a grouping clause) nor string contents.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+\w+/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice(m.index + m[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function or aggregation
    if (PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names].sort();
}

/** Metric families as registered (histogram series end in _bucket, _sum, _count). */
export function familyOf(name: string, families: ReadonlySet<string>): string | undefined {
  if (families.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return m && families.has(m[1]!) ? m[1] : undefined;
}
