import { expect } from 'chai';
import { DEFAULT_PULL_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, parseCriClientArgs, parseDurationMs } from '../../../src/cri/cri-client-args.js';

describe('cri/cri-client-args', () => {
  const env = {};

  it('parses rmi with a runtime endpoint and several images', () => {
    const r = parseCriClientArgs(['rmi', '--runtime-endpoint', 'unix:///run/containerd/containerd.sock', 'nginx', 'busybox:1.36'], env);
    expect(r).to.deep.equal({
      ok: true,
      options: { runtimeEndpoint: 'unix:///run/containerd/containerd.sock', timeoutMs: DEFAULT_TIMEOUT_MS, pullTimeoutMs: DEFAULT_PULL_TIMEOUT_MS, apiVersion: 'auto' },
      command: { name: 'rmi', images: ['nginx', 'busybox:1.36'] },
    });
  });

  it('accepts global flags before the command, in short and --flag=value forms', () => {
    const r = parseCriClientArgs(['-r', 'unix:///a.sock', '--image-endpoint=unix:///b.sock', '-t', '2s', 'rmi', 'nginx'], env);
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.options).to.include({ runtimeEndpoint: 'unix:///a.sock', imageEndpoint: 'unix:///b.sock', timeoutMs: 2000 });
  });

  it('takes endpoints from CONTAINER_RUNTIME_ENDPOINT / IMAGE_SERVICE_ENDPOINT; flags win', () => {
    const e = { CONTAINER_RUNTIME_ENDPOINT: 'unix:///env-r.sock', IMAGE_SERVICE_ENDPOINT: 'unix:///env-i.sock' };
    const fromEnv = parseCriClientArgs(['images'], e);
    expect(fromEnv.ok && fromEnv.options).to.include({ runtimeEndpoint: 'unix:///env-r.sock', imageEndpoint: 'unix:///env-i.sock' });
    const fromFlag = parseCriClientArgs(['-r', 'unix:///flag.sock', 'images'], e);
    expect(fromFlag.ok && fromFlag.options).to.include({ runtimeEndpoint: 'unix:///flag.sock', imageEndpoint: 'unix:///env-i.sock' });
    const blank = parseCriClientArgs(['images'], { CONTAINER_RUNTIME_ENDPOINT: '  ' });
    expect(blank.ok && blank.options.runtimeEndpoint).to.equal(undefined);
  });

  it('"--" ends the flags: what follows is an image even if it looks like a flag', () => {
    const r = parseCriClientArgs(['rmi', '-r', 'unix:///x.sock', '--', '--timeout=1ms', 'nginx'], env);
    expect(r.ok && r.command).to.deep.equal({ name: 'rmi', images: ['--timeout=1ms', 'nginx'] });
    expect(r.ok && r.options.timeoutMs).to.equal(DEFAULT_TIMEOUT_MS);
  });

  it('parses images flags and filter', () => {
    expect(parseCriClientArgs(['images', '-q'], env)).to.deep.include({ command: { name: 'images', quiet: true, output: 'table' } });
    expect(parseCriClientArgs(['images', '-o', 'json', 'nginx'], env)).to.deep.include({ command: { name: 'images', quiet: false, output: 'json', filter: 'nginx' } });
  });

  it('parses pull, inspecti, version, help and the termination log flag', () => {
    expect(parseCriClientArgs(['pull', 'a', 'b'], env)).to.deep.include({ command: { name: 'pull', images: ['a', 'b'] } });
    expect(parseCriClientArgs(['inspecti', 'a'], env)).to.deep.include({ command: { name: 'inspecti', images: ['a'] } });
    expect(parseCriClientArgs(['version'], env)).to.deep.include({ command: { name: 'version' } });
    expect(parseCriClientArgs([], env)).to.deep.include({ command: { name: 'help' } });
    expect(parseCriClientArgs(['rmi', '--help'], env)).to.deep.include({ command: { name: 'help' } });
    const t = parseCriClientArgs(['--termination-log', '/tmp/t', 'rmi', 'a'], env);
    expect(t.ok && t.options.terminationLog).to.equal('/tmp/t');
  });

  it('parses --pull-timeout and --cri-api', () => {
    const r = parseCriClientArgs(['--pull-timeout', '90s', '--cri-api', 'v1alpha2', 'pull', 'a'], env);
    expect(r.ok && r.options).to.include({ pullTimeoutMs: 90_000, apiVersion: 'v1alpha2' });
  });

  const errors: Array<[string[], RegExp]> = [
    [['rmi'], /rmi needs at least one image/],
    [['pull'], /pull needs at least one image/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['rmi', '--force', 'a'], /unknown flag "--force" for "rmi"/],
    [['-q', 'images'], /unknown flag "-q"/],
    [['rmi', '-r'], /flag -r needs a value/],
    [['-t', 'soon', 'rmi', 'a'], /--timeout "soon" is not a positive duration/],
    [['-t', '0s', 'rmi', 'a'], /--timeout "0s" is not a positive duration/],
    [['--pull-timeout', '-1', 'pull', 'a'], /--pull-timeout "-1" is not a positive duration/],
    [['--cri-api', 'v2', 'version'], /--cri-api "v2" is not supported/],
    [['images', '-o', 'yaml'], /images -o "yaml" is not supported/],
    [['images', 'a', 'b'], /at most one reference/],
    [['version', 'x'], /version takes no arguments/],
    [['--help=yes'], /takes no value/],
  ];
  for (const [argv, message] of errors) {
    it(`rejects ${JSON.stringify(argv)}`, () => {
      const r = parseCriClientArgs(argv, env);
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.error).to.match(message);
    });
  }

  it('parseDurationMs', () => {
    expect(parseDurationMs('2s')).to.equal(2000);
    expect(parseDurationMs('500ms')).to.equal(500);
    expect(parseDurationMs('1.5m')).to.equal(90_000);
    expect(parseDurationMs('1h')).to.equal(3_600_000);
    expect(parseDurationMs('3')).to.equal(3000);
    expect(parseDurationMs('0')).to.equal(undefined);
    expect(parseDurationMs('2 days')).to.equal(undefined);
  });
});
