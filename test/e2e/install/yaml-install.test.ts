// The plain-manifest path users type (spec §5.3): make deploy-using-yaml, again (idempotent, keeps the
// webhook certificate), make update, make remove-kubefledged, and the cluster is as before.
// The manifests are deploy/'s rendering (same chart, same code path as `make manifests`) with unique
// names and namespace, so that parallel tests on the shared cluster never collide: DEPLOY_DIR and
// KUBEFLEDGED_NAMESPACE point the Makefile at them. Only the CRD is shared: remove-kubefledged deletes
// it (with every ImageCache), so the test waits until no other test holds ImageCaches, and puts the CRD
// back afterwards when it was there before.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, eventually, kubectl, uniqueName } from '../../support/cluster.js';
import { ensureCrd } from '../../support/imagecaches.js';
import { plainManifests, renderChart } from '../../../hack/chart/render-manifests.js';
import { helm } from '../../unit/install/support/chart.js';
import { EntrypointProcess, freePort, removeKubeconfig, run, serviceAccountKubeconfig, withFlag } from './support/install-env.js';

const CRD = 'customresourcedefinition.apiextensions.k8s.io/imagecaches.kubefledged.io';

describe('install (e2e): plain manifests with make deploy-using-yaml / remove-kubefledged', function () {
  this.timeout(900_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);

  const fullname = uniqueName('kfy');
  const ns = `${fullname}-ns`;
  let dir = '';
  let stateBefore: string[] = [];
  let crdExisted = false;

  /** The cluster state these targets touch: our cluster-scoped objects, our namespace, the CRD. */
  async function snapshot(): Promise<string[]> {
    const out = await kubectl(['get', 'clusterroles,clusterrolebindings,validatingwebhookconfigurations,customresourcedefinitions,namespaces', '-o', 'name']);
    return out
      .split('\n')
      .filter((n) => n.includes(fullname) || n === CRD)
      .sort();
  }

  function make(target: string): Promise<{ stdout: string }> {
    return run('make', ['--no-print-directory', target, `DEPLOY_DIR=${dir}`, `KUBEFLEDGED_NAMESPACE=${ns}`]);
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-yaml-e2e-'));
    const files = plainManifests(
      renderChart(helm(), {
        namespace: ns,
        fullname,
        set: [
          // the webhook pod is simulated by kwok: its configuration must match no namespace
          `webhookServer.namespaceSelector.matchLabels.kubefledged\\.io/e2e-webhook=${fullname}`,
          // other tests add nodes that never run pods
          'nodeSelector.kubernetes\\.io/hostname=kwok-node-0',
        ],
      }),
      ns,
    );
    for (const [name, content] of files) fs.writeFileSync(path.join(dir, name), content);
    stateBefore = await snapshot();
    crdExisted = stateBefore.includes(CRD);
  });

  after(async () => {
    // whatever happened above: remove our objects, restore the CRD if it was there
    if (dir) await make('remove-kubefledged').catch(() => undefined);
    if (crdExisted) await ensureCrd().catch(() => undefined);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('make deploy-using-yaml installs the controller and the webhook server and waits for both', async () => {
    const { stdout } = await make('deploy-using-yaml');
    expect(stdout).to.match(/deployment "kfy-[^"]+-controller" successfully rolled out/);
    expect(stdout).to.match(/deployment "kfy-[^"]+-webhook-server" successfully rolled out/);
    for (const name of [`${fullname}-controller`, `${fullname}-webhook-server`]) {
      const d = await apps.readNamespacedDeployment({ name, namespace: ns });
      expect(d.status?.availableReplicas, name).to.equal(1);
    }
    await core.readNamespacedSecret({ name: `${fullname}-webhook-server-cert`, namespace: ns });
    await admission.readValidatingWebhookConfiguration({ name: `${fullname}-webhook-server` });
  });

  it('make deploy-using-yaml again changes nothing and keeps the certificate and caBundle the webhook server wrote', async () => {
    // The webhook server's pod is simulated by kwok: run the real program with the Deployment's args
    // and the manifests' ServiceAccount token, and let it fill the Secret and set the caBundle.
    const d = await apps.readNamespacedDeployment({ name: `${fullname}-webhook-server`, namespace: ns });
    const args = withFlag(withFlag(d.spec!.template.spec!.containers[0]!.args!, 'port', String(await freePort())), 'host', '127.0.0.1');
    const sa = await serviceAccountKubeconfig(kc, ns, `${fullname}-webhook-server`);
    const proc = new EntrypointProcess('webhook-server', [...args, `--kubeconfig=${sa}`], { KUBEFLEDGED_NAMESPACE: ns }).start();
    let filled: Record<string, string>;
    let caBundle: string | undefined;
    try {
      filled = await eventually('the webhook server to fill its Secret and set the caBundle', async () => {
        if (!proc.running()) throw new Error('webhook server exited');
        const data = (await core.readNamespacedSecret({ name: `${fullname}-webhook-server-cert`, namespace: ns })).data;
        caBundle = (await admission.readValidatingWebhookConfiguration({ name: `${fullname}-webhook-server` })).webhooks?.[0]?.clientConfig.caBundle;
        return data?.['ca.crt'] && caBundle === data['ca.crt'] ? data : undefined;
      }, 60_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${proc.dump()}`, { cause: err });
    } finally {
      await proc.stop();
      removeKubeconfig(sa);
    }
    const generation = (await apps.readNamespacedDeployment({ name: `${fullname}-controller`, namespace: ns })).metadata?.generation;

    await make('deploy-using-yaml');

    expect((await core.readNamespacedSecret({ name: `${fullname}-webhook-server-cert`, namespace: ns })).data).to.deep.equal(filled);
    const vwc = await admission.readValidatingWebhookConfiguration({ name: `${fullname}-webhook-server` });
    expect(vwc.webhooks?.[0]?.clientConfig.caBundle).to.equal(caBundle);
    expect((await apps.readNamespacedDeployment({ name: `${fullname}-controller`, namespace: ns })).metadata?.generation).to.equal(generation);
  });

  it('make update restarts both Deployments', async () => {
    const podsBefore = (await core.listNamespacedPod({ namespace: ns })).items.map((p) => p.metadata!.name!);
    expect(podsBefore).to.have.length(2);
    await make('update');
    await eventually('new pods for both Deployments', async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => !p.metadata?.deletionTimestamp);
      return pods.length === 2 && pods.every((p) => !podsBefore.includes(p.metadata!.name!));
    }, 60_000, 500);
  });

  it('make remove-kubefledged removes everything it installed, CRD included, and the cluster is as before', async () => {
    if (crdExisted) {
      // The CRD goes, and every ImageCache with it: wait until no other test holds one.
      await eventually('no ImageCache left by other tests (run this test alone if it times out)', async () => {
        const left = await kubectl(['get', 'imagecaches', '-A', '-o', 'name']);
        return left.trim() === '';
      }, 300_000, 2000);
    }
    await make('remove-kubefledged');
    await eventually(`namespace ${ns} deleted`, async () => !(await snapshot()).includes(`namespace/${ns}`), 120_000, 500);
    const after = await snapshot();
    expect(after).to.deep.equal([]);
    if (crdExisted) {
      await ensureCrd();
      expect(await snapshot()).to.deep.equal(stateBefore.filter((n) => n === CRD));
    }
    expect(stateBefore.filter((n) => n !== CRD)).to.deep.equal([]);
  });
});
