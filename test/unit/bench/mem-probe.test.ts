// The memory probe of the bench (bench/support/mem-probe.mjs): what it reads of /proc and what it writes.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

interface Probe {
  parseRollup: (text: string) => Record<string, number>;
  start: (dir: string, intervalMs?: number) => { stop: () => void; file: string };
}
let probe: Probe;

describe('bench: the memory probe (bench/support/mem-probe.mjs)', () => {
  before(async () => {
    process.env.MEM_PROBE_OFF = '1'; // imported, not preloaded: no probe of the test process
    // @ts-expect-error: a plain ES module of the bench, without types
    probe = (await import('../../../bench/support/mem-probe.mjs')) as Probe;
    delete process.env.MEM_PROBE_OFF;
  });
  it('parses smaps_rollup in KiB', () => {
    const text = '55d0c0a00000-7ffd3c5f2000 ---p 00000000 00:00 0    [rollup]\nRss:              106352 kB\nPss:              100000 kB\nAnonymous:         60056 kB\n';
    expect(probe.parseRollup(text)).to.deep.include({ Rss: 106352, Anonymous: 60056 });
  });

  it('writes the first and the peak sample (RSS split anonymous / file, V8 spaces) and smaps beside them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-mem-probe-'));
    try {
      const p = probe.start(dir, 10_000);
      p.stop();
      const out = JSON.parse(fs.readFileSync(p.file, 'utf8')) as { first: Record<string, unknown>; peak: { rssKiB: number; anonKiB: number; fileKiB: number; spaces: Record<string, { physicalKiB: number }> } };
      expect(out.peak.rssKiB).to.be.greaterThan(0);
      expect(out.peak.anonKiB + out.peak.fileKiB).to.equal(out.peak.rssKiB);
      expect(out.peak.spaces.old_space!.physicalKiB).to.be.greaterThan(0);
      expect(out.first).to.have.property('rssKiB');
      expect(fs.readFileSync(`${p.file.replace(/\.json$/, '')}.smaps-peak`, 'utf8')).to.match(/^Rss:/m);
      expect(fs.existsSync(`${p.file.replace(/\.json$/, '')}.smaps-first`)).to.equal(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
