// kubefledged-cri-client against a real containerd (Debian package, CRI plugin) on a private socket,
// with images built by hand and served by a real registry on loopback (hack/containerd/up.sh).
// No Kubernetes cluster involved. Needs root (containerd mounts snapshots, runc starts containers).
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseImageReference } from '../../../src/images/image-reference.js';
import { CriConnection } from '../../../src/cri/cri-connection.js';
import { parseCriEndpoint, type CriEndpoint } from '../../../src/cri/cri-endpoint.js';
import { CriClientExit } from '../../../src/cri/exit-codes.js';
import { CriImageService } from '../../../src/cri/image-service.js';
import { CriRuntimeService } from '../../../src/cri/runtime-service.js';
import { criClient, criDown, criUp, run, type CriEnv } from './containerd-harness.js';
import { CriSandbox, type RunningContainer } from './cri-sandbox.js';

describe('kubefledged-cri-client against a real containerd', function () {
  this.timeout(300_000);

  let env: CriEnv;
  let endpoint: CriEndpoint;
  let conn: CriConnection;
  let images: CriImageService;
  let logs: string;
  let logCount = 0;

  before(async function () {
    // Skipped only when not root: containerd cannot run without it. CI and the project's machines run as
    // root, so there it always runs (make test installs the Debian packages it needs).
    if (process.getuid?.() !== 0) {
      console.warn('    skipped: containerd needs root (it mounts snapshots and runs runc)');
      this.skip();
    }
    env = await criUp();
    const parsed = parseCriEndpoint(env.endpoint);
    if (!parsed.ok) throw new Error(parsed.error);
    endpoint = parsed.endpoint;
    conn = new CriConnection(endpoint);
    images = new CriImageService(conn);
    logs = await mkdtemp(path.join(tmpdir(), 'kf-cri-it-logs-'));
  });

  after(async () => {
    conn?.close();
    if (env) await criDown(env.dir);
    if (logs) await rm(logs, { recursive: true, force: true });
  });

  /** Runs the CLI with a fresh termination log; returns exit code, output and the log line. */
  async function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; line: string }> {
    const log = path.join(logs, `termination-${++logCount}`);
    const res = await criClient(['--termination-log', log, ...args]);
    const line = await readFile(log, 'utf8').catch(() => '');
    return { ...res, line };
  }

  const present = async (ref: string) => (await images.imageStatus(ref)) !== undefined;

  it('reaches containerd over CRI runtime.v1 (version)', async () => {
    const res = await cli('version', '--runtime-endpoint', env.endpoint);
    expect(res.code, res.stderr).to.equal(CriClientExit.OK);
    expect(res.stdout).to.contain('RuntimeName:  containerd').and.contain('RuntimeApiVersion:  v1');
    expect(res.line).to.match(/^containerd 1\.\d+\.\d+\S* \(CRI v1\)\n$/);
  });

  it('pulls through CRI and lists the image (ImageService and the images command)', async () => {
    const ref = env.images['hello-v1'].reference;
    const imageRef = await images.pullImage(ref);
    expect(imageRef).to.match(/^sha256:[a-f0-9]{64}$/);
    const listed = await images.listImages();
    const img = listed.find((i) => i.id === imageRef);
    expect(img?.repoTags).to.include(ref);
    expect(img?.repoDigests).to.include(`${env.registry}/kf-test/hello@${env.images['hello-v1'].digest}`);

    const table = await cli('images', '-r', env.endpoint);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(new RegExp(`^${env.registry.replace(/\./g, '\\.')}/kf-test/hello\\s+v1\\s+${imageRef.slice(7, 20)}\\s+\\d+B$`, 'm'));
    const json = await cli('images', '-o', 'json', '-r', env.endpoint, ref);
    expect(JSON.parse(json.stdout).images.map((i: { id: string }) => i.id)).to.deep.equal([imageRef]);
    const inspect = await cli('inspecti', '-r', env.endpoint, ref);
    expect(JSON.parse(inspect.stdout).status.id).to.equal(imageRef);
  });

  it('removes by tag (registry with port), then again: absent is success', async () => {
    const ref = env.images['hello-v1'].reference;
    const id = await images.pullImage(ref);
    const first = await cli('rmi', '--runtime-endpoint', env.endpoint, ref);
    expect(first.code, first.stderr).to.equal(CriClientExit.OK);
    expect(first.line).to.equal(`${ref}: removed image ${id}, tags ${ref}\n`);
    expect(first.stdout).to.equal(`${ref}: removed image ${id}, tags ${ref}\n`);
    expect(await present(ref)).to.equal(false);
    expect(await present(id)).to.equal(false);

    const again = await cli('rmi', '--runtime-endpoint', env.endpoint, ref);
    expect(again.code, again.stderr).to.equal(CriClientExit.OK);
    expect(again.line).to.equal(`${ref}: not present on this node, nothing to remove\n`);
  });

  it('removes by digest: pulled by digest, and pulled by tag then removed by repo@digest', async () => {
    const { reference, digest } = env.images.bydigest;
    const byDigest = `${env.registry}/kf-test/bydigest@${digest}`;
    const id = await images.pullImage(byDigest);
    expect(await present(byDigest)).to.equal(true);
    const r1 = await cli('rmi', '-r', env.endpoint, byDigest);
    expect(r1.code, r1.stderr).to.equal(0);
    expect(r1.line).to.match(new RegExp(`^${byDigest.replace(/[.]/g, '\\.')}: removed image ${id}`));
    expect(await present(id)).to.equal(false);

    await images.pullImage(reference);
    const r2 = await cli('rmi', '-r', env.endpoint, byDigest);
    expect(r2.code, r2.stderr).to.equal(0);
    expect(r2.line).to.equal(`${byDigest}: removed image ${id}, tags ${reference}\n`);
    expect(await present(reference)).to.equal(false);

    // tag and digest together, as users write pinned references
    await images.pullImage(reference);
    const both = `${reference}@${digest}`;
    const r3 = await cli('rmi', '-r', env.endpoint, both);
    expect(r3.code, r3.stderr).to.equal(0);
    expect(r3.line).to.contain(`${both}: removed image ${id}`);
    expect(await present(reference)).to.equal(false);
  });

  it('short names normalise as the runtime does: kf-short == docker.io/library/kf-short:latest', async () => {
    // containerd mirrors docker.io to the local registry (hack/containerd/up.sh), so this is a real pull.
    const forms = ['kf-short', 'kf-short:latest', 'library/kf-short', 'docker.io/library/kf-short', 'docker.io/library/kf-short:latest'];
    for (const form of forms) {
      const id = await images.pullImage('kf-short');
      expect(await present('docker.io/library/kf-short:latest')).to.equal(true);
      const res = await cli('rmi', '-r', env.endpoint, form);
      expect(res.code, `${form}: ${res.stderr}`).to.equal(0);
      expect(res.line, form).to.equal(`${form}: removed image ${id}, tags docker.io/library/kf-short:latest\n`);
      expect(await present('docker.io/library/kf-short:latest'), form).to.equal(false);
    }
    const absent = await cli('rmi', '-r', env.endpoint, 'kf-short');
    expect(absent.code).to.equal(0);
    expect(absent.line).to.equal('kf-short: not present on this node, nothing to remove (looked up as kf-short and docker.io/library/kf-short:latest)\n');
  });

  it('removes by image ID, full and short', async () => {
    const ref = env.images['hello-v2'].reference;
    const id = await images.pullImage(ref);
    const full = await cli('rmi', '-r', env.endpoint, id);
    expect(full.code, full.stderr).to.equal(0);
    expect(full.line).to.equal(`${id}: removed image ${id}, tags ${ref}\n`);
    expect(await present(ref)).to.equal(false);

    await images.pullImage(ref);
    const short = id.slice(7, 20);
    const res = await cli('rmi', '-r', env.endpoint, short);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.line).to.equal(`${short}: removed image ${id}, tags ${ref}\n`);
    expect(await present(ref)).to.equal(false);
  });

  it('several images in one run: present, absent and invalid; failures first in the line', async () => {
    const ref = env.images['hello-v2'].reference;
    const id = await images.pullImage(ref);
    const invalid = parseImageReference('nginx:');
    if (invalid.ok) throw new Error('"nginx:" should be invalid');
    const res = await cli('rmi', '-r', env.endpoint, '--', ref, `${env.registry}/kf-test/never-pushed:1`, 'nginx:');
    expect(res.code).to.equal(CriClientExit.FAILED);
    expect(res.line).to.equal(
      `invalid image reference "nginx:": ${invalid.error}; ` +
        `${ref}: removed image ${id}, tags ${ref}; ` +
        `${env.registry}/kf-test/never-pushed:1: not present on this node, nothing to remove\n`,
    );
    expect(res.stderr).to.contain('invalid image reference "nginx:"');
    expect(await present(ref)).to.equal(false);
  });

  describe('an image in use by a running container', () => {
    let sandbox: CriSandbox;
    let running: RunningContainer | undefined;

    before(async () => {
      sandbox = new CriSandbox(endpoint);
      await images.pullImage(env.images.sleeper.reference);
      running = await sandbox.run('kf-cri-in-use', env.images.sleeper.reference, path.join(env.dir, 'logs', 'pods'));
    });
    after(async () => {
      if (running) await sandbox.remove(running);
      sandbox?.close();
    });

    it('runs for real (runc through containerd CRI)', async () => {
      const status = await sandbox.status(running!.containerId);
      expect(status.state).to.equal('CONTAINER_RUNNING');
      const containers = await new CriRuntimeService(conn, 10_000).listContainers();
      expect(containers.map((c) => c.id)).to.include(running!.containerId);
    });

    it('is refused with exit 1, named container and pod, and stays on the node', async () => {
      const ref = env.images.sleeper.reference;
      const res = await cli('rmi', '-r', env.endpoint, ref);
      expect(res.code).to.equal(CriClientExit.FAILED);
      expect(res.line).to.match(
        new RegExp(`^${ref.replace(/[.]/g, '\\.')}: image sha256:[a-f0-9]{64} is in use by container sleeper \\(${running!.containerId.slice(0, 13)}, running in pod kf-cri-test/kf-cri-in-use\\); not removed\\n$`),
      );
      expect(res.stderr).to.contain('is in use by container sleeper');
      expect(await present(ref)).to.equal(true);
    });

    it('is removed once the container is gone', async () => {
      await sandbox.remove(running!);
      running = undefined;
      const ref = env.images.sleeper.reference;
      const res = await cli('rmi', '-r', env.endpoint, ref);
      expect(res.code, res.stderr).to.equal(0);
      expect(res.line).to.match(/: removed image sha256:/);
      expect(await present(ref)).to.equal(false);
    });
  });

  it('a missing socket ends at once with exit 3 and a clear line', async () => {
    const missing = path.join(env.dir, 'not-here', 'containerd.sock');
    const started = Date.now();
    const res = await cli('rmi', '-r', `unix://${missing}`, 'nginx');
    expect(res.code).to.equal(CriClientExit.UNREACHABLE);
    expect(Date.now() - started).to.be.below(15_000);
    expect(res.line).to.equal(`cannot reach the CRI runtime at unix://${missing}: no CRI socket at ${missing}; check the runtime's socket path (kube-fledged: --cri-socket-path)\n`);
  });

  it('takes the endpoint from CONTAINER_RUNTIME_ENDPOINT and the log path from KUBEFLEDGED_TERMINATION_LOG', async () => {
    const log = path.join(logs, 'from-env');
    const res = await criClient(['rmi', `${env.registry}/kf-test/never-pushed:2`], { CONTAINER_RUNTIME_ENDPOINT: env.endpoint, KUBEFLEDGED_TERMINATION_LOG: log });
    expect(res.code, res.stderr).to.equal(0);
    expect(await readFile(log, 'utf8')).to.contain('not present on this node');
  });

  it('speaks runtime.v1alpha2 as well (same messages, older runtimes)', async () => {
    const ref = env.images['hello-v1'].reference;
    const id = await images.pullImage(ref);
    const res = await cli('--cri-api', 'v1alpha2', 'rmi', '-r', env.endpoint, ref);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.line).to.equal(`${ref}: removed image ${id}, tags ${ref}\n`);
  });

  it("works through a read-only bind mount of the socket's directory, as the delete Job mounts it", async () => {
    const mnt = await mkdtemp('/tmp/kf-cri-ro-');
    const bind = await run('mount', ['--bind', env.dir, mnt]);
    expect(bind.code, bind.stderr).to.equal(0);
    try {
      const ro = await run('mount', ['-o', 'remount,bind,ro', mnt]);
      expect(ro.code, ro.stderr).to.equal(0);
      const ref = env.images['hello-v2'].reference;
      const id = await images.pullImage(ref);
      const res = await cli('rmi', '-r', `unix://${mnt}/containerd.sock`, ref);
      expect(res.code, res.stderr).to.equal(0);
      expect(res.line).to.equal(`${ref}: removed image ${id}, tags ${ref}\n`);
    } finally {
      await run('umount', [mnt]);
      await rm(mnt, { recursive: true, force: true });
    }
  });
});
