// The Makefile targets users type (spec §5.3), checked with `make -n` (print, don't run): the same
// names and variables as the original, and every deploy/ manifest applied and removed; the operator
// path's namespace streams are run (sed to stdout) and parsed.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../../../hack/chart/helm-binary.js';
import { STATIC_FILES } from '../../../hack/chart/render-manifests.js';
import { parseObjects, type K8sObject } from './support/chart.js';

const execFileAsync = promisify(execFile);

async function dryRun(...args: string[]): Promise<string[]> {
  const { stdout } = await execFileAsync('make', ['--no-print-directory', '-n', ...args], { cwd: ROOT });
  return stdout.split('\n').filter((l) => l.trim() !== '');
}

/** The manifests of deploy/ (its subfolder kubefledged-operator/ belongs to deploy-using-operator). */
function deployFiles(): string[] {
  return fs.readdirSync(path.join(ROOT, 'deploy'), { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name);
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

  it('release RELEASE_ENGINE=buildah builds every TARGET_PLATFORMS into one list and pushes the version tag and :latest; a bad engine is refused', async () => {
    const lines = await dryRun('release', 'RELEASE_ENGINE=buildah', 'IMAGE_REPO=registry.example/team/kf', 'TARGET_PLATFORMS=linux/amd64,linux/arm64/v8');
    const cmd = lines.join(' ');
    expect(cmd).to.contain(`IMAGE="registry.example/team/kf:${appVersion()}"`);
    expect(cmd).to.contain('IMAGE_PLATFORMS="linux/amd64,linux/arm64/v8"');
    expect(cmd).to.contain(`IMAGE_PUSH="registry.example/team/kf:${appVersion()} registry.example/team/kf:latest"`);
    expect(cmd).to.contain('IMAGE_BASE="public"');
    expect(cmd).to.contain('hack/image/build.sh');
    expect(cmd).not.to.contain('buildx');
    const err = await execFileAsync('make', ['--no-print-directory', 'release', 'RELEASE_ENGINE=podman'], { cwd: ROOT }).then(() => undefined, (e: { stdout?: string }) => e);
    expect(err?.stdout).to.contain("RELEASE_ENGINE must be docker (Docker buildx, as the original) or buildah (no daemon), got 'podman'");
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
    const all = deployFiles().filter((f) => f !== 'kubefledged-imagecache.yaml');
    expect([...applied].sort()).to.deep.equal(all.sort());
    expect(applied.indexOf('kubefledged-deployment-controller.yaml')).to.be.lessThan(applied.indexOf('kubefledged-deployment-webhook-server.yaml'));
    expect(lines.filter((l) => l.includes('rollout status'))).to.have.length(2);
    expect(STATIC_FILES).to.include('kubefledged-imagecache.yaml');
  });

  it('remove-kubefledged deletes every object deploy-using-yaml created, by file (never by label)', async () => {
    const lines = await dryRun('remove-kubefledged');
    const deleted = lines.flatMap((l) => [...l.matchAll(/-f deploy\/(\S+)/g)].map((m) => m[1]!));
    const all = deployFiles().filter((f) => f !== 'kubefledged-imagecache.yaml');
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

  describe('the operator path (deploy/kubefledged-operator/)', () => {
    const OPERATOR_DIR = 'deploy/kubefledged-operator/deploy';
    const operatorFiles = (): string[] => fs.readdirSync(path.join(ROOT, OPERATOR_DIR), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml')).sort();
    const snapshotFiles = (): Record<string, string> =>
      Object.fromEntries(operatorFiles().map((f) => [f, fs.readFileSync(path.join(ROOT, OPERATOR_DIR, f), 'utf8')]));

    /** Runs the part of a dry-run line before "| kubectl ..." (the sed-to-stdout stream) and parses it. */
    async function stream(line: string): Promise<K8sObject[]> {
      const producer = line.slice(0, line.lastIndexOf('| kubectl'));
      const { stdout } = await execFileAsync('bash', ['-c', producer], { cwd: ROOT });
      return parseObjects(stdout);
    }

    it('deploy-using-operator: namespace, CRD, operator, rollout, then the KubeFledged object, its Deployed condition and both Deployments', async () => {
      const lines = await dryRun('deploy-using-operator', 'KUBEFLEDGED_NAMESPACE=kf');
      const steps = lines.map((l) => (/\| kubectl (\w+ \S+)/.exec(l)?.[1] ?? l.replace(/^-/, '').split(' ').slice(0, 3).join(' ')));
      expect(steps).to.deep.equal([
        'kubectl create namespace',
        'kubectl apply -f',
        'kubectl wait --for',
        'apply -f',
        'kubectl rollout status',
        'apply -f',
        'wait --for=condition=Deployed',
        'kubectl rollout status',
        'kubectl get kubefledgeds,pods',
      ]);
      expect(lines[0]).to.equal('kubectl create namespace kf');
      expect(lines[1]).to.equal(`kubectl apply -f ${OPERATOR_DIR}/crds/charts.helm.kubefledged.io_kubefledgeds_crd.yaml`);
      expect(lines[4]).to.contain('rollout status deployment kubefledged-operator -n kf');
      expect(lines[7]).to.contain("-n kf -l 'app=kubefledged,kubefledged in (kubefledged-controller,kubefledged-webhook-server)'");
    });

    it('applies the operator and the sample object in KUBEFLEDGED_NAMESPACE through sed to stdout: the working tree is never modified', async () => {
      const before = snapshotFiles();
      const lines = await dryRun('deploy-using-operator', 'KUBEFLEDGED_NAMESPACE=kf');
      expect(lines.join('\n')).not.to.match(/sed -i|git checkout/);
      const operator = await stream(lines[3]!);
      expect(operator.map((o) => `${o.kind}/${o.metadata.name}`)).to.deep.equal([
        'ServiceAccount/kubefledged-operator',
        'ClusterRole/kubefledged-operator',
        'ClusterRoleBinding/kubefledged-operator',
        'Role/kubefledged-operator',
        'RoleBinding/kubefledged-operator',
        'Deployment/kubefledged-operator',
      ]);
      for (const o of operator) {
        if (!o.kind.startsWith('Cluster')) expect(o.metadata.namespace, o.kind).to.equal('kf');
        const subjects = (o as unknown as { subjects?: { namespace: string }[] }).subjects;
        if (subjects) expect(subjects.map((x) => x.namespace), o.kind).to.deep.equal(['kf']);
      }
      const [cr] = await stream(lines[5]!);
      expect([cr!.kind, cr!.metadata.name, cr!.metadata.namespace]).to.deep.equal(['KubeFledged', 'kube-fledged', 'kf']);
      expect(snapshotFiles()).to.deep.equal(before);
    });

    it('runs the operator from the project image of this release, or OPERATOR_IMAGE', async () => {
      const image = async (...vars: string[]) => {
        const lines = await dryRun('deploy-using-operator', ...vars);
        const deployment = (await stream(lines[3]!)).find((o) => o.kind === 'Deployment')!;
        return (deployment as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers[0]!.image;
      };
      expect(await image()).to.equal(`docker.io/kubefledgedts/kube-fledged:${appVersion()}`);
      expect(await image('OPERATOR_IMAGE=registry.example/kf:v9')).to.equal('registry.example/kf:v9');
      expect(await image('IMAGE_REPO=registry.example/kf', 'RELEASE_VERSION=v1.2.3')).to.equal('registry.example/kf:v1.2.3');
    });

    it('OPERATOR_NODE_SELECTOR pins the operator\'s pod to nodes with that label', async () => {
      const lines = await dryRun('deploy-using-operator', 'OPERATOR_NODE_SELECTOR=kubefledged.io/real-node=true');
      const deployment = (await stream(lines[3]!)).find((o) => o.kind === 'Deployment')!;
      expect((deployment as unknown as { spec: { template: { spec: { nodeSelector?: Record<string, string> } } } }).spec.template.spec.nodeSelector)
        .to.deep.equal({ 'kubefledged.io/real-node': 'true' });
      const plain = (await stream((await dryRun('deploy-using-operator'))[3]!)).find((o) => o.kind === 'Deployment')!;
      expect((plain as unknown as { spec: { template: { spec: { nodeSelector?: unknown } } } }).spec.template.spec.nodeSelector).to.equal(undefined);
    });

    it('KUBEFLEDGED_CR points the targets at another KubeFledged object', async () => {
      const lines = (await dryRun('deploy-using-operator', 'KUBEFLEDGED_CR=/tmp/my-kf.yaml')).join('\n');
      expect(lines).to.contain('for f in /tmp/my-kf.yaml;');
      expect(lines).not.to.contain('kubefledged_cr.yaml');
    });

    it('remove-kubefledged-and-operator: the object first (its finalizer removes kube-fledged), then the operator, CRDs it created, its CRD, the namespace', async () => {
      const lines = await dryRun('remove-kubefledged-and-operator', 'KUBEFLEDGED_NAMESPACE=kf');
      expect(lines).to.have.length(5);
      expect(lines[0]).to.contain('kubefledged_cr.yaml').and.contain('| kubectl delete --ignore-not-found --wait');
      expect((await stream(lines[1]!)).map((o) => o.kind)).to.include.members(['Deployment', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount']);
      expect(lines[2]).to.equal('kubectl delete customresourcedefinitions -l charts.helm.kubefledged.io/owner-namespace=kf --ignore-not-found');
      expect(lines[3]).to.equal(`kubectl delete --ignore-not-found -f ${OPERATOR_DIR}/crds/charts.helm.kubefledged.io_kubefledgeds_crd.yaml`);
      expect(lines[4]).to.equal('kubectl delete namespace kf --ignore-not-found');
      for (const l of lines) expect(l).to.contain('--ignore-not-found');
      expect(lines.join('\n')).not.to.match(/git checkout|sed -i/);
    });
  });

  it('lists the user targets in make help', async () => {
    const { stdout } = await execFileAsync('make', ['--no-print-directory', 'help'], { cwd: ROOT });
    for (const t of ['deploy-using-yaml', 'remove-kubefledged', 'update', 'deploy-using-operator', 'remove-kubefledged-and-operator', 'controller-image', 'webhook-server-image', 'cri-client-image', 'release', 'release-amd64', 'chart-package', 'chart-verify', 'manifests', 'sync-crds']) {
      expect(stdout).to.match(new RegExp(`^  ${t} `, 'm'));
    }
  });
});
