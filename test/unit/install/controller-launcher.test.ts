// The controller's launcher (dist/bundle/kubefledged-controller, written by hack/bundle.mjs): run for
// real with sh and node against a stand-in controller.js that reports what it was started with.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONTROLLER_ENV, CONTROLLER_NODE_ARGS, CONTROLLER_NODE_FLAGS, launcherScript } from '../../../hack/bundle.mjs';
import { shippedLaunch } from '../../../bench/support/bench-controller.js';

interface Started { execArgv: string[]; nodeOptions?: string; mmapThreshold?: string; arenaMax?: string; argv: string[] }

describe('install: the controller launcher (hack/bundle.mjs)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-launcher-'));
    fs.writeFileSync(path.join(dir, 'kubefledged-controller'), launcherScript(), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'controller.js'), `process.stdout.write(JSON.stringify({ execArgv: process.execArgv,
      nodeOptions: process.env.NODE_OPTIONS, mmapThreshold: process.env.MALLOC_MMAP_THRESHOLD_, arenaMax: process.env.MALLOC_ARENA_MAX, argv: process.argv.slice(2) }));\n`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (env: Record<string, string | undefined> = {}, args: string[] = []): Started => {
    const base: NodeJS.ProcessEnv = { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`, HOME: os.tmpdir() };
    for (const [k, v] of Object.entries(env)) if (v !== undefined) base[k] = v;
    return JSON.parse(execFileSync(path.join(dir, 'kubefledged-controller'), args, { env: base, encoding: 'utf8' })) as Started;
  };

  it('starts node with the memory settings: NODE_OPTIONS flags, node flags, glibc environment', () => {
    expect(CONTROLLER_NODE_FLAGS).to.include('--max-semi-space-size=1');
    expect(CONTROLLER_NODE_ARGS).to.include.members(['--initial-old-space-size=32', '--heap-growing-percent=30']);
    expect(CONTROLLER_NODE_ARGS).to.not.include('--optimize-for-size', 'it costs the passes 2-4x their CPU at 1,000 x 50');
    expect(CONTROLLER_NODE_ARGS.some((a) => a.startsWith('--max-old-space-size'))).to.equal(false, 'the heap is not capped');
    expect(CONTROLLER_ENV).to.deep.equal({ MALLOC_MMAP_THRESHOLD_: '16384', MALLOC_ARENA_MAX: '2' });
    const s = run({}, ['--leader-elect=false', 'an argument with spaces']);
    expect(s.execArgv).to.deep.equal(CONTROLLER_NODE_ARGS);
    expect(s.nodeOptions).to.equal(CONTROLLER_NODE_FLAGS.join(' '));
    expect(s.mmapThreshold).to.equal('16384');
    expect(s.arenaMax).to.equal('2');
    expect(s.argv).to.deep.equal(['--leader-elect=false', 'an argument with spaces']);
  });

  it('keeps what the environment sets: NODE_OPTIONS after its own flags, MALLOC_MMAP_THRESHOLD_, MALLOC_ARENA_MAX, KUBEFLEDGED_CONTROLLER_NODE_ARGS', () => {
    const s = run({ NODE_OPTIONS: '--max-old-space-size=512', MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_ARENA_MAX: '8', KUBEFLEDGED_CONTROLLER_NODE_ARGS: '--heap-growing-percent=50' });
    expect(s.nodeOptions).to.equal(`${CONTROLLER_NODE_FLAGS.join(' ')} --max-old-space-size=512`);
    expect(s.mmapThreshold).to.equal('65536');
    expect(s.arenaMax).to.equal('8');
    expect(s.execArgv).to.deep.equal(['--heap-growing-percent=50']);
    expect(run({ KUBEFLEDGED_CONTROLLER_NODE_ARGS: '' }).execArgv).to.deep.equal([]);
  });

  it('the bench starts the bundle as the launcher does (bench/support/bench-controller.ts)', () => {
    expect(shippedLaunch({})).to.deep.equal({ env: CONTROLLER_ENV, nodeArgs: CONTROLLER_NODE_ARGS });
    expect(shippedLaunch({ MALLOC_MMAP_THRESHOLD_: '65536', KUBEFLEDGED_CONTROLLER_NODE_ARGS: '--heap-growing-percent=50' }))
      .to.deep.equal({ env: { MALLOC_ARENA_MAX: '2' }, nodeArgs: ['--heap-growing-percent=50'] });
    // set empty: left out of the controller's environment (a run without it)
    expect(shippedLaunch({ MALLOC_MMAP_THRESHOLD_: '', MALLOC_ARENA_MAX: '', KUBEFLEDGED_CONTROLLER_NODE_ARGS: '' })).to.deep.equal({ env: { MALLOC_MMAP_THRESHOLD_: undefined, MALLOC_ARENA_MAX: undefined }, nodeArgs: [] });
  });
});
