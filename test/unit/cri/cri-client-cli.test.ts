import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCriClient } from '../../../src/cri/cri-client-cli.js';
import { CriClientExit } from '../../../src/cri/exit-codes.js';
import { FakeCriServer } from './fake-cri-server.js';

const NGINX = {
  id: 'sha256:' + '1'.repeat(64),
  repoTags: ['docker.io/library/nginx:latest'],
  repoDigests: ['docker.io/library/nginx@sha256:' + '2'.repeat(64)],
  size: 1234,
};
const BUSY = { id: 'sha256:' + '3'.repeat(64), repoTags: ['127.0.0.1:5000/kf/busy:1'], repoDigests: [], size: 99 };

/** An in-memory runtime that, like containerd, knows images by full names and IDs only. */
function runtime() {
  const images = new Map<string, typeof NGINX>();
  const reset = () => {
    images.clear();
    for (const img of [NGINX, BUSY]) for (const n of [img.id, ...img.repoTags, ...img.repoDigests]) images.set(n, img);
  };
  reset();
  const containers = [
    { id: '9'.repeat(64), metadata: { name: 'busy' }, imageRef: BUSY.id, state: 'CONTAINER_RUNNING', labels: {} },
  ];
  const server = new FakeCriServer([
    { version: 'v1', service: 'ImageService', method: 'ImageStatus', handler: (r) => ({ image: images.get((r.image as { image: string }).image) }) },
    {
      version: 'v1',
      service: 'ImageService',
      method: 'RemoveImage',
      handler: (r) => {
        const img = images.get((r.image as { image: string }).image);
        for (const [k, v] of [...images]) if (v === img) images.delete(k);
        return {};
      },
    },
    { version: 'v1', service: 'ImageService', method: 'ListImages', handler: () => ({ images: [...new Set(images.values())] }) },
    { version: 'v1', service: 'ImageService', method: 'PullImage', handler: (r) => ({ imageRef: `pulled:${(r.image as { image: string }).image}` }) },
    { version: 'v1', service: 'RuntimeService', method: 'ListContainers', handler: () => ({ containers }) },
    { version: 'v1', service: 'RuntimeService', method: 'Version', handler: () => ({ version: '0.1.0', runtimeName: 'fake', runtimeVersion: '9.9', runtimeApiVersion: 'v1' }) },
  ]);
  return { server, reset, images };
}

