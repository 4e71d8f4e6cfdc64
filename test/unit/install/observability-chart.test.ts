// The chart's Grafana dashboard ConfigMap and PrometheusRule: off by default, rendered when enabled,
// and reading only metrics the controller registers (the integration test runs them on Prometheus).
import { expect } from 'chai';
import * as fs from 'node:fs';
import { createControllerMetrics } from '../../../src/operator/metrics.js';
import { one, render, type K8sObject } from './support/chart.js';
import {
  DASHBOARD_FILE, alertRules, dashboardPanels, dashboardQueries, familyOf, metricNames, readDashboard, substituteVariables, variableQueries,
} from './support/observability.js';

/** Metric families the controller's registry exposes, plus Prometheus's own `up`. */
async function exposedFamilies(): Promise<Set<string>> {
  const m = createControllerMetrics();
  return new Set([...(await m.registry.getMetricsAsJSON()).map((f) => f.name), 'up']);
}

const ALERTS = ['KubeFledgedImageCacheFailed', 'KubeFledgedOperationProcessingTooLong', 'KubeFledgedNoLeader'];

async function renderRule(values: Record<string, unknown> = {}, namespace = 'kube-fledged'): Promise<K8sObject> {
  const { objects } = await render({ metrics: { prometheusRule: { enabled: true, ...values } } }, 'kube-fledged', namespace);
  return one(objects, 'PrometheusRule');
}

