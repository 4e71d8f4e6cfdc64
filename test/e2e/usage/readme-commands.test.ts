// End to end, as a user: `make run` (controller + webhook against the cluster in use), then the
// original kube-fledged README's commands, verbatim, on the sample ImageCache of deploy/.
import { expect } from 'chai';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { ROOT, adminKubeConfig, deleteNamespace, eventually, kubeconfigPath } from '../../support/cluster.js';
import { Message } from '../../../src/api/constants.js';

const execFileAsync = promisify(execFile);

describe('the README commands on `make run` (controller + webhook)', function () {
  this.timeout(600_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  let run: ChildProcess | undefined;
  let output = '';
  let createdNamespace = false;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-e2e-readme-'));

  /** A README command line, run through the shell exactly as written (KUBECONFIG points at the local cluster). */
  async function sh(command: string, env: Record<string, string> = {}): Promise<string> {
    try {
      const { stdout } = await execFileAsync('bash', ['-c', command], {
        cwd: ROOT, env: { ...process.env, KUBECONFIG: kubeconfigPath(), TMPDIR: tmp, ...env }, maxBuffer: 16 << 20,
      });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`${command}: ${e.stderr ?? e.message}`, { cause: err });
    }
  }
  async function status(): Promise<{ status?: string; reason?: string; message?: string }> {
    const ic = JSON.parse(await sh('kubectl get imagecaches imagecache1 -n kube-fledged -o json')) as { status?: Record<string, string> };
    return ic.status ?? {};
  }
  async function waitFor(reason: string): Promise<{ status?: string; reason?: string; message?: string }> {
    return eventually(`imagecache1 ${reason} done`, async () => {
      const st = await status();
      return st.reason === reason && st.status !== 'Processing' ? st : undefined;
    }, 120_000, 500);
  }

  before(async () => {
    createdNamespace = !(await core.readNamespace({ name: 'kube-fledged' }).then(() => true, () => false));
    run = spawn('make', ['run', 'ARGS=--image-pull-deadline-duration=30s --leader-elect=false'], {
      cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: kubeconfigPath(), WEBHOOK_PORT: '19443' },
    });
    run.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    run.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    // ready: the webhook is registered and the controller watches
    await eventually('make run up', async () => output.includes('controller started') && output.includes('caBundle'), 180_000, 500)
      .catch((err: Error) => { throw new Error(`${err.message}\n${output.slice(-3000)}`); });
    await eventually('webhook registered', async () => {
      await sh('kubectl get validatingwebhookconfiguration kubefledged-webhook-server-local');
      return true;
    }, 30_000);
  });

  after(async () => {
    if (run?.pid) {
      try { process.kill(-run.pid, 'SIGTERM'); } catch { /* gone */ }
      await new Promise((r) => run!.once('exit', r));
    }
    await sh('kubectl delete imagecaches --all -n kube-fledged --ignore-not-found').catch(() => undefined);
    if (createdNamespace) await deleteNamespace(core, 'kube-fledged', true);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(output.slice(-6000));
  });

  it('kubectl create -f deploy/kubefledged-imagecache.yaml, then view the status', async () => {
    await sh('kubectl create -f deploy/kubefledged-imagecache.yaml');
    const st = await waitFor('ImageCacheCreate');
    expect(st).to.include({ status: 'Succeeded', message: Message.ImagesPulledSuccessfully });
  });

  it('kubectl edit (add an image) is applied; an edit the webhook refuses leaves the object as it was', async () => {
    const editor = path.join(tmp, 'add-image.sh');
    fs.writeFileSync(editor, '#!/bin/sh\nsed -i "s#- ghcr.io/jitesoft/nginx:1.23.1#- ghcr.io/jitesoft/nginx:1.23.1\\n    - ghcr.io/jitesoft/nginx:1.25.0#" "$1"\n', { mode: 0o755 });
    await sh('kubectl edit imagecaches imagecache1 -n kube-fledged', { KUBE_EDITOR: editor, EDITOR: editor });
    const st = await waitFor('ImageCacheUpdate');
    expect(st.status).to.equal('Succeeded');
    const bad = path.join(tmp, 'bad-selector.sh');
    fs.writeFileSync(bad, '#!/bin/sh\nsed -i "s#tier: backend#tier: frontend#" "$1"\n', { mode: 0o755 });
    const refused = await sh('kubectl edit imagecaches imagecache1 -n kube-fledged', { KUBE_EDITOR: bad, EDITOR: bad }).then(() => '', (e: Error) => e.message);
    expect(refused).to.contain('admission webhook "validate-image-cache.kubefledged.io" denied the request: Mismatch in node selector');
    const spec = JSON.parse(await sh('kubectl get imagecaches imagecache1 -n kube-fledged -o json')) as { spec: { cacheSpec: { images: string[]; nodeSelector?: Record<string, string> }[] } };
    expect(spec.spec.cacheSpec[1]!.nodeSelector).to.deep.equal({ tier: 'backend' });
    expect(spec.spec.cacheSpec[0]!.images).to.deep.equal(['ghcr.io/jitesoft/nginx:1.23.1', 'ghcr.io/jitesoft/nginx:1.25.0']);
  });

  it('kubectl annotate ... kubefledged.io/refresh-imagecache= refreshes, and the annotation is removed', async () => {
    await sh('kubectl annotate imagecaches imagecache1 -n kube-fledged kubefledged.io/refresh-imagecache=');
    const st = await waitFor('ImageCacheRefresh');
    expect(st.status).to.equal('Succeeded');
    const annotations = await sh("kubectl get imagecaches imagecache1 -n kube-fledged -o jsonpath='{.metadata.annotations}'");
    expect(annotations).to.not.contain('kubefledged.io/refresh-imagecache');
  });

  it('kubectl annotate ... kubefledged.io/purge-imagecache= deletes the images, then kubectl delete', async () => {
    await sh('kubectl annotate imagecaches imagecache1 -n kube-fledged kubefledged.io/purge-imagecache=');
    const st = await waitFor('ImageCachePurge');
    expect(st).to.include({ status: 'Succeeded', message: Message.ImagesDeletedSuccessfully });
    await sh('kubectl delete imagecaches imagecache1 -n kube-fledged');
    const left = await sh('kubectl get imagecaches -n kube-fledged -o name');
    expect(left.trim()).to.equal('');
  });
});
