// The whole chain on a real node (make cluster-up REAL_NODES=1): the project's image built here with
// buildah, `helm install` of the chart with its default image names (the node's containerd mirrors
// docker.io to the local registry), controller and webhook server Running on the real node in a
// namespace that enforces Pod Security "restricted", the webhook reached through its Service; then real
// images (several small ones with real layers, one of at least 100 MB) cached, a missing tag failing with
// the kubelet's reason, an edit adding and removing images, a refresh that pulls again, a purge whose
// delete Job runs the project's CRI client on the node, helm upgrade rolling the controller, and helm
// uninstall leaving no pod. Every image check reads the node's containerd through CRI.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, kubectl, uniqueName } from '../../support/cluster.js';
import { ImageCaches } from '../../support/imagecaches.js';
import { CHART_DIR } from '../../../hack/chart/helm-binary.js';
import { helmRun } from '../install/support/install-env.js';
import { Annotation, Message, Reason, Status } from '../../../src/api/constants.js';
import {
  buildAndPushProjectImage, criImages, nodeHasImage, pushTestImage, realNode, realNodeEnv, registryLog,
  type RealNode, type RealNodeEnv,
} from './support/real-node.js';

const RELEASE = 'kf';
const REAL = { 'kubefledged.io/real-node': 'true' };

