// The operator install path on the local cluster (kwok runs the pods): make deploy-using-operator with
// kubefledged-operator started as a process with the operator ServiceAccount's token (the RBAC of
// deploy/kubefledged-operator/, not cluster-admin), in a namespace that enforces Pod Security
// "restricted"; then an edit of the spec rolls the controller, bad values leave the release untouched,
// a changed spec prunes, deleting the object removes the release, and make
// remove-kubefledged-and-operator leaves the cluster as before.
// The KubeFledged object is the sample of deploy/kubefledged-operator/ with a unique name, the webhook
// configuration matching no namespace (kwok's webhook pod serves nothing) and the pods on a node that runs them.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { ROOT, adminKubeConfig, eventually, kubectl, uniqueName } from '../../support/cluster.js';
import { helm, render } from '../../unit/install/support/chart.js';
import { EntrypointProcess, removeKubeconfig, run, serviceAccountKubeconfig } from '../install/support/install-env.js';
import { GROUP, OWNER_NAME_LABEL, PLURAL, VERSION, type KubeFledged } from '../../../src/kfoperator/kubefledged.js';
import { mergeValues } from '../../../src/kfoperator/release-plan.js';

const SAMPLE = path.join(ROOT, 'deploy/kubefledged-operator/deploy/crds/charts.helm.kubefledged.io_v1alpha2_kubefledged_cr.yaml');
const OPERATOR_CRD = 'customresourcedefinition.apiextensions.k8s.io/kubefledgeds.charts.helm.kubefledged.io';
const IMAGECACHE_CRD = 'customresourcedefinition.apiextensions.k8s.io/imagecaches.kubefledged.io';
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

