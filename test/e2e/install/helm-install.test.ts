// The chart on the local cluster (kwok runs the pods; the Node processes are started by the test):
// lint, server-side dry run of everything it renders, a signed install with --verify under Pod
// Security "restricted", the webhook server and the controller doing their job with the chart's
// ServiceAccount tokens, an upgrade that rolls the controller with a new flag and keeps the webhook
// certificate, and an uninstall that leaves only the CRD.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, isNotFound, kubectl, uniqueName } from '../../support/cluster.js';
import { ensureCrd, ImageCaches } from '../../support/imagecaches.js';
import { CHART_DIR, ROOT } from '../../../hack/chart/helm-binary.js';
import { plainManifests, renderChart } from '../../../hack/chart/render-manifests.js';
import { helm, parseObjects, type K8sObject } from '../../unit/install/support/chart.js';
import { EntrypointProcess, freePort, helmRun, removeKubeconfig, run, runFails, serviceAccountKubeconfig, withFlag } from './support/install-env.js';

/** GET https://127.0.0.1:<port><path>, trusting only `ca`. */
async function httpsGet(port: number, urlPath: string, ca: string, servername: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: urlPath, ca, servername, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

describe('install (e2e): Helm chart on the local cluster', function () {
  this.timeout(900_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
  const caches = new ImageCaches(kc);

  const release = uniqueName('kfh');
  const fullname = `${release}-kube-fledged`;
  let ns = '';
  let work = '';
  let valuesFile = '';
  let tgz = '';
  let pubring = '';
  const processes: EntrypointProcess[] = [];
  const kubeconfigs: string[] = [];

  async function deployment(suffix: string): Promise<k8s.V1Deployment> {
    return apps.readNamespacedDeployment({ name: `${fullname}-${suffix}`, namespace: ns });
  }

  async function rolledOut(suffix: string): Promise<k8s.V1Deployment | undefined> {
    const d = await deployment(suffix);
    const s = d.status ?? {};
    const want = d.spec?.replicas ?? 1;
    const done = s.observedGeneration === d.metadata?.generation && s.updatedReplicas === want && s.availableReplicas === want && (s.replicas ?? 0) === want;
    return done ? d : undefined;
  }

  before(async () => {
    await ensureCrd();
    // Pod Security "restricted" is enforced by the API server in this namespace: a pod of the chart that
    // breaks it is never created and the install times out.
    ns = await createNamespace(core, 'kf-helm', {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-helm-e2e-'));
    valuesFile = path.join(work, 'values.yaml');
    // The webhook pod is simulated by kwok and serves nothing: let the webhook configuration match no
    // namespace, so that ImageCache writes of other tests on this cluster are never sent to it.
    // Other tests add nodes that never run pods: keep the two pods on a node kwok runs pods on.
    fs.writeFileSync(
      valuesFile,
      stringify({
        webhookServer: { namespaceSelector: { matchLabels: { 'kubefledged.io/e2e-webhook': release } } },
        nodeSelector: { 'kubernetes.io/hostname': 'kwok-node-0' },
      }),
    );
    const dist = path.join(work, 'dist');
    const { stdout } = await run('make', ['--no-print-directory', 'chart-package', `CHART_DIST=${dist}`, `HELM=${helm()}`]);
    tgz = stdout.trim().split('\n').at(-1)!;
    pubring = path.join(dist, 'pubring.gpg');
  });

  after(async () => {
    for (const p of processes) await p.stop();
    for (const k of kubeconfigs) removeKubeconfig(k);
    await helmRun(['uninstall', release, '-n', ns, '--ignore-not-found', '--wait']).catch(() => undefined);
    for (const kind of ['clusterrole', 'clusterrolebinding', 'validatingwebhookconfiguration']) {
      await kubectl(['delete', kind, '-l', `app.kubernetes.io/instance=${release}`, '--ignore-not-found']).catch(() => undefined);
    }
    if (ns) await deleteNamespace(core, ns);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('passes helm lint --strict', async () => {
    const { stdout } = await helmRun(['lint', '--strict', CHART_DIR]);
    expect(stdout).to.contain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('renders only objects the API server accepts (server-side dry run), for the defaults and for variants', async () => {
    const variants: Record<string, unknown>[] = [
      {},
      { controller: { hostNetwork: true, priorityClassName: 'system-cluster-critical' }, webhookServer: { hostNetwork: true, priorityClassName: 'system-cluster-critical' }, controllerReplicaCount: 2, webhookServerReplicaCount: 3 },
      { webhookServer: { enable: false }, controller: { leaderElection: { enabled: false } }, podDisruptionBudget: { enabled: false } },
      { plainManifestSelectors: true, resources: { requests: { cpu: '1' } }, imagePullSecrets: [{ name: 'regcred' }], nodeSelector: { 'kubernetes.io/os': 'linux' } },
    ];
    for (const variant of variants) {
      const file = path.join(work, 'variant.yaml');
      fs.writeFileSync(file, stringify(variant));
      const { stdout: text } = await run(helm(), ['template', `${release}-dry`, CHART_DIR, '-n', ns, '-f', valuesFile, '-f', file]);
      const objects = parseObjects(text);
      const out = await kubectl(['apply', '--dry-run=server', '-f', '-'], text);
      const accepted = out.split('\n').filter((l) => l.endsWith('(server dry run)'));
      expect(accepted, `variant ${JSON.stringify(variant)}`).to.have.length(objects.length);
    }
  });

  it('has plain manifests (deploy/) and the sample ImageCache that the API server accepts (server-side dry run)', async () => {
    const files = plainManifests(renderChart(helm(), { namespace: ns, fullname: `${release}-yaml` }), ns);
    files.delete('kubefledged-namespace.yaml'); // the namespace exists; its manifest is checked below
    const text = [...files.values()].join('\n---\n');
    const out = await kubectl(['apply', '--dry-run=server', '-f', '-'], text);
    expect(out.split('\n').filter((l) => l.endsWith('(server dry run)'))).to.have.length(parseObjects(text).length);
    await kubectl(['apply', '--dry-run=server', '-f', path.join(ROOT, 'deploy', 'kubefledged-namespace.yaml')]);
    const sample = fs.readFileSync(path.join(ROOT, 'deploy', 'kubefledged-imagecache.yaml'), 'utf8').replace('namespace: kube-fledged', `namespace: ${ns}`);
    const created = await kubectl(['create', '--dry-run=server', '-f', '-'], sample);
    expect(created).to.contain('imagecache.kubefledged.io/imagecache1 created (server dry run)');
  });

  it('refuses to install a package whose signature does not verify against the given keyring', async () => {
    const other = path.join(work, 'other-key');
    await run('hack/chart/throwaway-gpg-key.sh', [other, 'not the signer']);
    const err = await runFails(helm(), ['install', release, tgz, '--verify', '--keyring', path.join(other, 'pubring.gpg'), '-n', ns, '--kubeconfig', process.env.KUBECONFIG ?? path.join(ROOT, '.cluster', 'kubeconfig')]);
    expect(err).to.match(/signature made by unknown entity|verif/i);
    const { stdout } = await helmRun(['list', '-n', ns, '-q']);
    expect(stdout.trim()).to.equal('');
  });

  it('installs the signed package with helm install --verify --wait: both Deployments available under Pod Security restricted', async () => {
    const { stdout } = await helmRun(['install', release, tgz, '--verify', '--keyring', pubring, '-n', ns, '-f', valuesFile, '--wait', '--timeout', '5m']);
    expect(stdout).to.contain('Kube-fledged installed successfully.');
    expect(stdout).to.contain(`Controller:     ${fullname}-controller`);
    for (const suffix of ['controller', 'webhook-server']) {
      const d = await eventually(`${suffix} rolled out`, () => rolledOut(suffix), 60_000, 500);
      expect(d.status?.availableReplicas, suffix).to.equal(1);
    }
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: `app.kubernetes.io/instance=${release}` });
    expect(pods.items.map((p) => p.metadata?.labels?.kubefledged).sort()).to.deep.equal(['kubefledged-controller', 'kubefledged-webhook-server']);
  });

  it('the webhook server, started with the Deployment args and the chart ServiceAccount token, fills the TLS Secret and the caBundle', async () => {
    const d = await deployment('webhook-server');
    const c = d.spec!.template.spec!.containers[0]!;
    const port = await freePort();
    const sa = await serviceAccountKubeconfig(kc, ns, `${fullname}-webhook-server`);
    kubeconfigs.push(sa);
    const args = withFlag(withFlag(c.args!, 'port', String(port)), 'host', '127.0.0.1');
    const proc = new EntrypointProcess('webhook-server', [...args, `--kubeconfig=${sa}`], { KUBEFLEDGED_NAMESPACE: ns }).start();
    processes.push(proc);
    const secret = await eventually(
      'the TLS Secret to be filled',
      async () => {
        if (!proc.running()) throw new Error(`webhook server exited\n${proc.dump()}`);
        const s = await core.readNamespacedSecret({ name: `${fullname}-webhook-server-cert`, namespace: ns });
        return s.data?.['tls.crt'] && s.data['ca.crt'] ? s : undefined;
      },
      60_000,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.dump()}`);
    });
    expect(Object.keys(secret.data!).sort()).to.deep.equal(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    await eventually(
      'the caBundle to equal the CA of the Secret',
      async () => {
        const vwc = await admission.readValidatingWebhookConfiguration({ name: `${fullname}-webhook-server` });
        return vwc.webhooks?.[0]?.clientConfig.caBundle === secret.data!['ca.crt'];
      },
      30_000,
      500,
    );
    const ca = Buffer.from(secret.data!['ca.crt']!, 'base64').toString();
    const ready = await eventually('/readyz', async () => {
      const r = await httpsGet(port, '/readyz', ca, `${fullname}-webhook-server.${ns}.svc`);
      return r.status === 200 ? r : undefined;
    }, 30_000, 500);
    expect(ready.body).to.equal('ok');
    // Stopped, so that the upgrade below shows that helm itself keeps the Secret and the caBundle.
    await proc.stop();
  });

  it('the controller, started with the Deployment args and the chart ServiceAccount token, takes the Lease and caches an image', async () => {
    const d = await deployment('controller');
    const c = d.spec!.template.spec!.containers[0]!;
    const env: Record<string, string> = { KUBEFLEDGED_NAMESPACE: ns, POD_NAME: 'e2e-controller' };
    for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    expect(Object.keys(env).sort()).to.deep.equal(['BUSYBOX_IMAGE', 'KUBEFLEDGED_CRI_CLIENT_IMAGE', 'KUBEFLEDGED_NAMESPACE', 'POD_NAME']);
    const sa = await serviceAccountKubeconfig(kc, ns, `${fullname}-controller`);
    kubeconfigs.push(sa);
    const port = await freePort();
    const args = withFlag(c.args!, 'metrics-bind-address', `127.0.0.1:${port}`);
    const proc = new EntrypointProcess('controller', [...args, `--kubeconfig=${sa}`], env).start();
    processes.push(proc);
    const lease = await eventually(
      'the chart Lease to get a holder',
      async () => {
        if (!proc.running()) throw new Error(`controller exited\n${proc.dump()}`);
        const l = await coordination.readNamespacedLease({ name: `${fullname}-controller`, namespace: ns });
        return l.spec?.holderIdentity ? l : undefined;
      },
      60_000,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.dump()}`);
    });
    expect(lease.metadata?.labels).to.include({ 'app.kubernetes.io/instance': release });
    await caches.create(ns, 'install-e2e', { cacheSpec: [{ images: ['docker.io/library/busybox:1.36.1'], nodeSelector: { 'kubernetes.io/hostname': 'kwok-node-0' } }] });
    const done = await caches.waitFinal(ns, 'install-e2e', 'ImageCacheCreate', { timeoutMs: 120_000 }).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.dump()}`);
    });
    expect(done.status?.status, JSON.stringify(done.status)).to.equal('Succeeded');
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.status).to.equal(200);
    await caches.delete(ns, 'install-e2e');
    await proc.stop();
  });

  it('helm upgrade --set args.controllerImageCacheRefreshFrequency=5m rolls the controller with the new flag and keeps the webhook certificate', async () => {
    const before = await deployment('controller');
    const argsBefore = before.spec!.template.spec!.containers[0]!.args!;
    expect(argsBefore).to.include('--image-cache-refresh-frequency=15m');
    const secretBefore = (await core.readNamespacedSecret({ name: `${fullname}-webhook-server-cert`, namespace: ns })).data;
    const caBundleBefore = (await admission.readValidatingWebhookConfiguration({ name: `${fullname}-webhook-server` })).webhooks?.[0]?.clientConfig.caBundle;
    const webhookGeneration = (await deployment('webhook-server')).metadata?.generation;
    expect(caBundleBefore).to.be.a('string').and.not.equal('');

    await helmRun(['upgrade', release, tgz, '--verify', '--keyring', pubring, '-n', ns, '--reuse-values', '--set', 'args.controllerImageCacheRefreshFrequency=5m', '--wait', '--timeout', '5m']);

    const after = await eventually('controller rolled out', () => rolledOut('controller'), 60_000, 500);
    const argsAfter = after.spec!.template.spec!.containers[0]!.args!;
    expect(argsAfter.filter((a) => !argsBefore.includes(a))).to.deep.equal(['--image-cache-refresh-frequency=5m']);
    expect(argsBefore.filter((a) => !argsAfter.includes(a))).to.deep.equal(['--image-cache-refresh-frequency=15m']);
    expect(after.metadata!.generation).to.be.greaterThan(before.metadata!.generation!);
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'kubefledged=kubefledged-controller' });
    const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(live.map((p) => p.spec!.containers[0]!.args)).to.deep.equal([argsAfter]);
    // The webhook is untouched: same pod template, same certificate, same caBundle, with no webhook
    // server running to repair them (the original restored a stale caBundle on every upgrade, #200).
    expect((await deployment('webhook-server')).metadata?.generation).to.equal(webhookGeneration);
    expect((await core.readNamespacedSecret({ name: `${fullname}-webhook-server-cert`, namespace: ns })).data).to.deep.equal(secretBefore);
    expect((await admission.readValidatingWebhookConfiguration({ name: `${fullname}-webhook-server` })).webhooks?.[0]?.clientConfig.caBundle).to.equal(caBundleBefore);
  });

  it('helm uninstall removes every object of the release and leaves only the CRD', async () => {
    const { stdout: manifest } = await helmRun(['get', 'manifest', release, '-n', ns]);
    const objects: K8sObject[] = parseObjects(manifest);
    expect(objects.length).to.be.greaterThan(15);
    await helmRun(['uninstall', release, '-n', ns, '--wait', '--timeout', '5m']);
    const client = k8s.KubernetesObjectApi.makeApiClient(kc);
    for (const o of objects) {
      await eventually(`${o.kind} ${o.metadata.name} deleted`, async () => {
        try {
          await client.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace ?? '' } });
          return false;
        } catch (err) {
          if (isNotFound(err)) return true;
          throw err;
        }
      }, 60_000, 500);
    }
    for (const kind of ['clusterrole', 'clusterrolebinding', 'validatingwebhookconfiguration']) {
      expect(await kubectl(['get', kind, '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name'])).to.equal('');
    }
    const left = await kubectl(['get', 'all,secrets,serviceaccounts,roles,rolebindings,leases,poddisruptionbudgets', '-n', ns, '-l', 'app=kubefledged', '-o', 'name']);
    expect(left).to.equal('');
    await kubectl(['get', 'crd', 'imagecaches.kubefledged.io']);
  });
});
