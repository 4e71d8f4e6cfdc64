// The Makefile targets users type (spec §5.3), checked with `make -n` (print, don't run): the same
// names and variables as the original, and every deploy/ manifest applied and removed.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../../../hack/chart/helm-binary.js';
import { STATIC_FILES } from '../../../hack/chart/render-manifests.js';

const execFileAsync = promisify(execFile);

async function dryRun(...args: string[]): Promise<string[]> {
  const { stdout } = await execFileAsync('make', ['--no-print-directory', '-n', ...args], { cwd: ROOT });
  return stdout.split('\n').filter((l) => l.trim() !== '');
}

function appVersion(): string {
  return /^appVersion: *(\S+)$/m.exec(fs.readFileSync(path.join(ROOT, 'helm/kube-fledged/Chart.yaml'), 'utf8'))![1]!;
}

describe('install: Makefile targets', function () {
  this.timeout(30_000);

  for (const [target, stage, variable] of [
    ['controller-image', 'controller', 'CONTROLLER_IMAGE_REPO'],
    ['webhook-server-image', 'webhook-server', 'WEBHOOK_SERVER_IMAGE_REPO'],
    ['cri-client-image', 'cri-client', 'CRI_CLIENT_IMAGE_REPO'],
  ] as const) {
    it(`${target} builds Dockerfile target ${stage} as $(${variable}):$(RELEASE_VERSION) and :latest`, async () => {
      const lines = await dryRun(target, `${variable}=registry.example/${stage}`, 'RELEASE_VERSION=v1.2.3', 'TARGET_PLATFORMS=linux/arm64', 'BUILD_OUTPUT=--load');
      expect(lines).to.have.length(1);
      const cmd = lines[0]!;
      expect(cmd).to.match(/^docker buildx build /);
      for (const part of [`--platform=linux/arm64`, `--target=${stage}`, `-t registry.example/${stage}:v1.2.3`, `-t registry.example/${stage}:latest`, '--load']) {
        expect(cmd).to.contain(part);
      }
      expect(cmd).to.match(/ \.$/);
    });
  }

  it('tags images with the chart appVersion by default and pushes for amd64, arm/v7 and arm64', async () => {
    const [cmd] = await dryRun('controller-image');
    expect(cmd).to.contain(`-t docker.io/kubefledgedts/kube-fledged-controller:${appVersion()}`);
    expect(cmd).to.contain('--platform=linux/amd64,linux/arm/v7,linux/arm64/v8');
    expect(cmd).to.contain('--push');
  });

  it('release sets up buildx, then builds and pushes the one image to $(IMAGE_REPO); release-amd64 for linux/amd64 only', async () => {
    const release = (await dryRun('release', 'IMAGE_REPO=registry.example/team/kf')).join('\n');
    expect(release).to.contain('docker buildx create --name multibuilder');
    const builds = release.split('\n').filter((l) => l.includes('buildx build'));
    expect(builds).to.have.length(1);
    for (const part of ['--target=kube-fledged', `-t registry.example/team/kf:${appVersion()}`, '-t registry.example/team/kf:latest', '--push']) {
      expect(builds[0]).to.contain(part);
    }
    const amd64 = (await dryRun('release-amd64')).filter((l) => l.includes('buildx build'));
    expect(amd64).to.have.length(1);
    expect(amd64[0]).to.contain('--platform=linux/amd64 ');
    expect(amd64[0]).to.contain(`-t docker.io/kubefledgedts/kube-fledged:${appVersion()}`);
  });

  it('image builds with buildah (hack/image/build.sh) and pushes to the local cluster registry when one runs', async () => {
    const [none] = await dryRun('image', 'CLUSTER_DIR=/nonexistent');
    expect(none).to.equal(`IMAGE="docker.io/kubefledgedts/kube-fledged:${appVersion()}" IMAGE_BASE="public" IMAGE_PUSH="" hack/image/build.sh`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-mk-'));
    try {
      fs.mkdirSync(path.join(dir, 'registry'));
      fs.writeFileSync(path.join(dir, 'registry', 'address'), '127.0.0.1:5999\n');
      const [local] = await dryRun('image', `CLUSTER_DIR=${dir}`, 'IMAGE_BASE=local');
      expect(local).to.contain('IMAGE_BASE="local"');
      expect(local).to.contain(`IMAGE_PUSH="127.0.0.1:5999/kubefledgedts/kube-fledged:${appVersion()}"`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('deploy-using-yaml applies every deploy/ manifest (namespace and CRD first), waits for both rollouts', async () => {
    const lines = await dryRun('deploy-using-yaml');
    const applied = lines.filter((l) => /^-?kubectl apply/.test(l)).flatMap((l) => [...l.matchAll(/-f deploy\/(\S+)/g)].map((m) => m[1]!));
    expect(applied.slice(0, 2)).to.deep.equal(['kubefledged-namespace.yaml', 'kubefledged-crd.yaml']);
    const all = fs.readdirSync(path.join(ROOT, 'deploy')).filter((f) => f !== 'kubefledged-imagecache.yaml');
    expect([...applied].sort()).to.deep.equal(all.sort());
    expect(applied.indexOf('kubefledged-deployment-controller.yaml')).to.be.lessThan(applied.indexOf('kubefledged-deployment-webhook-server.yaml'));
    expect(lines.filter((l) => l.includes('rollout status'))).to.have.length(2);
    expect(STATIC_FILES).to.include('kubefledged-imagecache.yaml');
  });

  it('remove-kubefledged deletes every object deploy-using-yaml created, by file (never by label)', async () => {
    const lines = await dryRun('remove-kubefledged');
    const deleted = lines.flatMap((l) => [...l.matchAll(/-f deploy\/(\S+)/g)].map((m) => m[1]!));
    const all = fs.readdirSync(path.join(ROOT, 'deploy')).filter((f) => f !== 'kubefledged-imagecache.yaml');
    expect([...deleted].sort()).to.deep.equal(all.sort());
    expect(deleted.at(-1)).to.equal('kubefledged-crd.yaml');
    expect(lines.join('\n')).not.to.match(/ -l | --selector/);
    for (const l of lines) expect(l).to.contain('--ignore-not-found');
  });

  it('DEPLOY_DIR and KUBEFLEDGED_NAMESPACE redirect the YAML targets', async () => {
    const lines = (await dryRun('deploy-using-yaml', 'DEPLOY_DIR=/tmp/x', 'KUBEFLEDGED_NAMESPACE=other')).join('\n');
    expect(lines).to.contain('-f /tmp/x/kubefledged-crd.yaml');
    expect(lines).not.to.contain('deploy/');
    expect(lines).to.contain('rollout status deployment -n other');
  });

  it('update restarts the controller and the webhook server and waits for them', async () => {
    const lines = await dryRun('update', 'KUBEFLEDGED_NAMESPACE=kf');
    expect(lines[0]).to.equal('kubectl rollout restart deployment -n kf -l app=kubefledged');
    expect(lines.filter((l) => l.includes('rollout status'))).to.have.length(2);
  });

  it('deploy-using-operator installs the chart with Helm (no helm-operator is shipped)', async () => {
    const lines = (await dryRun('deploy-using-operator', 'HELM=helm', 'KUBEFLEDGED_NAMESPACE=kf')).join('\n');
    expect(lines).to.contain('helm upgrade --install kube-fledged helm/kube-fledged --namespace kf --create-namespace --wait');
    const removal = (await dryRun('remove-kubefledged-and-operator', 'HELM=helm', 'KUBEFLEDGED_NAMESPACE=kf')).join('\n');
    expect(removal).to.contain('helm uninstall kube-fledged --namespace kf');
    expect(removal).to.contain('kubectl delete namespace kf --ignore-not-found');
  });

  it('lists the user targets in make help', async () => {
    const { stdout } = await execFileAsync('make', ['--no-print-directory', 'help'], { cwd: ROOT });
    for (const t of ['deploy-using-yaml', 'remove-kubefledged', 'update', 'deploy-using-operator', 'remove-kubefledged-and-operator', 'controller-image', 'webhook-server-image', 'cri-client-image', 'release', 'release-amd64', 'chart-package', 'chart-verify', 'manifests', 'sync-crds']) {
      expect(stdout).to.match(new RegExp(`^  ${t} `, 'm'));
    }
  });
});