describe('real node (e2e): the chart on the real node, real pulls and purges', function () {
  this.timeout(900_000);
  this.bail(true); // one story: each step needs the one before
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  const caches = new ImageCaches(kc);
  let env: RealNodeEnv;
  let node: RealNode;
  let ns = '';
  let project = '';
  const img: Record<'a' | 'b' | 'c' | 'big', string> = { a: '', b: '', c: '', big: '' };
  let installed = false;

  const releasePods = async (component?: string) => (await core.listNamespacedPod({
    namespace: ns, labelSelector: `app.kubernetes.io/instance=${RELEASE}${component ? `,app.kubernetes.io/component=${component}` : ''}`,
  })).items;
  const has = (ref: string) => nodeHasImage(node, ref);

  before(async function () {
    this.timeout(1_200_000);
    env = realNodeEnv();
    node = realNode(env);
    const r = env.registry;
    project = await buildAndPushProjectImage(r);
    // the pull Jobs' init container: BUSYBOX_IMAGE's default, served through the docker.io mirror
    await pushTestImage(`${r}/senthilrch/busybox:1.35.0`);
    // a tag of this run: the images are absent from the node at the start, whatever ran before
    const tag = uniqueName('run');
    img.a = await pushTestImage(`${r}/kf-e2e/small-a:${tag}`, [64, 256]);
    img.b = await pushTestImage(`${r}/kf-e2e/small-b:${tag}`, [128, 32]);
    img.c = await pushTestImage(`${r}/kf-e2e/small-c:${tag}`, [96]);
    img.big = await pushTestImage(`${r}/kf-e2e/big:${tag}`, [56_320, 56_320]); // 110 MiB of incompressible layers
    ns = await createNamespace(core, 'kf-rn', {
      'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest',
    });
  });

  after(async () => {
    if (installed) await helmRun(['uninstall', RELEASE, '-n', ns, '--wait']).catch(() => undefined);
    if (ns) await deleteNamespace(core, ns);
  });

  it('helm install: controller and webhook server run the project\'s image on the real node under Pod Security "restricted"', async () => {
    for (const ref of Object.values(img)) expect(await has(ref), `${ref} absent before`).to.equal(false);
    await helmRun(['install', RELEASE, CHART_DIR, '-n', ns, '--wait', '--timeout', '5m',
      '--set-string', 'nodeSelector.kubefledged\\.io/real-node=true',
      '--set', `args.controllerCRISocketPath=${node.criSocket}`,
      '--set', 'args.controllerImageCacheRefreshFrequency=0s',
      // a missing tag fails when the pull Job's deadline passes (the original's semantics): keep it short
      '--set', 'args.controllerImagePullDeadlineDuration=45s',
      // the image's bundled watch thread (dist/bundle/watch-thread-worker.js) reads the Jobs and pods
      // of every step below (auto would keep them on the main thread on this small cluster)
      '--set', 'args.controllerWatchThread=always'], 600_000);
    installed = true;
    for (const component of ['controller', 'webhook-server']) {
      const pods = await releasePods(component);
      expect(pods, component).to.have.length(1);
      const p = pods[0]!;
      expect(p.spec?.nodeName, component).to.equal(node.name);
      expect(p.status?.phase, component).to.equal('Running');
      const c = p.status?.containerStatuses?.[0];
      expect(c?.ready, component).to.equal(true);
      expect(c?.containerID, component).to.match(/^containerd:\/\/[0-9a-f]{64}$/);
      expect(p.spec?.containers[0]?.image, component).to.equal(project);
    }
    const onNode = (await criImages(node)).flatMap((i) => i.repoTags);
    expect(onNode, 'the project\'s image in the node\'s containerd').to.include(project);
    // the leader is ready once its Jobs and pods have listed, here through the image's bundled watch
    // thread (the real node's kubelet serves no logs to this API server: no node address)
    const controller = (await releasePods('controller'))[0]!;
    expect(controller.spec?.containers[0]?.args).to.include('--watch-thread=always');
    expect(controller.status?.containerStatuses?.[0]?.ready).to.equal(true);
  });

  it('the API server calls the webhook through its Service (no URL) and the webhook refuses a bad ImageCache', async () => {
    const vwc = (await admission.listValidatingWebhookConfiguration()).items.find((w) => w.metadata?.name?.startsWith(`${RELEASE}-`));
    const hook = vwc?.webhooks?.[0];
    expect(hook?.clientConfig.url, 'no URL bypass').to.equal(undefined);
    expect(hook?.clientConfig.service?.namespace).to.equal(ns);
    const bad = { apiVersion: 'kubefledged.io/v1alpha2', kind: 'ImageCache', metadata: { name: 'dup', namespace: ns },
      spec: { cacheSpec: [{ images: [img.a, img.a], nodeSelector: REAL }] } };
    const err = await kubectl(['create', '-f', '-'], JSON.stringify(bad)).then(() => '', (e: Error) => e.message);
    expect(err).to.contain('admission webhook');
    expect(err).to.contain('Duplicate image names within image list');
  });

  it('create: the images land in the node\'s containerd and the cache is Succeeded', async () => {
    await caches.create(ns, 'real', { cacheSpec: [{ images: [img.a, img.b, img.big], nodeSelector: REAL }] });
    const done = await caches.waitFinal(ns, 'real', Reason.ImageCacheCreate, { timeoutMs: 300_000 });
    expect(done.status?.status, JSON.stringify(done.status)).to.equal(Status.Succeeded);
    expect(done.status?.message).to.equal(Message.ImagesPulledSuccessfully);
    for (const ref of [img.a, img.b, img.big]) expect(await has(ref), ref).to.equal(true);
    const big = (await criImages(node)).find((i) => i.repoTags.includes(img.big));
    expect(big?.size ?? 0, 'the big image\'s size').to.be.greaterThan(100 * 1024 * 1024);
  });

  it('a tag that does not exist: Failed, with the kubelet\'s reason and message in failures', async () => {
    const missing = `${env.registry}/kf-e2e/small-a:does-not-exist`;
    await caches.create(ns, 'missing', { cacheSpec: [{ images: [missing], nodeSelector: REAL }] });
    const done = await caches.waitFinal(ns, 'missing', Reason.ImageCacheCreate, { timeoutMs: 180_000 });
    expect(done.status?.status, JSON.stringify(done.status)).to.equal(Status.Failed);
    const failures = done.status?.failures?.[missing];
    expect(failures, JSON.stringify(done.status)).to.have.length(1);
    expect(failures![0]!.node).to.equal(node.name);
    expect(failures![0]!.reason).to.be.oneOf(['ErrImagePull', 'ImagePullBackOff']);
    expect(failures![0]!.message).to.match(/not found/);
    expect(await has(missing)).to.equal(false);
  });

  it('edit: an added image is pulled and a removed one deleted, for real', async () => {
    // Delete Jobs mount the runtime socket (hostPath) and run as root, which Pod Security "restricted"
    // (and "baseline") refuses: "violates PodSecurity "restricted:latest": restricted volume types
    // (volume "cri-socket-dir" uses restricted volume type "hostPath"), runAsNonRoot != true ...", and the
    // cache then stays Processing. So the namespace is relaxed from here on (pull Jobs, the controller and
    // the webhook server ran under "restricted" above). See docs/install.md.
    await kubectl(['label', 'namespace', ns, '--overwrite', 'pod-security.kubernetes.io/enforce=privileged']);
    const before = new Date();
    await caches.setImages(ns, 'real', [{ images: [img.a, img.c, img.big], nodeSelector: REAL }]);
    const done = await caches.waitFinal(ns, 'real', Reason.ImageCacheUpdate, { timeoutMs: 300_000, notBefore: before });
    expect(done.status?.status, JSON.stringify(done.status)).to.equal(Status.Succeeded);
    expect(await has(img.c), 'added').to.equal(true);
    expect(await has(img.b), 'removed').to.equal(false);
    expect(await has(img.a), 'kept').to.equal(true);
  });

  it('helm upgrade --set rolls the controller; with --image-pull-policy=Always a refresh pulls again', async () => {
    const old = (await releasePods('controller'))[0]!.metadata!.name!;
    await helmRun(['upgrade', RELEASE, CHART_DIR, '-n', ns, '--reuse-values', '--wait', '--timeout', '5m',
      '--set', 'args.controllerImagePullPolicy=Always'], 600_000);
    const fresh = await eventually('the new controller pod alone, Ready', async () => {
      const pods = (await releasePods('controller')).filter((p) => !p.metadata?.deletionTimestamp);
      const p = pods[0];
      return pods.length === 1 && p!.metadata!.name !== old && p!.status?.containerStatuses?.[0]?.ready ? p : undefined;
    }, 180_000, 1000);
    expect(fresh.spec?.nodeName).to.equal(node.name);
    expect(fresh.spec?.containers[0]?.args).to.include('--image-pull-policy=Always');
    const manifestPath = `/v2/kf-e2e/small-a/manifests/${img.a.split(':').at(-1)}`;
    const manifestGets = () => registryLog().split('\n').filter((l) => l.includes(manifestPath)).length;
    const seen = manifestGets();
    const before = new Date();
    await caches.annotate(ns, 'real', Annotation.Refresh);
    const done = await caches.waitFinal(ns, 'real', Reason.ImageCacheRefresh, { timeoutMs: 300_000, notBefore: before });
    expect(done.status?.status, JSON.stringify(done.status)).to.equal(Status.Succeeded);
    expect(manifestGets(), 'the registry served small-a\'s manifest again').to.be.greaterThan(seen);
  });

  it('purge: the delete Job runs the project\'s CRI client on the node and the images are gone', async () => {
    const before = new Date();
    await caches.annotate(ns, 'real', Annotation.Purge);
    const deletePod = await eventually('a delete Job pod', async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'kubefledged=kubefledged-image-manager' })).items;
      return pods.find((p) => p.spec?.containers.some((c) => c.command?.[0] === '/opt/bin/kubefledged-cri-client'));
    }, 120_000, 300);
    expect(deletePod.spec?.nodeName ?? deletePod.spec?.nodeSelector?.['kubernetes.io/hostname']).to.equal(node.name);
    for (const c of deletePod.spec!.containers) expect(c.image).to.equal(project);
    const done = await caches.waitFinal(ns, 'real', Reason.ImageCachePurge, { timeoutMs: 300_000, notBefore: before });
    expect(done.status?.status, JSON.stringify(done.status)).to.equal(Status.Succeeded);
    for (const ref of [img.a, img.c, img.big]) expect(await has(ref), `${ref} purged`).to.equal(false);
  });

  it('helm uninstall leaves no pod of the release', async () => {
    await caches.delete(ns, 'real').catch(() => undefined);
    await caches.delete(ns, 'missing').catch(() => undefined);
    await helmRun(['uninstall', RELEASE, '-n', ns, '--wait'], 300_000);
    installed = false;
    await eventually('no release pod left', async () => (await releasePods()).length === 0, 120_000, 500);
  });
});
