import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DEFAULT_TERMINATION_LOG,
  resolveTerminationLog,
  terminationLine,
  TERMINATION_MESSAGE_MAX_BYTES,
  writeTerminationLog,
} from '../../../src/cri/termination-log.js';

describe('cri/termination-log', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kf-cri-tl-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('flag > env > /dev/termination-log (only written when present)', () => {
    expect(resolveTerminationLog('/a', { KUBEFLEDGED_TERMINATION_LOG: '/b' })).to.deep.equal({ path: '/a', explicit: true });
    expect(resolveTerminationLog(undefined, { KUBEFLEDGED_TERMINATION_LOG: '/b' })).to.deep.equal({ path: '/b', explicit: true });
    expect(resolveTerminationLog(undefined, {})).to.deep.equal({ path: DEFAULT_TERMINATION_LOG, explicit: false });
  });

  it('folds line breaks into one line', () => {
    expect(terminationLine('a\nb\r\n  c\n')).to.equal('a b c');
  });

  it('cuts at 4096 bytes with "..." and never splits a character', () => {
    const long = terminationLine('é'.repeat(5000));
    expect(Buffer.byteLength(long)).to.be.at.most(TERMINATION_MESSAGE_MAX_BYTES);
    expect(long.endsWith('...')).to.equal(true);
    expect(long).not.to.contain('\uFFFD');
    expect(terminationLine('short')).to.equal('short');
  });

  it('writes an explicit path (creating it) with one line and a newline', async () => {
    const p = path.join(dir, 'explicit');
    expect(await writeTerminationLog({ path: p, explicit: true }, 'x: removed\nfine')).to.deep.equal({ written: true });
    expect(await readFile(p, 'utf8')).to.equal('x: removed fine\n');
  });

  it('keeps the whole file within the 4096 bytes Kubernetes reads', async () => {
    const p = path.join(dir, 'long');
    await writeTerminationLog({ path: p, explicit: true }, 'y'.repeat(10_000));
    expect((await readFile(p)).length).to.equal(TERMINATION_MESSAGE_MAX_BYTES);
  });

  it('does not create the default path outside a pod, and does not fail', async () => {
    const p = path.join(dir, 'absent-default');
    const r = await writeTerminationLog({ path: p, explicit: false }, 'line');
    expect(r.written).to.equal(false);
    let exists = true;
    await readFile(p).catch(() => {
      exists = false;
    });
    expect(exists).to.equal(false);
  });

  it('reports an explicit path that cannot be written', async () => {
    const r = await writeTerminationLog({ path: path.join(dir, 'no', 'such', 'dir', 'f'), explicit: true }, 'line');
    expect(r.written).to.equal(false);
    if (!r.written) expect(r.reason).to.contain('cannot write');
  });
});
