// make deploy-using-yaml / make remove-kubefledged on the real node, for real: the plain manifests
// (deploy/'s rendering of the chart, with a unique namespace and the node pinned) run the project's
// image on the real node, the controller caches an image into the node's containerd, and
// remove-kubefledged leaves no pod, namespace or CRD. The project's image is in the local registry under
// its default name (test/e2e/realnode/in-cluster.test.ts pushes it; this file does too when run alone).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, eventually, kubectl, uniqueName } from '../../support/cluster.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { plainManifests, renderChart } from '../../../hack/chart/render-manifests.js';
import { helm } from '../../unit/install/support/chart.js';
import { run } from '../install/support/install-env.js';
import { Message, Reason, Status } from '../../../src/api/constants.js';
import { buildAndPushProjectImage, nodeHasImage, projectImage, pushTestImage, realNode, realNodeEnv, type RealNode, type RealNodeEnv } from './support/real-node.js';

const CRD = 'customresourcedefinition.apiextensions.k8s.io/imagecaches.kubefledged.io';

describe('real node (e2e): make deploy-using-yaml / remove-kubefledged run the project\'s image for real', function () {
  this.timeout(900_000);
  this.bail(true);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const caches = new ImageCaches(kc);
  const fullname = uniqueName('kfry');
  const ns = `${fullname}-ns`;
  let env: RealNodeEnv;
  let node: RealNode;
  let dir = '';
  let crdExisted = false;
  const make = (target: string) => run('make', ['--no-print-directory', target, `DEPLOY_DIR=${dir}`, `KUBEFLEDGED_NAMESPACE=${ns}`], { timeoutMs: 600_000 });

  before(async function () {
    this.timeout(1_200_000);
    env = realNodeEnv();
    node = realNode(env);
    const repo = projectImage().replace(/^docker\.io\//, '').replace(/:[^:]+$/, '');
    const tags = await fetch(`http://${env.registry}/v2/${repo}/tags/list`).then((r) => (r.ok ? r.json() as Promise<{ tags?: string[] }> : { tags: [] }));
    if (!(tags.tags ?? []).includes(projectImage().split(':').at(-1)!)) await buildAndPushProjectImage(env.registry);
    await pushTestImage(`${env.registry}/senthilrch/busybox:1.35.0`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-rn-yaml-'));
    const files = plainManifests(renderChart(helm(), {
      namespace: ns,
      fullname,
      set: [`nodeSelector.kubernetes\\.io/hostname=${node.name}`, `args.controllerCRISocketPath=${node.criSocket}`],
    }), ns);
    for (const [name, content] of files) fs.writeFileSync(path.join(dir, name), content);
    crdExisted = (await kubectl(['get', 'crd', '-o', 'name'])).split('\n').includes(CRD);
  });

  after(async () => {
    if (dir) await make('remove-kubefledged').catch(() => undefined);
    if (crdExisted) await ensureCrd().catch(() => undefined);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('make deploy-using-yaml: controller and webhook server Running on the real node from the project\'s image', async () => {
    const manifest = fs.readFileSync(path.join(dir, 'kubefledged-deployment-controller.yaml'), 'utf8');
    expect(manifest).to.contain(`image: "${projectImage()}"`);
    expect(manifest).to.contain(`kubernetes.io/hostname: ${node.name}`);
    await make('deploy-using-yaml');
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=kubefledged' })).items;
    expect(pods.map((p) => p.metadata?.labels?.kubefledged).sort()).to.deep.equal(['kubefledged-controller', 'kubefledged-webhook-server']);
    for (const p of pods) {
      expect(p.spec?.nodeName).to.equal(node.name);
      expect(p.status?.containerStatuses?.[0]?.containerID).to.match(/^containerd:\/\/[0-9a-f]{64}$/);
      expect(p.status?.containerStatuses?.[0]?.ready).to.equal(true);
    }
  });

  it('the controller it installed caches an image into the node\'s containerd', async () => {
    const image = await pushTestImage(`${env.registry}/kf-e2e/yaml:${uniqueName('t')}`, [48]);
    await caches.create(ns, 'yaml', { cacheSpec: [{ images: [image], nodeSelector: { 'kubefledged.io/real-node': 'true' } }] });
    const done = await caches.waitFinal(ns, 'yaml', Reason.ImageCacheCreate, { timeoutMs: 300_000 });
    expect(done.status?.status, JSON.stringify(done.status)).to.equal(Status.Succeeded);
    expect(done.status?.message).to.equal(Message.ImagesPulledSuccessfully);
    expect(await nodeHasImage(node, image)).to.equal(true);
  });

  it('make remove-kubefledged leaves no pod, no namespace and no CRD', async () => {
    await make('remove-kubefledged');
    await eventually(`namespace ${ns} gone`, async () => {
      const names = (await kubectl(['get', 'namespaces', '-o', 'name'])).split('\n');
      return !names.includes(`namespace/${ns}`);
    }, 180_000, 1000);
    expect((await kubectl(['get', 'crd', '-o', 'name'])).split('\n')).not.to.include(CRD);
    const left = (await core.listPodForAllNamespaces({ labelSelector: 'app=kubefledged' })).items.filter((p) => p.metadata?.namespace === ns);
    expect(left).to.deep.equal([]);
  });
});
