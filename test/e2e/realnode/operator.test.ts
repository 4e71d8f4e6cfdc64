// make deploy-using-operator on the real node, for real: kubefledged-operator runs as a pod from the
// project's image (pinned to the real node with OPERATOR_NODE_SELECTOR), renders the chart with the helm
// the image ships, and installs the controller and webhook server, which run on the real node too; an edit
// of the spec rolls the controller with the new flag; make remove-kubefledged-and-operator leaves the
// cluster as before. The project's image is in the local registry under its default name
// (test/e2e/realnode/in-cluster.test.ts pushes it; this file does too when run alone).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { ROOT, adminKubeConfig, eventually, kubectl, uniqueName } from '../../support/cluster.js';
import { run } from '../install/support/install-env.js';
import { GROUP, PLURAL, VERSION, type KubeFledged } from '../../../src/kfoperator/kubefledged.js';
import { buildAndPushProjectImage, projectImage, realNode, realNodeEnv, type RealNode } from './support/real-node.js';

const SAMPLE = path.join(ROOT, 'deploy/kubefledged-operator/deploy/crds/charts.helm.kubefledged.io_v1alpha2_kubefledged_cr.yaml');
const REAL = 'kubefledged.io/real-node';

describe('real node (e2e): make deploy-using-operator runs the operator and what it installs on the real node', function () {
  this.timeout(900_000);
  this.bail(true);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const ns = uniqueName('kfro');
  const release = `${ns}-rel`;
  const fullname = `${release}-kube-fledged`;
  let node: RealNode;
  let dir = '';
  let crFile = '';
  const make = (target: string) => run('make', ['--no-print-directory', target, `KUBEFLEDGED_NAMESPACE=${ns}`, `KUBEFLEDGED_CR=${crFile}`,
    `OPERATOR_NODE_SELECTOR=${REAL}=true`], { timeoutMs: 600_000 });
  const kubefledged = async () => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: release })) as KubeFledged;

  before(async function () {
    this.timeout(1_200_000);
    const env = realNodeEnv();
    node = realNode(env);
    const repo = projectImage().replace(/^docker\.io\//, '').replace(/:[^:]+$/, '');
    const tags = await fetch(`http://${env.registry}/v2/${repo}/tags/list`).then((r) => (r.ok ? r.json() as Promise<{ tags?: string[] }> : { tags: [] }));
    if (!(tags.tags ?? []).includes(projectImage().split(':').at(-1)!)) await buildAndPushProjectImage(env.registry);
    // the sample object, with a unique name, its pods on the real node, and its webhook validating only a
    // namespace of this test (the other suites' ImageCaches are not its business)
    const cr = parse(fs.readFileSync(SAMPLE, 'utf8')) as KubeFledged & { spec: Record<string, unknown> };
    cr.metadata = { ...cr.metadata, name: release };
    cr.spec.nodeSelector = { [REAL]: 'true' };
    cr.spec.args = { ...(cr.spec.args as object), controllerCRISocketPath: node.criSocket, controllerImageCacheRefreshFrequency: '15m' };
    cr.spec.webhookServer = { ...(cr.spec.webhookServer as object), namespaceSelector: { matchLabels: { 'kubefledged.io/e2e-webhook': release } } };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-rn-operator-'));
    crFile = path.join(dir, 'kubefledged.yaml');
    fs.writeFileSync(crFile, stringify(cr));
  });

  after(async () => {
    if (crFile) await make('remove-kubefledged-and-operator').catch(() => undefined);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the operator pod runs the project\'s image on the real node; the release it installs runs there too', async () => {
    await make('deploy-using-operator');
    const op = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'kubefledged=kubefledged-operator' })).items;
    expect(op).to.have.length(1);
    expect(op[0]!.spec?.nodeName).to.equal(node.name);
    expect(op[0]!.spec?.containers[0]?.image).to.equal(projectImage());
    expect(op[0]!.status?.containerStatuses?.[0]?.containerID).to.match(/^containerd:\/\/[0-9a-f]{64}$/);
    const deployed = (await kubefledged()).status?.conditions?.find((c) => c.type === 'Deployed');
    expect(deployed?.status, JSON.stringify(deployed)).to.equal('True');
    for (const component of ['controller', 'webhook-server']) {
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: `app.kubernetes.io/instance=${release},app.kubernetes.io/component=${component}` })).items;
      expect(pods, component).to.have.length(1);
      expect(pods[0]!.spec?.nodeName, component).to.equal(node.name);
      expect(pods[0]!.status?.containerStatuses?.[0]?.ready, component).to.equal(true);
    }
  });

  it('an edit of the spec rolls the controller with the new flag, on the real node', async () => {
    const generation = (await kubefledged()).metadata?.generation ?? 0;
    await custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: release, body: { spec: { args: { controllerImageCacheRefreshFrequency: '5m' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await eventually('Deployed for the edit', async () => (await kubefledged()).status?.conditions?.some((c) => c.type === 'Deployed' && c.status === 'True' && (c.observedGeneration ?? 0) > generation), 120_000, 500);
    const d = await apps.readNamespacedDeployment({ name: `${fullname}-controller`, namespace: ns });
    expect(d.spec!.template.spec!.containers[0]!.args).to.include('--image-cache-refresh-frequency=5m');
    await kubectl(['rollout', 'status', `deployment/${fullname}-controller`, '-n', ns, '--timeout=300s']);
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: `app.kubernetes.io/instance=${release},app.kubernetes.io/component=controller` })).items
      .filter((p) => !p.metadata?.deletionTimestamp);
    expect(pods).to.have.length(1);
    expect(pods[0]!.spec?.nodeName).to.equal(node.name);
    expect(pods[0]!.spec?.containers[0]?.args).to.include('--image-cache-refresh-frequency=5m');
  });

  it('make remove-kubefledged-and-operator leaves no pod, namespace or cluster object of the release', async () => {
    await make('remove-kubefledged-and-operator');
    crFile = '';
    await eventually(`namespace ${ns} gone`, async () => !(await kubectl(['get', 'namespaces', '-o', 'name'])).split('\n').includes(`namespace/${ns}`), 180_000, 1000);
    const left = (await kubectl(['get', 'clusterroles,clusterrolebindings,validatingwebhookconfigurations', '-o', 'name'])).split('\n').filter((n) => n.includes(release) || n.includes('kubefledged-operator'));
    expect(left).to.deep.equal([]);
  });
});
