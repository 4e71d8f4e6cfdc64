// The image build without a Docker engine: the Dockerfile's own steps (npm ci, tsc, npm ci --omit=dev,
// the /opt/bin wrappers) replayed in a temporary directory on the .dockerignore-filtered context, then
// every target's ENTRYPOINT started as uid 65532 with --help.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from '../../../hack/chart/helm-binary.js';
import { parseDockerfile } from '../../unit/install/support/dockerfile.js';
import { buildContext, dockerignoreIncludes, replayDockerfile, type ReplayedStage } from './support/dockerfile-replay.js';

const TARGETS = {
  controller: { program: 'kubefledged-controller', flag: '-image-cache-refresh-frequency' },
  'webhook-server': { program: 'kubefledged-webhook-server', flag: '-tls-secret-name' },
  'cri-client': { program: 'kubefledged-cri-client', flag: 'rmi' },
} as const;

function du(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += du(p);
    else if (entry.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

describe('install (e2e): container image build steps replayed outside Docker', function () {
  this.timeout(900_000);
  const df = parseDockerfile(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  let work = '';
  let context: string[] = [];
  let stages = new Map<string, ReplayedStage>();

  before(function () {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-image-'));
    fs.chmodSync(work, 0o755); // the entrypoints run as uid 65532 below
    const contextDir = path.join(work, 'context');
    context = buildContext(ROOT, contextDir);
    const started = Date.now();
    stages = replayDockerfile(df, {
      context: contextDir,
      workDir: path.join(work, 'stages'),
      runEnv: { npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
    });
    console.log(`      (build steps replayed in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });

  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('sends only the package files, tsconfigs, src/ (no tests), the bundler script and the chart as build context', () => {
    const files = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'hack/bundle.mjs'];
    expect(context).to.include.members([...files, 'src/cmd/controller.ts', 'helm/kube-fledged/Chart.yaml']);
    expect(context.filter((f) => !f.startsWith('src/') && !f.startsWith('helm/kube-fledged/') && !files.includes(f))).to.deep.equal([]);
    expect(context.filter((f) => f.endsWith('.test.ts'))).to.deep.equal([]);
    expect(dockerignoreIncludes(['*', '!src/', 'src/**/*.test.ts'], 'src/a/b.test.ts')).to.equal(false);
    expect(dockerignoreIncludes(['*', '!src/'], 'node_modules/x/index.js')).to.equal(false);
  });

  it('compiles every entrypoint in the build stage', () => {
    const dist = path.join(stages.get('build')!.root, 'src', 'dist', 'cmd');
    expect(fs.readdirSync(dist).filter((f) => f.endsWith('.js')).sort()).to.deep.equal(['controller.js', 'cri-client.js', 'kubefledged-operator.js', 'webhook-server.js']);
    // the controller as one file, its launcher and the launcher's V8 flags (hack/bundle.mjs)
    const bundle = path.join(stages.get('build')!.root, 'src', 'dist', 'bundle');
    expect(fs.readdirSync(bundle).sort()).to.deep.equal(['controller.js', 'controller.js.map', 'controller.node-options', 'kubefledged-controller', 'watch-thread-worker.js', 'watch-thread-worker.js.map']);
    expect(fs.readFileSync(path.join(bundle, 'kubefledged-controller'), 'utf8')).to.contain(fs.readFileSync(path.join(bundle, 'controller.node-options'), 'utf8').trim());
  });

  it('ships production dependencies only in the runtime stage', () => {
    const runtime = stages.get('runtime')!;
    const modules = path.join(runtime.root, 'opt', 'kube-fledged', 'node_modules');
    for (const dep of ['@kubernetes/client-node', '@dot-i/k8s-operator', 'winston', '@grpc/grpc-js']) {
      expect(fs.existsSync(path.join(modules, dep)), dep).to.equal(true);
    }
    for (const dev of ['typescript', 'mocha', 'eslint', 'tsx', 'chai', 'dockerfile-utils']) {
      expect(fs.existsSync(path.join(modules, dev)), `${dev} must not be in the runtime image`).to.equal(false);
    }
    expect(fs.existsSync(path.join(runtime.root, 'opt', 'kube-fledged', 'src'))).to.equal(false);
    console.log(`      (runtime /opt: ${(du(path.join(runtime.root, 'opt')) / 1e6).toFixed(1)} MB)`);
  });

  for (const [target, expected] of Object.entries(TARGETS)) {
    it(`starts the ${target} target's ENTRYPOINT as uid 65532: ${expected.program} --help`, () => {
      const stage = stages.get(target)!;
      expect(stage.user).to.equal('65532:65532');
      const [entry, ...rest] = stage.entrypoint!;
      expect(entry).to.equal(`/opt/bin/${expected.program}`);
      const r = spawnSync(path.join(stage.root, entry!), [...rest, '--help'], {
        cwd: stage.root,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...stage.env },
        encoding: 'utf8',
        uid: 65532,
        gid: 65532,
        timeout: 60_000,
      });
      expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
      expect(r.stdout).to.contain(expected.program);
      expect(r.stdout).to.contain(expected.flag);
    });
  }

  it('exposes the controller metrics port and the webhook server port the chart uses', () => {
    expect(stages.get('controller')!.exposed).to.deep.equal(['8080']);
    expect(stages.get('webhook-server')!.exposed).to.deep.equal(['8443']);
  });
});
