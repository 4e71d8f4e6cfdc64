// A real Prometheus scrapes a controller started by the test against the local cluster while
// ImageCaches are created on kwok nodes; every query of the chart's dashboard and every alert of its
// PrometheusRule is then sent to Prometheus's HTTP API and must return data; promtool checks the rules
// and Prometheus evaluates them (the Failed and Processing alerts are seen firing for the right caches
// and only those, and resolving when a cache is deleted; the no-leader alert once the controller stops).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, uniqueName } from '../../support/cluster.js';
import { fakeNode } from '../../support/nodes.js';
import { ControllerProcess, serviceAccountKubeconfig } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { one, render } from '../../unit/install/support/chart.js';
import {
  alertRules, dashboardQueries, metricNames, readDashboard, substituteVariables, variableQueries, type AlertRule, type Dashboard,
} from '../../unit/install/support/observability.js';
import { freePort } from '../webhook/webhook-process.js';
import { PrometheusProcess, prometheusUnavailable } from './prometheus-process.js';

const execFileAsync = promisify(execFile);
/** keep_firing_for of the per-cache alerts here: longer than the handover gap of the test (a few seconds). */
const KEEP_FIRING_S = 15;

interface RuleState { name: string; health: string; lastError?: string; state?: string }

/** A replica's /metrics text ('' while it does not answer). */
async function scrape(target: string): Promise<string> {
  try {
    const res = await fetch(`http://${target}/metrics`);
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

describe('observability: a real Prometheus scrapes the controller; dashboard queries and alerts return data', function () {
  this.timeout(300_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('obs');
  const sel = { 'kf-suite': suite };
  const nodes = [`${suite}-a`, `${suite}-b`];
  let ns: string;
  /** A second namespace: the Failed cache lives there, so the alert's namespace is seen to be the cache's. */
  let ns2: string;
  let ctrl: ControllerProcess | undefined;
  /** A second replica, started once the first leads: a standby until the handover test. */
  let standby: ControllerProcess | undefined;
  let leaderTarget = '';
  let standbyTarget = '';
  let sa: { file: string; cleanup: () => Promise<void> } | undefined;
  let prom: PrometheusProcess | undefined;
  let rules: AlertRule[] = [];
  let ruleGroups: unknown[] = [];
  let dashboard: Dashboard;

  const firingAll = async (alert: string) =>
    (await prom!.api<{ alerts: { labels: Record<string, string>; state: string; activeAt: string }[] }>('alerts')).alerts.filter((a) => a.labels.alertname === alert && a.state === 'firing');
  const firing = async (alert: string) => (await firingAll(alert))[0];
  /** "namespace/name=status" of every cache whose kubefledged_imagecache_status is 1 in Prometheus, sorted. */
  const cacheStatuses = async () => (await prom!.query(`kubefledged_imagecache_status{namespace="${ns}"} == 1`)).result
    .map((r) => `${r.metric.imagecache_namespace}/${r.metric.imagecache}=${r.metric.status}`).sort();

  before(async function () {
    // Skipped only when Prometheus is missing and cannot be installed (not root): as root the helper installs
    // Debian's prometheus package, so on CI and the project's machines this always runs.
    const why = prometheusUnavailable();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    await ensureCrd();
    ns = await createNamespace(core, 'kf-obs');
    ns2 = await createNamespace(core, 'kf-obs-b');
    for (const n of nodes) await core.createNode({ body: fakeNode(n, { labels: sel }) });
    await eventually('suite nodes Ready', async () => {
      const list = (await core.listNode({ labelSelector: `kf-suite=${suite}` })).items;
      return list.length === nodes.length && list.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    }, 60_000);

    // the rules as the chart renders them for a release in the test namespace (whose scrape carries
    // namespace=<ns>, as a ServiceMonitor's does), with short `for`s so that they fire within the test
    // (Processing: 10 s beyond the controller's 20 s pull deadline; no leader: 10 s, longer than the
    // handover below, which must not fire it) and a keep_firing_for longer than that handover's gap
    const { objects } = await render({ metrics: {
      grafanaDashboard: { enabled: true },
      prometheusRule: { enabled: true, failedFor: '0s', processingFor: '10s', noLeaderFor: '10s', keepFiringFor: `${KEEP_FIRING_S}s` },
    } }, 'kube-fledged', ns);
    const rule = one(objects, 'PrometheusRule');
    // the dashboard as the chart ships it, in its ConfigMap
    dashboard = readDashboard((one(objects, 'ConfigMap', '-dashboard') as unknown as { data: Record<string, string> }).data['kube-fledged.json']);
    rules = alertRules(rule);
    ruleGroups = (rule.spec as { groups: unknown[] }).groups;

    sa = await serviceAccountKubeconfig(kc, ns);
    const replica = (target: string) => new ControllerProcess(sa!.file, [
      // one pull at a time per registry host: the cache of eight slow images on two nodes stays Processing
      // for 96 s or more (sixteen pulls of 6-16 s each, one after the other), beyond the pull deadline
      `--metrics-bind-address=${target}`, '--image-pull-deadline-duration=20s', '--image-cache-refresh-frequency=0s',
      '--max-pulls-per-registry=1', '--leader-elect=true',
    ], { KUBEFLEDGED_NAMESPACE: ns }).start();
    leaderTarget = `127.0.0.1:${await freePort()}`;
    standbyTarget = `127.0.0.1:${await freePort()}`;
    ctrl = replica(leaderTarget);
    await eventually('the first replica leads', async () => /^kubefledged_leader 1$/m.test(await scrape(leaderTarget)), 120_000, 300)
      .catch((err: unknown) => { console.log(ctrl?.dump()); throw err; });
    standby = replica(standbyTarget);
    await eventually('the second replica serves /metrics', async () => /^kubefledged_leader 0$/m.test(await scrape(standbyTarget)), 120_000, 300)
      .catch((err: unknown) => { console.log(standby?.dump()); throw err; });

    // assigned before it starts, so that after() stops it and removes its directory whatever happens
    prom = new PrometheusProcess({ jobName: 'kube-fledged', targets: [leaderTarget, standbyTarget], targetLabels: { namespace: ns }, ruleGroups });
    await prom.start();
  });

  after(async function () {
    if (process.env.KF_TEST_LOGS) console.log(ctrl?.dump(), prom?.dump());
    await prom?.stop();
    await ctrl?.stop();
    await standby?.stop();
    await sa?.cleanup();
    if (ns) await deleteNamespace(core, ns);
    if (ns2) await deleteNamespace(core, ns2);
    for (const n of nodes) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(ctrl?.dump(), '\n--- standby ---\n', standby?.dump(), '\n--- prometheus ---\n', prom?.dump());
  });

  it('promtool accepts the rendered rules, with the chart defaults and as loaded here', async () => {
    const defaults = alertRules(one((await render({ metrics: { prometheusRule: { enabled: true } } })).objects, 'PrometheusRule'));
    const defaultsFile = path.join(prom!.dir, 'default-rules.yaml');
    fs.writeFileSync(defaultsFile, stringify({ groups: [{ name: 'kube-fledged', rules: defaults }] }));
    for (const file of [defaultsFile, prom!.rulesFile]) {
      const { stdout } = await execFileAsync('promtool', ['check', 'rules', file]);
      expect(stdout, file).to.match(/SUCCESS: 3 rules found/);
    }
  });

  it('promtool test rules: each alert fires and resolves as documented, on synthetic series (chart defaults)', async () => {
    // the default rules without annotations (promtool compares annotations; the semantics are in expr and for)
    const defaults = alertRules(one((await render({ metrics: { prometheusRule: { enabled: true } } })).objects, 'PrometheusRule'))
      .map(({ annotations: _annotations, ...r }) => r);
    const dir = path.join(prom!.dir, 'promtool-test');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'rules.yaml'), stringify({ groups: [{ name: 'kube-fledged', rules: defaults }] }));
    const sel = 'namespace="kube-fledged", job="kf"';
    const base = { job: 'kf', severity: 'warning' };
    const alerts = (alertname: string, at: string, exp: Record<string, string>[]) => ({ eval_time: at, alertname, exp_alerts: exp.map((l) => ({ exp_labels: l })) });
    const status = (cache: string, st: string, instance: string, values: string) =>
      ({ series: `kubefledged_imagecache_status{${sel}, instance="${instance}", imagecache_namespace="apps", imagecache="${cache}", status="${st}"}`, values });
    const tests = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          // cache "bad" is Failed from 2m to 12m, then Succeeded. Replica a leads until 5m and stops (its
          // series go stale at 6m); replica b leads from 7m and exports it from then on: the handover's gap
          // keeps the one alert firing (keep_firing_for 2m), and the recovery resolves it 2m later. Cache "ok"
          // is never Failed. Series of another release's namespace are not this release's alerts.
          interval: '1m',
          input_series: [
            status('bad', 'Failed', 'a', '0 0 1+0x3 stale'),
            status('bad', 'Succeeded', 'a', '0 0 0+0x3 stale'),
            status('bad', 'Failed', 'b', '_ _ _ _ _ _ _ 1+0x5 0+0x20'),
            status('bad', 'Succeeded', 'b', '_ _ _ _ _ _ _ 0+0x5 1+0x20'),
            status('ok', 'Failed', 'a', '0+0x30'),
            status('ok', 'Succeeded', 'a', '1+0x30'),
            { series: 'kubefledged_imagecache_status{namespace="other", job="kf", imagecache_namespace="apps", imagecache="theirs", status="Failed"}', values: '1+0x30' },
          ],
          alert_rule_test: [
            alerts('KubeFledgedImageCacheFailed', '1m', []),
            alerts('KubeFledgedImageCacheFailed', '2m', [{ ...base, namespace: 'apps', imagecache: 'bad' }]),
            alerts('KubeFledgedImageCacheFailed', '6m', [{ ...base, namespace: 'apps', imagecache: 'bad' }]),
            alerts('KubeFledgedImageCacheFailed', '12m', [{ ...base, namespace: 'apps', imagecache: 'bad' }]),
            alerts('KubeFledgedImageCacheFailed', '14m', [{ ...base, namespace: 'apps', imagecache: 'bad' }]),
            alerts('KubeFledgedImageCacheFailed', '15m', []),
          ],
        },
        {
          // cache "slow" Processing from 1m (startTime 60 s) to 20m; cache "quick" from 2m to 4m; a 5-minute
          // pull deadline reported by two replicas. "slow" passes the deadline after 6m (pending from 7m)
          // and fires 5m later (processingFor); it resolves 2m (keepFiringFor) after it stops Processing.
          // "quick" never fires.
          interval: '1m',
          input_series: [
            { series: `kubefledged_imagecache_operation_start_time_seconds{${sel}, instance="a", imagecache_namespace="apps", imagecache="slow", operation="refresh"}`, values: '_ 60+0x19 stale' },
            { series: `kubefledged_imagecache_operation_start_time_seconds{${sel}, instance="a", imagecache_namespace="apps", imagecache="quick", operation="create"}`, values: '_ _ 120+0x2 stale' },
            { series: `kubefledged_image_pull_deadline_seconds{${sel}, instance="a"}`, values: '300+0x30' },
            { series: `kubefledged_image_pull_deadline_seconds{${sel}, instance="b"}`, values: '300+0x30' },
          ],
          alert_rule_test: [
            alerts('KubeFledgedOperationProcessingTooLong', '4m', []),
            alerts('KubeFledgedOperationProcessingTooLong', '11m', []),
            alerts('KubeFledgedOperationProcessingTooLong', '12m', [{ ...base, namespace: 'apps', imagecache: 'slow', operation: 'refresh' }]),
            alerts('KubeFledgedOperationProcessingTooLong', '20m', [{ ...base, namespace: 'apps', imagecache: 'slow', operation: 'refresh' }]),
            alerts('KubeFledgedOperationProcessingTooLong', '22m', [{ ...base, namespace: 'apps', imagecache: 'slow', operation: 'refresh' }]),
            alerts('KubeFledgedOperationProcessingTooLong', '23m', []),
          ],
        },
        {
          // a leader until 9m (a, then b), none from 10m: fires 5m later
          interval: '1m',
          input_series: [
            { series: `kubefledged_leader{${sel}, instance="a"}`, values: '1+0x5 0+0x60' },
            { series: `kubefledged_leader{${sel}, instance="b"}`, values: '0+0x5 1+0x3 0+0x60' },
          ],
          alert_rule_test: [
            alerts('KubeFledgedNoLeader', '8m', []),
            alerts('KubeFledgedNoLeader', '12m', []),
            alerts('KubeFledgedNoLeader', '15m', [{ severity: 'warning' }]),
          ],
        },
        {
          // no controller scraped at all (no kubefledged_leader series in the release namespace)
          interval: '1m',
          input_series: [{ series: 'kubefledged_leader{namespace="other", job="kf"}', values: '1+0x20' }],
          alert_rule_test: [alerts('KubeFledgedNoLeader', '3m', []), alerts('KubeFledgedNoLeader', '6m', [{ severity: 'warning' }])],
        },
      ],
    };
    fs.writeFileSync(path.join(dir, 'tests.yaml'), stringify(tests));
    const res = await execFileAsync('promtool', ['test', 'rules', 'tests.yaml'], { cwd: dir }).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`promtool test rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    expect(res.stdout).to.match(/SUCCESS/);
  });

  it('scrapes both replicas: the targets are up and one of them leads', async () => {
    await eventually('targets up', async () => {
      const t = await prom!.api<{ activeTargets: { health: string; labels: Record<string, string> }[] }>('targets');
      return t.activeTargets.length === 2 && t.activeTargets.every((a) => a.health === 'up' && a.labels.namespace === ns);
    }, 30_000, 500);
    await eventually('kubefledged_leader 1 on the first replica', async () =>
      (await prom!.query(`kubefledged_leader{namespace="${ns}"} == 1`)).result.map((r) => r.metric.instance).join() === leaderTarget, 60_000, 500);
  });

  it('while ImageCaches succeed, fail and stay Processing, the per-cache alerts fire for the right caches and only those', async () => {
    await ics.create(ns, 'ok', { cacheSpec: [{ images: ['registry-a.example/app:1', 'registry-b.example/web:2'], nodeSelector: sel }] });
    // Failed at the pull deadline (the missing image waits for it): Processing about 20 s, less than the
    // deadline plus processingFor, so it never has the Processing alert
    await ics.create(ns2, 'bad', { cacheSpec: [{ images: ['crash.invalid/tool:1', 'fail.invalid/missing:1'], nodeSelector: { 'kubernetes.io/hostname': nodes[0]! } }] });
    await ics.create(ns, 'slow', { cacheSpec: [{ images: [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `slow.invalid/big-${i}:1`), nodeSelector: sel }] });
    const started = Date.now();
    await eventually('KubeFledgedOperationProcessingTooLong firing', () => firing('KubeFledgedOperationProcessingTooLong'), 90_000, 500);
    console.log(`      KubeFledgedOperationProcessingTooLong fired ${((Date.now() - started) / 1000).toFixed(1)} s after the caches were created (pull deadline 20 s + 10 s)`);
    const took = (c: { status?: { startTime?: string; completionTime?: string } }) =>
      `${((Date.parse(c.status?.completionTime ?? '') - Date.parse(c.status?.startTime ?? '')) / 1000).toFixed(0)} s`;
    const ok = await ics.waitFinal(ns, 'ok', 'ImageCacheCreate');
    const bad = await ics.waitFinal(ns2, 'bad', 'ImageCacheCreate');
    console.log(`      ok: ${ok.status!.status} in ${took(ok)}, bad: ${bad.status!.status} in ${took(bad)}`);
    expect(ok.status!.status).to.equal('Succeeded');
    expect(bad.status!.status).to.equal('Failed');
    expect((await firingAll('KubeFledgedOperationProcessingTooLong')).map((a) => a.labels)).to.deep.equal([
      { alertname: 'KubeFledgedOperationProcessingTooLong', namespace: ns, imagecache: 'slow', operation: 'create', job: 'kube-fledged', severity: 'warning' },
    ]);
    expect((await ics.get(ns, 'slow')).status!.status, 'slow is still Processing (the later tests need it)').to.equal('Processing');
    await eventually('each cache\'s status in Prometheus', async () => {
      const now = await cacheStatuses();
      return now.join(' ') === [`${ns2}/bad=Failed`, `${ns}/ok=Succeeded`, `${ns}/slow=Processing`].sort().join(' ');
    }, 30_000, 500).catch(async (err: unknown) => { console.log(await cacheStatuses()); throw err; });
    await eventually('KubeFledgedImageCacheFailed firing', () => firing('KubeFledgedImageCacheFailed'), 60_000, 500);
    expect((await firingAll('KubeFledgedImageCacheFailed')).map((a) => a.labels)).to.deep.equal([
      { alertname: 'KubeFledgedImageCacheFailed', namespace: ns2, imagecache: 'bad', job: 'kube-fledged', severity: 'warning' },
    ]);
  });

  it('every dashboard panel query returns data from Prometheus', async () => {
    const d = dashboard;
    const empty: string[] = [];
    // rate() and increase() need two samples of a series: wait until every kubefledged_* series has them
    await eventually('two samples of every kubefledged_* series', async () => {
      if ((await prom!.query(`kubefledged_image_results_total{namespace="${ns}", result="failed"}`)).result.length === 0) return false;
      const names = await prom!.api<string[]>('label/__name__/values', { 'match[]': `{__name__=~"kubefledged_.+", namespace="${ns}"}` });
      for (const name of names) {
        // series present now: a per-cache series that lived for one scrape only (a cache Processing for
        // less than a second) never gets a second sample
        const series = `${name}{namespace="${ns}"}`;
        if ((await prom!.query(`count_over_time(${series}[1h]) < 2 and ${series}`)).result.length > 0) return false;
      }
      return true;
    }, 30_000, 500);
    for (const q of dashboardQueries(d)) {
      const expr = substituteVariables(q.expr, { namespace: ns });
      const r = await prom!.query(expr);
      if (r.result.length === 0) empty.push(`${q.panel} (${q.refId}): ${expr}`);
    }
    expect(empty, 'panel queries without data').to.deep.equal([]);
    // the variables' label_values() queries find this run's namespace and job
    for (const v of variableQueries(d)) {
      const m = /^label_values\((.*),\s*(\w+)\)$/.exec(v.expr);
      expect(m, v.expr).to.not.equal(null);
      const values = await prom!.api<string[]>(`label/${m![2]}/values`, { 'match[]': substituteVariables(m![1]!, { namespace: ns }) });
      expect(values, v.name).to.include(v.name === 'namespace' ? ns : 'kube-fledged');
    }
  });

  it('every metric the dashboard and the alerts name is exposed by the controller (Prometheus metadata)', async () => {
    const names = new Set([...dashboardQueries(dashboard).flatMap((q) => metricNames(substituteVariables(q.expr))), ...rules.flatMap((r) => metricNames(r.expr))]);
    const meta = await prom!.api<{ metric: string }[]>('targets/metadata', { match_target: `{job="kube-fledged"}` });
    const families = new Set(meta.map((m) => m.metric));
    const missing = [...names].filter((n) => n !== 'up' && !families.has(n) && !families.has(n.replace(/_(bucket|sum|count)$/, '')));
    expect(missing).to.deep.equal([]);
  });

  it('every alert expression evaluates on Prometheus, and the loaded rules are healthy', async () => {
    expect(rules.map((r) => r.alert)).to.deep.equal(['KubeFledgedImageCacheFailed', 'KubeFledgedOperationProcessingTooLong', 'KubeFledgedNoLeader']);
    for (const r of rules) {
      const res = await prom!.query(r.expr);
      expect(res.resultType, r.alert).to.equal('vector');
    }
    // the Failed and Processing alerts have one sample each now (bad, slow); no-leader none while a leader runs
    expect((await prom!.query(rules[0]!.expr)).result.map((r) => r.metric.imagecache)).to.deep.equal(['bad']);
    expect((await prom!.query(rules[1]!.expr)).result.map((r) => r.metric.imagecache)).to.deep.equal(['slow']);
    expect((await prom!.query(rules[2]!.expr)).result).to.deep.equal([]);
    // each selector of the alerts matches this scrape
    expect((await prom!.query(`kubefledged_image_pull_deadline_seconds{namespace="${ns}"}`)).result[0]!.value![1]).to.equal('20');
    expect((await prom!.query(`sum(kubefledged_leader{namespace="${ns}"}) or vector(0)`)).result[0]!.value![1]).to.equal('1');
    const groups = await prom!.api<{ groups: { rules: RuleState[] }[] }>('rules');
    const loaded = groups.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name)).to.deep.equal(rules.map((r) => r.alert));
    for (const r of loaded) expect(r.health, `${r.name}: ${r.lastError ?? ''}`).to.equal('ok');
  });

  it('a deleted cache loses its series and its alert resolves', async () => {
    await ics.delete(ns, 'slow');
    const deleted = Date.now();
    await eventually('no series of the deleted cache', async () =>
      (await prom!.query(`{__name__=~"kubefledged_imagecache_status|kubefledged_imagecache_operation_start_time_seconds", imagecache="slow"}`)).result.length === 0, 30_000, 500);
    await eventually('KubeFledgedOperationProcessingTooLong resolved', async () => (await firingAll('KubeFledgedOperationProcessingTooLong')).length === 0, 30_000 + KEEP_FIRING_S * 1000, 500);
    console.log(`      the deleted cache's series went and its alert resolved ${((Date.now() - deleted) / 1000).toFixed(1)} s after the delete`);
    expect(await cacheStatuses()).to.deep.equal([`${ns2}/bad=Failed`, `${ns}/ok=Succeeded`].sort());
    expect((await firingAll('KubeFledgedImageCacheFailed')).map((a) => a.labels.imagecache)).to.deep.equal(['bad']);
  });

  it('only the leader exports the per-cache series; after a handover the new leader does, and the alert stays', async () => {
    const exporters = async () => (await prom!.query(`count by (instance) (kubefledged_imagecache_status{namespace="${ns}"})`)).result.map((r) => r.metric.instance);
    expect(await exporters()).to.deep.equal([leaderTarget]);
    const text = await scrape(standbyTarget);
    expect(text).to.match(/^kubefledged_leader 0$/m).and.match(/^kubefledged_image_pull_deadline_seconds 20$/m);
    expect(text, 'a standby has no per-cache series').to.not.match(/^kubefledged_imagecache_(status|operation_start_time_seconds)\{/m);
    const before = await firingAll('KubeFledgedImageCacheFailed');
    expect(before.map((a) => a.labels.imagecache)).to.deep.equal(['bad']);
    // a graceful stop releases the Lease: the standby takes over and exports what its own watch knows
    await ctrl!.stop();
    const stopped = Date.now();
    await eventually('the second replica exports the caches', async () => (await exporters()).join() === standbyTarget, 60_000, 500);
    const gap = (Date.now() - stopped) / 1000;
    console.log(`      the new leader's per-cache series in Prometheus ${gap.toFixed(1)} s after the first replica stopped`);
    expect(gap, 'the handover gap is shorter than keepFiringFor').to.be.below(KEEP_FIRING_S);
    expect(await cacheStatuses()).to.deep.equal([`${ns2}/bad=Failed`, `${ns}/ok=Succeeded`].sort());
    // the same alert, firing throughout: it did not resolve in the gap and fire anew (activeAt unchanged)
    const after = await firingAll('KubeFledgedImageCacheFailed');
    expect(after.map((a) => a.labels)).to.deep.equal([
      { alertname: 'KubeFledgedImageCacheFailed', namespace: ns2, imagecache: 'bad', job: 'kube-fledged', severity: 'warning' },
    ]);
    expect(after[0]!.activeAt, 'activeAt of the Failed alert across the handover').to.equal(before[0]!.activeAt);
    expect(await firing('KubeFledgedNoLeader'), 'a handover shorter than noLeaderFor does not fire KubeFledgedNoLeader').to.equal(undefined);
  });

  it('KubeFledgedNoLeader fires once no replica is left', async () => {
    expect(await firing('KubeFledgedNoLeader')).to.equal(undefined);
    await standby!.stop();
    const started = Date.now();
    await eventually('KubeFledgedNoLeader firing', () => firing('KubeFledgedNoLeader'), 60_000, 500);
    const after = (Date.now() - started) / 1000;
    console.log(`      KubeFledgedNoLeader fired ${after.toFixed(1)} s after the last replica stopped (noLeaderFor 10s)`);
    expect(after, 'not before noLeaderFor').to.be.at.least(10);
    expect((await prom!.query(`up{namespace="${ns}"}`)).result.map((r) => r.value![1])).to.deep.equal(['0', '0']);
  });
});