describe('cri/cri-client-cli (against a fake CRI server)', () => {
  const rt = runtime();
  let dir: string;
  let out: string[];
  let err: string[];
  const run = (argv: string[], env: Record<string, string> = {}) => runCriClient(argv, { env, stdout: (l) => out.push(l), stderr: (l) => err.push(l) });

  before(async () => {
    await rt.server.start();
    dir = await mkdtemp(path.join(tmpdir(), 'kf-cri-cli-'));
  });
  after(async () => {
    await rt.server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    out = [];
    err = [];
    rt.reset();
  });

  it('rmi of a short name removes the normalised image; again is "not present"; exit 0 both times', async () => {
    const log = path.join(dir, 'tl-1');
    expect(await run(['rmi', '-r', rt.server.endpoint, '--termination-log', log, 'nginx'])).to.equal(CriClientExit.OK);
    expect(out).to.deep.equal([`nginx: removed image ${NGINX.id}, tags docker.io/library/nginx:latest`]);
    expect(await readFile(log, 'utf8')).to.equal(`nginx: removed image ${NGINX.id}, tags docker.io/library/nginx:latest\n`);
    expect(rt.images.has(NGINX.id)).to.equal(false);

    out = [];
    expect(await run(['rmi', '-r', rt.server.endpoint, '--termination-log', log, 'nginx'])).to.equal(CriClientExit.OK);
    expect(await readFile(log, 'utf8')).to.equal('nginx: not present on this node, nothing to remove (looked up as nginx and docker.io/library/nginx:latest)\n');
  });

  it('an image used by a running container fails the command (exit 1) and stays', async () => {
    const log = path.join(dir, 'tl-2');
    const code = await run(['rmi', '--termination-log', log, '127.0.0.1:5000/kf/busy:1', 'nginx'], { CONTAINER_RUNTIME_ENDPOINT: rt.server.endpoint });
    expect(code).to.equal(CriClientExit.FAILED);
    expect(err[0]).to.contain('is in use by container busy');
    const line = await readFile(log, 'utf8');
    expect(line.startsWith(`127.0.0.1:5000/kf/busy:1: image ${BUSY.id} is in use by container busy`)).to.equal(true);
    expect(line).to.contain('; nginx: removed image');
    expect(rt.images.has(BUSY.id)).to.equal(true);
  });

  it('KUBEFLEDGED_TERMINATION_LOG env is honoured', async () => {
    const log = path.join(dir, 'tl-env');
    await run(['rmi', '-r', rt.server.endpoint, 'nginx'], { KUBEFLEDGED_TERMINATION_LOG: log });
    expect(await readFile(log, 'utf8')).to.match(/^nginx: removed image/);
  });

  it('a missing socket ends at once with exit 3 and says which path', async () => {
    const log = path.join(dir, 'tl-3');
    const missing = path.join(dir, 'no.sock');
    const started = Date.now();
    expect(await run(['rmi', '-r', `unix://${missing}`, '--termination-log', log, 'nginx'])).to.equal(CriClientExit.UNREACHABLE);
    expect(Date.now() - started).to.be.below(2000);
    expect(await readFile(log, 'utf8')).to.equal(
      `cannot reach the CRI runtime at unix://${missing}: no CRI socket at ${missing}; check the runtime's socket path (kube-fledged: --cri-socket-path)\n`,
    );
  });

  it('usage errors exit 2 and still write the termination log', async () => {
    const log = path.join(dir, 'tl-4');
    expect(await run(['rmi', '--termination-log', log])).to.equal(CriClientExit.USAGE);
    expect(await readFile(log, 'utf8')).to.match(/^usage error: rmi needs at least one image/);
    expect(await run(['rmi', '-r', 'tcp://1.2.3.4:5', 'x'])).to.equal(CriClientExit.USAGE);
    expect(err.at(-1)).to.contain('scheme "tcp:" is not supported');
  });

  it('help prints the usage and exits 0', async () => {
    expect(await run(['--help'])).to.equal(CriClientExit.OK);
    expect(out[0]).to.contain('Usage: kubefledged-cri-client');
  });

  it('images prints a table, -q the IDs, -o json the images', async () => {
    expect(await run(['images', '-r', rt.server.endpoint])).to.equal(0);
    expect(out[0]).to.match(/^IMAGE\s+TAG\s+IMAGE ID\s+SIZE\n127\.0\.0\.1:5000\/kf\/busy\s+1\s+3333333333333\s+99B\ndocker\.io\/library\/nginx\s+latest\s+1111111111111\s+1\.23kB$/);
    out = [];
    await run(['images', '-q', '-r', rt.server.endpoint]);
    expect(out).to.have.members([NGINX.id, BUSY.id]);
    out = [];
    await run(['images', '-o', 'json', '-r', rt.server.endpoint]);
    expect(JSON.parse(out[0]!).images).to.have.length(2);
  });

  it('inspecti prints JSON; a missing image exits 1', async () => {
    expect(await run(['inspecti', '-r', rt.server.endpoint, NGINX.id])).to.equal(0);
    expect(JSON.parse(out[0]!).status.id).to.equal(NGINX.id);
    expect(await run(['inspecti', '-r', rt.server.endpoint, 'docker.io/library/absent:1'])).to.equal(CriClientExit.FAILED);
    expect(err).to.deep.equal(['no such image docker.io/library/absent:1 present']);
  });

  it('pull prints the runtime image reference; version names the runtime', async () => {
    expect(await run(['pull', '-r', rt.server.endpoint, 'nginx'])).to.equal(0);
    expect(out).to.deep.equal(['Image is up to date for pulled:nginx']);
    out = [];
    expect(await run(['version', '-r', rt.server.endpoint])).to.equal(0);
    expect(out[0]).to.contain('RuntimeName:  fake').and.contain('RuntimeVersion:  9.9');
  });

  it('a separate image endpoint that is missing is reported as such', async () => {
    const missing = path.join(dir, 'img.sock');
    expect(await run(['images', '-r', rt.server.endpoint, '-i', missing])).to.equal(CriClientExit.UNREACHABLE);
    expect(err[0]).to.contain(`cannot reach the CRI runtime at ${missing}`);
  });
});
