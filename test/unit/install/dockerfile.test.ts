// The Dockerfile, checked without a Docker engine: dockerfile-utils (the validator behind the VS Code
// Docker extension) for syntax and Docker's own rules, then the project's policy as explicit checks.
// test/e2e/install/image-build.test.ts replays the build steps outside Docker.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import { ROOT } from '../../../hack/chart/helm-binary.js';
import { entrypointOf, instructions, parseDockerfile, userOf } from './support/dockerfile.js';

const DOCKERFILE = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

/** Every rule of the validator as an error (several default to warning or ignore). */
const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

function lint(text: string): string[] {
  return validate(text, STRICT).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
}

const TARGETS = ['controller', 'webhook-server', 'cri-client'] as const;

describe('install: Dockerfile', () => {
  const df = parseDockerfile(DOCKERFILE);

  it('passes the dockerfile-utils validator with every rule as an error', () => {
    expect(lint(DOCKERFILE)).to.deep.equal([]);
  });

  it('the validator does catch mistakes (a broken Dockerfile fails)', () => {
    const broken = [
      'FROM node:20 AS build',
      'from node:20 AS build2',
      'WORKDIR relative',
      'EXPOSE abc',
      'COPY --chmown=1 a b',
      "ENTRYPOINT ['x']",
      'FROM node:20 AS Bad_Name!',
      'FROM node:20 AS build',
    ].join('\n');
    const problems = lint(broken).join('\n');
    expect(problems).to.match(/line 2: Instructions should be written in uppercase/);
    expect(problems).to.match(/line 3: WORKDIR paths should be absolute/);
    expect(problems).to.match(/line 4: Invalid containerPort: abc/);
    expect(problems).to.match(/line 5: Unknown flag: chmown/);
    expect(problems).to.match(/line 6: .*single quotes/);
    expect(problems).to.match(/line 7: invalid name for build stage/);
    expect(problems).to.match(/line 8: duplicate name build/);
  });

  it('builds on the public Node 20 images by default (build args), has helm -> build -> deps -> runtime -> targets, the one image last', () => {
    expect(df.globalArgs.NODE_VERSION).to.match(/^20\.\d+\.\d+$/);
    expect(df.stages.map((s) => [s.name, s.from])).to.deep.equal([
      ['helm-build', `golang:${df.globalArgs.GO_VERSION}-bookworm`],
      ['helm', 'helm-build'],
      ['build', `node:${df.globalArgs.NODE_VERSION}-bookworm`],
      ['deps', `node:${df.globalArgs.NODE_VERSION}-bookworm`],
      ['runtime', `node:${df.globalArgs.NODE_VERSION}-bookworm-slim`],
      ['cri-client', 'runtime'],
      ['webhook-server', 'runtime'],
      ['controller', 'runtime'],
      ['kube-fledged', 'runtime'],
    ]);
    // the version of helm the local cluster builds (hack/versions.sh)
    const versions = fs.readFileSync(path.join(ROOT, 'hack', 'versions.sh'), 'utf8');
    expect(versions).to.contain(`HELM_VERSION="\${HELM_VERSION:-${df.globalArgs.HELM_VERSION}}"`);
    expect(versions).to.contain(`IMAGE_NODE_VERSION="\${IMAGE_NODE_VERSION:-${df.globalArgs.NODE_VERSION}}"`);
  });

  it('ships helm at /usr/local/bin/helm, built from its Go module (static) or taken from an image given as HELM_FROM', () => {
    const run = df.stages.find((s) => s.name === 'helm-build')!.instructions.find((i) => i.keyword === 'RUN')!;
    expect(run.args).to.contain('CGO_ENABLED=0');
    expect(run.args).to.contain('helm.sh/helm/v3/cmd/helm@v${HELM_VERSION}');
    const copy = df.stages.find((s) => s.name === 'runtime')!.instructions.filter((i) => i.keyword === 'COPY' && i.flags.from === 'helm');
    expect(copy.map((c) => c.args)).to.deep.equal(['/out/helm /usr/local/bin/helm']);
  });

  it('the one image (default target kube-fledged) starts the controller and exposes both ports', () => {
    expect(df.stages.at(-1)!.name).to.equal('kube-fledged');
    expect(entrypointOf(df, 'kube-fledged')).to.deep.equal(['/opt/bin/kubefledged-controller']);
    expect(userOf(df, 'kube-fledged')).to.equal('65532:65532');
  });

  it('makes each target start its own entrypoint in /opt/bin, in exec form', () => {
    for (const t of TARGETS) expect(entrypointOf(df, t), t).to.deep.equal([`/opt/bin/kubefledged-${t}`]);
    const wrappers = df.stages.find((s) => s.name === 'runtime')!.instructions.find((i) => i.keyword === 'RUN')!;
    expect(wrappers.args).to.contain('for name in controller webhook-server cri-client');
    expect(wrappers.args).to.contain('exec node');
    // the controller's wrapper starts the bundle's launcher (one file, the shipped V8 flags: hack/bundle.mjs)
    expect(wrappers.args).to.contain('exec "$(dirname "$0")/../kube-fledged/dist/bundle/kubefledged-controller" "$@"');
    const build = df.stages.find((s) => s.name === 'build')!.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(build.some((a) => /npx tsc -p tsconfig\.build\.json && node hack\/bundle\.mjs/.test(a))).to.equal(true);
  });

  it('runs every target as the non-root uid 65532 (numeric, so runAsNonRoot can check it)', () => {
    for (const t of TARGETS) expect(userOf(df, t), t).to.equal('65532:65532');
  });

  it('installs exactly the lock file (npm ci), production dependencies only in the runtime, and no npm cache in a layer', () => {
    const runs = df.stages.flatMap((s) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => ({ stage: s.name, ...i })));
    const npm = runs.filter((r) => /\bnpm\b/.test(r.args));
    expect(npm.map((r) => r.stage)).to.deep.equal(['build', 'deps']);
    expect(npm.every((r) => /\bnpm ci\b/.test(r.args))).to.equal(true);
    expect(npm.find((r) => r.stage === 'deps')!.args).to.contain('--omit=dev');
    for (const r of npm) expect(r.flags.mount, `line ${r.line}`).to.equal('type=cache,target=/root/.npm');
    const runtimeCopies = df.stages.find((s) => s.name === 'runtime')!.instructions.filter((i) => i.keyword === 'COPY');
    expect(runtimeCopies.map((c) => [c.flags.from ?? '.', c.args])).to.deep.equal([
      ['.', 'package.json ./'],
      ['deps', '/opt/kube-fledged/node_modules ./node_modules'],
      ['build', '/src/dist ./dist'],
      ['helm', '/out/helm /usr/local/bin/helm'],
      ['.', 'helm/kube-fledged ./helm/kube-fledged'],
    ]);
  });

  it('uses no ADD, no latest tag and absolute WORKDIRs', () => {
    const all = instructions(DOCKERFILE);
    expect(all.filter((i) => i.keyword === 'ADD')).to.deep.equal([]);
    expect(df.stages.filter((s) => /:latest$|^[^:]+$/.test(s.from) && !df.stages.some((o) => o.name === s.from))).to.deep.equal([]);
    for (const w of all.filter((i) => i.keyword === 'WORKDIR')) expect(w.args, `line ${w.line}`).to.match(/^\//);
  });

  it('sends only package files, tsconfigs, src/, the bundler script and the chart as build context', () => {
    const ignore = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).to.equal('*');
    expect(ignore.filter((l) => l.startsWith('!'))).to.deep.equal(['!package.json', '!package-lock.json', '!tsconfig.json', '!tsconfig.build.json', '!src/', '!hack/bundle.mjs', '!helm/kube-fledged/']);
    const contextCopies = instructions(DOCKERFILE).filter((i) => i.keyword === 'COPY' && !i.flags.from);
    for (const c of contextCopies) {
      const sources = c.args.split(/\s+/).slice(0, -1);
      for (const s of sources) {
        expect(ignore.includes(`!${s}`) || ignore.includes(`!${s}/`), `COPY ${s} (line ${c.line}) must be let through .dockerignore`).to.equal(true);
      }
    }
  });
});
