// make release, for real, without Docker: RELEASE_ENGINE=buildah builds the Dockerfile into a manifest
// list and pushes $(IMAGE_REPO):$(RELEASE_VERSION) and :latest to the user's registry (here the local
// registry of the real-node cluster; IMAGE_BASE=local because no public registry is reachable), and the
// real node's containerd pulls the released image through CRI. Docker buildx (the default engine, as the
// original) cannot run on this machine (no Docker engine); test/unit/install/makefile-targets.test.ts
// checks its commands.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as path from 'node:path';
import { ROOT } from '../../support/cluster.js';
import { run } from '../install/support/install-env.js';
import { appVersion, criImages, realNode, realNodeEnv, withImageService, type RealNode, type RealNodeEnv } from './support/real-node.js';

const execFileAsync = promisify(execFile);
const MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

interface Index { mediaType?: string; manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[] }

/** buildah with the storage of hack/image/lib.sh (the version-keyed cache). */
async function bah(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('bash', ['-c', `. "${path.join(ROOT, 'hack/image/lib.sh')}"; bah "$@"`, 'bah', ...args], { maxBuffer: 16 << 20 });
  return stdout;
}

describe('real node (e2e): make release pushes the image to the user\'s registry (RELEASE_ENGINE=buildah)', function () {
  this.timeout(900_000);
  let env: RealNodeEnv;
  let node: RealNode;
  let repo = '';
  const version = appVersion();

  before(() => {
    env = realNodeEnv();
    node = realNode(env);
    repo = `${env.registry}/kf-release-e2e/kube-fledged`;
  });

  after(async () => {
    if (node) await withImageService(node, (images) => images.removeImage(`${repo}:${version}`)).catch(() => undefined);
    // the manifest list and its per-platform image in the build cache (vfs copies every layer)
    await bah('manifest', 'rm', `${repo}:${version}`).catch(() => undefined);
    await bah('rmi', '--prune').catch(() => undefined);
  });

  it('pushes $(IMAGE_REPO):$(RELEASE_VERSION) and :latest as one manifest list, and the node pulls it', async () => {
    await run('make', ['--no-print-directory', 'release', 'RELEASE_ENGINE=buildah', 'IMAGE_BASE=local', `IMAGE_REPO=${repo}`, 'TARGET_PLATFORMS=linux/amd64'], { timeoutMs: 900_000 });
    const accept = { Accept: `${OCI_INDEX}, ${MANIFEST_LIST}` };
    const base = `http://${env.registry}/v2/kf-release-e2e/kube-fledged`;
    const tags = await fetch(`${base}/tags/list`).then((r) => r.json() as Promise<{ tags?: string[] }>);
    expect(tags.tags?.sort()).to.deep.equal([version, 'latest'].sort());
    const digests: string[] = [];
    for (const tag of [version, 'latest']) {
      const res = await fetch(`${base}/manifests/${tag}`, { headers: accept });
      expect(res.status, tag).to.equal(200);
      const index = await res.json() as Index;
      expect([OCI_INDEX, MANIFEST_LIST], tag).to.include(index.mediaType ?? res.headers.get('content-type'));
      expect(index.manifests?.map((m) => `${m.platform?.os}/${m.platform?.architecture}`), tag).to.deep.equal(['linux/amd64']);
      digests.push(res.headers.get('docker-content-digest') ?? '');
    }
    expect(digests[0]).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(digests[1], ':latest and the version tag are the same list').to.equal(digests[0]);

    // the released image runs what the chart runs: its config names the controller as the entrypoint
    const { stdout } = await execFileAsync('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${repo}:latest`]);
    const config = JSON.parse(stdout) as { config?: { Entrypoint?: string[] } };
    expect(config.config?.Entrypoint).to.deep.equal(['/opt/bin/kubefledged-controller']);

    await withImageService(node, (images) => images.pullImage(`${repo}:${version}`));
    const images = await criImages(node);
    expect(images.some((i) => i.repoTags.includes(`${repo}:${version}`)), JSON.stringify(images.map((i) => i.repoTags))).to.equal(true);
  });
});