describe('install: chart observability (Grafana dashboard, PrometheusRule)', function () {
  this.timeout(60_000);

  it('renders neither by default', async () => {
    const { objects } = await render();
    expect(objects.filter((o) => o.kind === 'PrometheusRule' || (o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard')))).to.deep.equal([]);
  });

  describe('metricNames (PromQL)', () => {
    it('keeps metric names and drops functions, keywords, label names, strings and ranges', () => {
      expect(metricNames('sum by (operation, result) (increase(kubefledged_reconcile_total{job=~"a_b", result="Failed"}[5m]))')).to.deep.equal(['kubefledged_reconcile_total']);
      expect(metricNames('(sum(kubefledged_leader{namespace="x"}) or vector(0)) < 1')).to.deep.equal(['kubefledged_leader']);
      expect(metricNames('a_total unless b_total offset 15m and on() c')).to.deep.equal(['a_total', 'b_total', 'c']);
      expect(metricNames('histogram_quantile(0.95, sum by (le) (rate(x_bucket[1m])))')).to.deep.equal(['x_bucket']);
    });
  });

  describe('Grafana dashboard', () => {
    it('is a ConfigMap with the sidecar label in the release namespace, holding the dashboard file', async () => {
      const { objects } = await render({ metrics: { grafanaDashboard: { enabled: true } } }, 'rel', 'monitoring-ns');
      const cm = one(objects, 'ConfigMap', '-dashboard') as K8sObject & { data: Record<string, string> };
      expect(cm.metadata.name).to.equal('rel-kube-fledged-dashboard');
      expect(cm.metadata.namespace).to.equal('monitoring-ns');
      expect(cm.metadata.labels).to.include({ grafana_dashboard: '1', app: 'kubefledged' });
      expect(cm.metadata.annotations).to.equal(undefined);
      expect(Object.keys(cm.data)).to.deep.equal(['kube-fledged.json']);
      expect(cm.data['kube-fledged.json']).to.equal(fs.readFileSync(DASHBOARD_FILE, 'utf8').trimEnd());
      expect(readDashboard(cm.data['kube-fledged.json']).uid).to.equal('kube-fledged');
    });

    it('takes its namespace, labels and annotations from values', async () => {
      const { objects } = await render({ metrics: { grafanaDashboard: { enabled: true, namespace: 'grafana', labels: { grafana_dashboard: 'kf', team: 'x' }, annotations: { grafana_folder: 'kube-fledged' } } } });
      const cm = one(objects, 'ConfigMap', '-dashboard');
      expect(cm.metadata.namespace).to.equal('grafana');
      expect(cm.metadata.labels).to.include({ grafana_dashboard: 'kf', team: 'x' });
      expect(cm.metadata.annotations).to.deep.equal({ grafana_folder: 'kube-fledged' });
    });

    it('has a query in every panel, every query reads only metrics the controller exposes', async () => {
      const d = readDashboard();
      const families = await exposedFamilies();
      const panels = dashboardPanels(d);
      expect(panels.length).to.be.greaterThan(10);
      for (const p of panels) expect(p.targets?.length, `panel "${p.title}" has no query`).to.be.greaterThan(0);
      const queries = [...dashboardQueries(d), ...variableQueries(d).map((v) => ({ panel: `variable ${v.name}`, expr: v.expr.replace(/^label_values\((.*),\s*\w+\)$/, '$1') }))];
      for (const q of queries) {
        const names = metricNames(substituteVariables(q.expr));
        expect(names, `${q.panel}: ${q.expr}`).to.not.deep.equal([]);
        for (const n of names) expect(familyOf(n, families), `${q.panel}: ${n} is not exposed on /metrics`).to.be.a('string');
      }
      // every kubefledged_* metric has a panel
      const used = new Set(queries.flatMap((q) => metricNames(substituteVariables(q.expr)).map((n) => familyOf(n, families))));
      expect([...families].filter((f) => f.startsWith('kubefledged_') && !used.has(f)), 'kubefledged_* metrics without a panel in helm/kube-fledged/dashboards/kube-fledged.json (add one)')
        .to.deep.equal([]);
    });

    it('selects with its namespace and job variables in every panel query', () => {
      for (const q of dashboardQueries(readDashboard())) {
        expect(q.expr, q.panel).to.contain('namespace=~"$namespace", job=~"$job"');
      }
    });
  });

  describe('PrometheusRule', () => {
    it('has the three alerts, selecting the release namespace, per cache, with the pull deadline as the Processing limit', async () => {
      const rule = await renderRule({}, 'kf-ns');
      expect(rule.apiVersion).to.equal('monitoring.coreos.com/v1');
      expect(rule.metadata).to.include({ name: 'kube-fledged-controller', namespace: 'kf-ns' });
      const rules = alertRules(rule);
      expect(rules.map((r) => r.alert)).to.deep.equal(ALERTS);
      for (const r of rules) {
        expect(r.expr, r.alert).to.contain('namespace="kf-ns"');
        expect(r.labels).to.deep.equal({ severity: 'warning' });
        expect(r.annotations?.summary, r.alert).to.be.a('string');
        expect(r.annotations?.description, r.alert).to.be.a('string');
      }
      const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
      expect(byName.KubeFledgedImageCacheFailed!.for).to.equal('0s');
      expect(byName.KubeFledgedImageCacheFailed!.expr).to.contain('kubefledged_imagecache_status{namespace="kf-ns", status="Failed"}');
      // one alert per cache, the cache's namespace as the alert's namespace
      for (const a of ['KubeFledgedImageCacheFailed', 'KubeFledgedOperationProcessingTooLong']) {
        expect(byName[a]!.expr, a).to.match(/^max by \(namespace, imagecache,/)
          .and.contain('"namespace", "$1", "imagecache_namespace", "(.*)"');
      }
      expect(byName.KubeFledgedOperationProcessingTooLong!.expr).to.contain('time() - kubefledged_imagecache_operation_start_time_seconds{namespace="kf-ns"}')
        .and.contain('max by (namespace, job) (kubefledged_image_pull_deadline_seconds{namespace="kf-ns"})');
      expect(byName.KubeFledgedOperationProcessingTooLong!.for).to.equal('5m');
      expect(byName.KubeFledgedNoLeader!.for).to.equal('5m');
    });

    it('reads only metrics the controller exposes', async () => {
      const families = await exposedFamilies();
      for (const r of alertRules(await renderRule())) {
        const names = metricNames(r.expr);
        expect(names, r.alert).to.not.deep.equal([]);
        for (const n of names) expect(familyOf(n, families), `${r.alert}: ${n} is not exposed on /metrics`).to.be.a('string');
      }
    });

    it('takes its selector, durations, severity and labels from values', async () => {
      const rule = await renderRule({
        selector: 'job="kf"', severity: 'critical', additionalAlertLabels: { team: 'platform' }, labels: { release: 'prom' },
        failedFor: '2m', processingFor: '1h30m', noLeaderFor: '30s', keepFiringFor: '45s',
      });
      expect(rule.metadata.labels).to.include({ release: 'prom' });
      const byName = Object.fromEntries(alertRules(rule).map((r) => [r.alert, r]));
      for (const r of Object.values(byName)) {
        expect(r.expr).to.contain('job="kf"').and.not.contain('namespace=');
        expect(r.labels).to.deep.equal({ severity: 'critical', team: 'platform' });
      }
      expect(byName.KubeFledgedImageCacheFailed).to.include({ for: '2m' });
      expect(byName.KubeFledgedOperationProcessingTooLong).to.include({ for: '1h30m' });
      expect(byName.KubeFledgedNoLeader).to.include({ for: '30s' });
      // the per-cache alerts bridge a leader handover; the leader alert must not (it is the handover's own alert)
      expect(byName.KubeFledgedImageCacheFailed).to.include({ keep_firing_for: '45s' });
      expect(byName.KubeFledgedOperationProcessingTooLong).to.include({ keep_firing_for: '45s' });
      expect(byName.KubeFledgedNoLeader).to.not.have.property('keep_firing_for');
    });

    it('keeps the per-cache alerts firing 2m across a gap in their series by default; keepFiringFor 0s leaves it out', async () => {
      const keep = async (v?: string) => Object.fromEntries(alertRules(await renderRule(v === undefined ? {} : { keepFiringFor: v })).map((r) => [r.alert, r.keep_firing_for]));
      expect(await keep()).to.deep.equal({ KubeFledgedImageCacheFailed: '2m', KubeFledgedOperationProcessingTooLong: '2m', KubeFledgedNoLeader: undefined });
      expect(await keep('0s')).to.deep.equal({ KubeFledgedImageCacheFailed: undefined, KubeFledgedOperationProcessingTooLong: undefined, KubeFledgedNoLeader: undefined });
    });

    it('reads the pull deadline from the controller (any flag value renders), processingFor being the margin', async () => {
      const { objects } = await render({ args: { controllerImagePullDeadlineDuration: '1.5h' }, metrics: { prometheusRule: { enabled: true } } });
      const r = alertRules(one(objects, 'PrometheusRule')).find((a) => a.alert === 'KubeFledgedOperationProcessingTooLong');
      expect(r?.for).to.equal('5m');
      expect(r?.expr).to.not.contain('1.5h');
    });

    const refused: [string, Record<string, unknown>, RegExp][] = [
      ['a fractional processingFor', { metrics: { prometheusRule: { enabled: true, processingFor: '1.5h' } } }, /processingFor/],
      ['an empty processingFor', { metrics: { prometheusRule: { enabled: true, processingFor: '' } } }, /processingFor/],
      ['failedWindow (removed: the Failed alert follows the cache\'s status)', { metrics: { prometheusRule: { enabled: true, failedWindow: '15m' } } }, /failedWindow/],
      ['a fractional failedFor', { metrics: { prometheusRule: { enabled: true, failedFor: '0.5m' } } }, /failedFor/],
      ['a keepFiringFor without a unit', { metrics: { prometheusRule: { enabled: true, keepFiringFor: '90' } } }, /keepFiringFor/],
      ['an unknown key', { metrics: { prometheusRule: { enabled: true, interval: '1m' } } }, /interval/],
      ['an unknown dashboard key', { metrics: { grafanaDashboard: { enabled: true, folder: 'x' } } }, /folder/],
    ];
    for (const [what, values, message] of refused) {
      it(`refuses ${what}, naming the key`, async () => {
        let error: Error | undefined;
        try {
          await render(values);
        } catch (err) {
          error = err as Error;
        }
        expect(error?.message).to.match(message);
      });
    }
  });
});
