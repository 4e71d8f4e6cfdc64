// hack/run-webhook.sh (what `make run` starts): its registration can never lock users out. It uses
// failurePolicy Ignore, so a server killed before it could unregister leaves creates admitted.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { ROOT, adminKubeConfig, createNamespace, deleteNamespace, eventually, kubeconfigPath, uniqueName } from '../../support/cluster.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { freePort } from './webhook-process.js';

describe('hack/run-webhook.sh: the local webhook never locks users out', function () {
  this.timeout(180_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  const ics = new ImageCaches(kc);
  const name = uniqueName('kf-local-webhook');
  let ns: string;

  before(async () => {
    await ensureCrd();
    ns = await createNamespace(core, 'kf-lw');
  });
  after(async () => {
    await admission.deleteValidatingWebhookConfiguration({ name }).catch(() => undefined);
    await deleteNamespace(core, ns);
  });

  it('registers with failurePolicy Ignore and says so; killed (SIGKILL), it blocks no create', async () => {
    const port = await freePort();
    let output = '';
    const child = spawn(path.join(ROOT, 'hack/run-webhook.sh'), [], {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: kubeconfigPath(), KUBEFLEDGED_NAMESPACE: ns, WEBHOOK_PORT: String(port), WEBHOOK_CONFIG_NAME: name },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const cfg = await eventually('registered', async () => admission.readValidatingWebhookConfiguration({ name }).catch(() => undefined), 90_000, 300);
      expect(cfg.webhooks?.map((w) => w.failurePolicy)).to.deep.equal(['Ignore']);
      expect(output).to.contain('failurePolicy Ignore: while this server is down, ImageCaches are admitted unvalidated');
      // validating while up: an invalid cache is refused
      const bad = await ics.create(ns, 'bad', { cacheSpec: [] } as never).then(() => 'admitted', (err: { code?: number }) => err.code);
      expect(bad).to.equal(400);
    } finally {
      child.kill('SIGKILL'); // exec'd: this is the server itself, it cannot unregister
      await exited;
    }
    expect((await admission.readValidatingWebhookConfiguration({ name })).metadata?.name, 'left behind (the test case)').to.equal(name);
    const c = await ics.create(ns, 'after-kill', { cacheSpec: [{ images: ['registry.example/x:1'] }] });
    expect(c.metadata.name).to.equal('after-kill');
  });
});
