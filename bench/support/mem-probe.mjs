// A measuring probe preloaded into the controller (docs/benchmark.md "Memory"):
//
//   npx tsx bench/cluster-scale.ts --scenarios 200x10x1 --no-floor \
//       --controller-node-option=--import=$PWD/bench/support/mem-probe.mjs
//
// Every 100 ms it reads /proc/self/smaps_rollup and V8's heap statistics; at each new RSS peak it writes
// $MEM_PROBE_DIR/mem-probe.<pid>.json (default: the OS temp dir): the first sample and the peak one (RSS,
// anonymous and file-backed, V8's spaces, malloced memory), and /proc/self/smaps beside it
// (.smaps-first, .smaps-peak: which mappings grew). A few hundred KiB of the controller's own heap; the
// samples are taken on the main thread, so a peak between two samples shows in VmHWM only.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import process from 'node:process';
import { setInterval, clearInterval } from 'node:timers';
import * as v8 from 'node:v8';

const KiB = (n) => Math.round(n / 1024);

/** Rss, Anonymous, ... of /proc/self/smaps_rollup, in KiB. */
export function parseRollup(text) {
  const out = {};
  for (const m of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

export function sample() {
  const r = parseRollup(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'));
  const h = v8.getHeapStatistics();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { physicalKiB: KiB(s.physical_space_size), usedKiB: KiB(s.space_used_size) }]));
  return {
    at: new Date().toISOString(),
    rssKiB: r.Rss, anonKiB: r.Anonymous, fileKiB: r.Rss - r.Anonymous,
    v8PhysicalKiB: KiB(h.total_physical_size), v8UsedKiB: KiB(h.used_heap_size), mallocedKiB: KiB(h.malloced_memory), externalKiB: KiB(process.memoryUsage().external),
    spaces,
  };
}

export function start(dir = process.env.MEM_PROBE_DIR || os.tmpdir(), intervalMs = 100) {
  const base = path.join(dir, `mem-probe.${process.pid}`);
  let first;
  let peak = 0;
  let smapsAt = 0;
  const tick = () => {
    const s = sample();
    if (!first) {
      first = s;
      fs.writeFileSync(`${base}.smaps-first`, fs.readFileSync('/proc/self/smaps'));
    }
    if (s.rssKiB <= peak) return;
    peak = s.rssKiB;
    fs.writeFileSync(`${base}.json`, JSON.stringify({ first, peak: s }, null, 1));
    if (s.rssKiB > smapsAt + 1024) { // smaps is large: again only when the peak grew by 1 MiB
      smapsAt = s.rssKiB;
      fs.writeFileSync(`${base}.smaps-peak`, fs.readFileSync('/proc/self/smaps'));
    }
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return { stop: () => clearInterval(timer), file: `${base}.json` };
}

// preloaded (--import): starts; MEM_PROBE_OFF=1 for importing it without a probe (its test)
if (!process.env.MEM_PROBE_OFF) start();