describe('operator (e2e): make deploy-using-operator / remove-kubefledged-and-operator', function () {
  this.timeout(300_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);

  const ns = uniqueName('kfo');
  const release = `${ns}-rel`;
  const fullname = `${release}-kube-fledged`;
  const e2eValues = {
    webhookServer: { namespaceSelector: { matchLabels: { 'kubefledged.io/e2e-webhook': release } } },
    nodeSelector: { 'kubernetes.io/hostname': 'kwok-node-0' },
  };
  let dir = '';
  let crFile = '';
  let stateBefore: string[] = [];
  let operator: EntrypointProcess | undefined;
  let saKubeconfig: string | undefined;

  /** What these targets touch: our cluster-scoped objects, our namespace, the two CRDs. */
  async function snapshot(): Promise<string[]> {
    const out = await kubectl(['get', 'clusterroles,clusterrolebindings,validatingwebhookconfigurations,customresourcedefinitions,namespaces', '-o', 'name']);
    return out
      .split('\n')
      .filter((n) => n.includes(ns) || n.includes('kubefledged-operator') || n === OPERATOR_CRD || n === IMAGECACHE_CRD)
      .sort();
  }

  function make(target: string): Promise<{ stdout: string }> {
    return run('make', ['--no-print-directory', target, `KUBEFLEDGED_NAMESPACE=${ns}`, `KUBEFLEDGED_CR=${crFile}`], { timeoutMs: 180_000 });
  }

  async function kubefledged(): Promise<KubeFledged> {
    return (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: release })) as KubeFledged;
  }

  async function patchSpec(spec: unknown): Promise<void> {
    await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: release, body: { spec } }, mergePatch);
  }

  /** The Deployed condition once the operator has seen generation `generation`. */
  async function deployedAt(generation: number): Promise<{ obj: KubeFledged; status: string; reason: string; message: string }> {
    return eventually(`Deployed condition for generation ${generation}`, async () => {
      if (operator && !operator.running()) throw new Error(`the operator exited\n${operator.dump()}`);
      const obj = await kubefledged();
      const c = obj.status?.conditions?.find((x) => x.type === 'Deployed');
      return c && c.observedGeneration === generation ? { obj, status: c.status, reason: c.reason, message: c.message } : undefined;
    }, 60_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${operator?.dump() ?? ''}`);
    });
  }

  /** The controller Deployment's args and spec generation (status updates of a rollout do not count). */
  async function controllerArgs(): Promise<{ args: string[]; generation: number }> {
    const d = await apps.readNamespacedDeployment({ name: `${fullname}-controller`, namespace: ns });
    return { args: d.spec!.template.spec!.containers[0]!.args!, generation: d.metadata!.generation! };
  }

  /** Every object labelled as this release's, of the kinds the chart renders. */
  async function ownedObjects(): Promise<string[]> {
    const sel = `${OWNER_NAME_LABEL}=${release}`;
    const namespaced = await kubectl(['get', 'deployments,services,serviceaccounts,secrets,roles,rolebindings,leases,poddisruptionbudgets', '-n', ns, '-l', sel, '-o', 'name']).catch(() => '');
    const cluster = await kubectl(['get', 'clusterroles,clusterrolebindings,validatingwebhookconfigurations', '-l', sel, '-o', 'name']);
    return `${namespaced}\n${cluster}`.split('\n').filter((l) => l !== '');
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-operator-e2e-'));
    const sample = parse(fs.readFileSync(SAMPLE, 'utf8')) as KubeFledged;
    sample.metadata.name = release; // namespace stays kube-fledged: the Makefile points it at $(KUBEFLEDGED_NAMESPACE)
    sample.spec = mergeValues(sample.spec, e2eValues);
    crFile = path.join(dir, 'kubefledged.yaml');
    fs.writeFileSync(crFile, stringify(sample));
    stateBefore = await snapshot();
  });

  after(async () => {
    if (crFile) await make('remove-kubefledged-and-operator').catch(() => undefined);
    await operator?.stop();
    removeKubeconfig(saKubeconfig);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('make deploy-using-operator: the operator (restricted namespace, its own ServiceAccount) installs kube-fledged and reports Deployed', async () => {
    // A user's namespace that enforces Pod Security "restricted": pods that break it are never created.
    await core.createNamespace({ body: { metadata: { name: ns, labels: { 'kubefledged.io/test': 'true', 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } } } });
    const tree = await run('git', ['status', '--porcelain', '--', 'deploy', 'helm']);
    const deploying = make('deploy-using-operator');
    deploying.catch(() => undefined);
    // kwok plays the operator's pod; the operator itself runs here, with the token of the ServiceAccount the target created.
    await eventually('the operator ServiceAccount', async () => core.readNamespacedServiceAccount({ name: 'kubefledged-operator', namespace: ns }), 60_000, 250);
    saKubeconfig = await serviceAccountKubeconfig(kc, ns, 'kubefledged-operator');
    operator = new EntrypointProcess('kubefledged-operator', [`--kubeconfig=${saKubeconfig}`, '--resync-period=20s'], { WATCH_NAMESPACE: ns, HELM_BINARY: helm() }).start();
    const { stdout } = await deploying.catch((err: Error) => {
      throw new Error(`${err.message}\n${operator!.dump()}`);
    });
    expect(stdout).to.contain('deployment "kubefledged-operator" successfully rolled out');
    expect(stdout).to.contain(`kubefledged.charts.helm.kubefledged.io/${release} condition met`);
    expect(stdout).to.contain(`deployment "${fullname}-controller" successfully rolled out`);
    expect(stdout).to.contain(`deployment "${fullname}-webhook-server" successfully rolled out`);
    expect((await run('git', ['status', '--porcelain', '--', 'deploy', 'helm'])).stdout, 'the working tree is unmodified').to.equal(tree.stdout);

    const { obj, status, reason, message } = await deployedAt(1);
    expect([status, reason]).to.deep.equal(['True', 'InstallSuccessful']);
    expect(message).to.match(/^\d+ objects of kube-fledged-v[\d.]+ applied$/);
    expect(obj.status!.valuesHash).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(obj.metadata.finalizers).to.include('charts.helm.kubefledged.io/uninstall-release');

    // the Deployments are the chart's, with the chart's args for these values
    const expected = (await render(obj.spec as Record<string, unknown>, release, ns)).objects;
    for (const suffix of ['controller', 'webhook-server']) {
      const d = await apps.readNamespacedDeployment({ name: `${fullname}-${suffix}`, namespace: ns });
      const want = expected.find((o) => o.kind === 'Deployment' && o.metadata.name === `${fullname}-${suffix}`) as unknown as k8s.V1Deployment;
      expect(d.spec!.template.spec!.containers[0]!.args, suffix).to.deep.equal(want.spec!.template.spec!.containers[0]!.args);
      expect(d.status?.availableReplicas, suffix).to.equal(1);
    }
    expect((await controllerArgs()).args).to.include('--image-cache-refresh-frequency=15m');
    // every pod was admitted under "restricted", the operator's included
    const pods = await core.listNamespacedPod({ namespace: ns });
    expect(pods.items.map((p) => p.metadata!.labels!.kubefledged).sort()).to.deep.equal(['kubefledged-controller', 'kubefledged-operator', 'kubefledged-webhook-server']);
    expect(await ownedObjects()).to.have.length(Number(/^(\d+)/.exec(message)![1]));
    // the original's sample object, unchanged but for its namespace, is accepted as it is
    const sample = fs.readFileSync(SAMPLE, 'utf8').replace(/^ {2}namespace: kube-fledged$/m, `  namespace: ${ns}`);
    expect(await kubectl(['create', '--dry-run=server', '-f', '-'], sample)).to.contain('kubefledged.charts.helm.kubefledged.io/kube-fledged created (server dry run)');
    // the controller's CRD is there; created by the operator (and labelled so) when it was missing
    const crd = JSON.parse(await kubectl(['get', IMAGECACHE_CRD, '-o', 'json'])) as { metadata: { labels?: Record<string, string> } };
    if (!stateBefore.includes(IMAGECACHE_CRD)) expect(crd.metadata.labels).to.include({ 'charts.helm.kubefledged.io/owner-namespace': ns });
  });

  it('editing the spec (controllerImageCacheRefreshFrequency) rolls the controller Deployment with the new flag', async () => {
    const before = (await kubefledged()).status!.valuesHash;
    await patchSpec({ args: { controllerImageCacheRefreshFrequency: '5m' } });
    const { obj, status, reason } = await deployedAt(2);
    expect([status, reason]).to.deep.equal(['True', 'UpgradeSuccessful']);
    expect(obj.status!.valuesHash).not.to.equal(before);
    const { args } = await controllerArgs();
    expect(args).to.include('--image-cache-refresh-frequency=5m').and.not.include('--image-cache-refresh-frequency=15m');
    await eventually('the controller rolled out', async () => {
      const d = await apps.readNamespacedDeployment({ name: `${fullname}-controller`, namespace: ns });
      return d.status?.observedGeneration === d.metadata?.generation && d.status?.updatedReplicas === 1 && d.status?.availableReplicas === 1;
    }, 60_000, 500);
  });

  it('a restarted operator restores what was changed behind its back (startup list, level-based reconcile)', async () => {
    const stopped = Date.now();
    await operator!.stop(); // SIGTERM: drains the reconciles in flight and exits
    expect(operator!.running()).to.equal(false);
    expect(Date.now() - stopped, 'exits on SIGTERM without being killed').to.be.lessThan(10_000);
    await apps.deleteNamespacedDeployment({ name: `${fullname}-controller`, namespace: ns });
    operator = new EntrypointProcess('kubefledged-operator', [`--kubeconfig=${saKubeconfig}`, '--resync-period=20s'], { WATCH_NAMESPACE: ns, HELM_BINARY: helm() }).start();
    const { args } = await eventually('the controller Deployment restored', () => controllerArgs().catch(() => undefined), 60_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${operator!.dump()}`);
    });
    expect(args).to.include('--image-cache-refresh-frequency=5m');
  });

  it('bad values: Deployed=False naming the value, nothing applied, the running release untouched', async () => {
    const before = await controllerArgs();
    const hash = (await kubefledged()).status!.valuesHash;

    // refused by the chart's schema
    await patchSpec({ args: { controllerImageCacheRefreshFrequency: 'soon' } });
    const schema = await deployedAt(3);
    expect([schema.status, schema.reason]).to.deep.equal(['False', 'InvalidValues']);
    expect(schema.message).to.contain('/args/controllerImageCacheRefreshFrequency').and.contain("'soon'");

    // accepted by helm, refused by the API server for the last object applied (the webhook
    // configuration): the controller's new refresh frequency of the same edit must not be applied either
    await patchSpec({ args: { controllerImageCacheRefreshFrequency: '7m' }, webhookServer: { namespaceSelector: { matchLabels: { 'kubefledged.io/e2e-webhook': true } } } });
    const dry = await deployedAt(4);
    expect([dry.status, dry.reason]).to.deep.equal(['False', 'DryRunFailed']);
    expect(dry.message).to.contain('ValidatingWebhookConfiguration').and.contain('namespaceSelector.matchLabels.kubefledged.io/e2e-webhook').and.contain('nothing applied');
    expect(dry.obj.status!.valuesHash, 'the hash of the release still running').to.equal(hash);
    expect(await controllerArgs(), 'the controller Deployment is untouched').to.deep.equal(before);

    // fixed: deployed again
    await patchSpec({ args: { controllerImageCacheRefreshFrequency: '5m' }, webhookServer: { namespaceSelector: { matchLabels: { 'kubefledged.io/e2e-webhook': release } } } });
    const fixed = await deployedAt(5);
    expect(fixed.status).to.equal('True');
    expect(fixed.obj.status!.valuesHash).to.equal(hash);
  });

  it('a spec that no longer renders an object prunes it (webhookServer.enable=false removes the webhook server)', async () => {
    await patchSpec({ webhookServer: { enable: false } });
    const { status, message } = await deployedAt(6);
    expect(status).to.equal('True');
    expect(message).to.contain('pruned').and.contain(`ValidatingWebhookConfiguration ${fullname}-webhook-server`);
    const owned = await ownedObjects();
    expect(owned.filter((n) => n.includes('webhook-server'))).to.deep.equal([]);
    expect(owned).to.include(`deployment.apps/${fullname}-controller`);
  });

  it('deleting the KubeFledged object removes every object of the release (finalizer)', async () => {
    await kubectl(['delete', 'kubefledgeds', release, '-n', ns, '--timeout=60s']);
    expect(await ownedObjects()).to.deep.equal([]);
    const left = await apps.listNamespacedDeployment({ namespace: ns });
    expect(left.items.map((d) => d.metadata!.name)).to.deep.equal(['kubefledged-operator']);
  });

  it('make deploy-using-operator again installs it again; make remove-kubefledged-and-operator leaves the cluster as before', async () => {
    const { stdout } = await make('deploy-using-operator');
    expect(stdout).to.contain(`kubefledged.charts.helm.kubefledged.io/${release} condition met`);
    expect((await ownedObjects()).length).to.be.greaterThan(10);
    await make('remove-kubefledged-and-operator');
    expect(await ownedObjects()).to.deep.equal([]);
    await eventually('the namespace and cluster-scoped objects gone', async () => {
      const now = await snapshot();
      return JSON.stringify(now) === JSON.stringify(stateBefore) ? now : undefined;
    }, 120_000, 1000).catch(async (err: Error) => {
      throw new Error(`${err.message}: before ${JSON.stringify(stateBefore)}, now ${JSON.stringify(await snapshot())}`);
    });
  });
});
