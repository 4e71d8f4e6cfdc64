// Peak RSS and CPU seconds of a process, from /proc/<pid>/status (VmRSS, VmHWM) and /proc/<pid>/stat
// (utime + stime), sampled every `intervalMs`. VmHWM is the kernel's own high-water mark, so the peak
// is exact even between samples.
import * as fs from 'node:fs';

export interface ProcSample { rssBytes: number; hwmBytes: number; cpuSeconds: number }

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux/x86-64 and arm64

export function parseStatus(text: string): { rssBytes: number; hwmBytes: number } {
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
}

/** utime + stime in seconds; the command name (field 2) may hold spaces and parentheses. */
export function parseStatCpuSeconds(text: string): number {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const st = parseStatus(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { ...st, cpuSeconds: parseStatCpuSeconds(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')) };
  } catch {
    return undefined; // the process is gone
  }
}

export class ProcSampler {
  private timer?: NodeJS.Timeout;
  peakRss = 0;
  last?: ProcSample;

  constructor(private readonly pid: number, private readonly intervalMs = 200) {}

  start(): this {
    const tick = () => {
      const s = sampleProc(this.pid);
      if (!s) return;
      this.last = s;
      this.peakRss = Math.max(this.peakRss, s.rssBytes, s.hwmBytes);
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Current sample (taken now), also folded into the peak. */
  now(): ProcSample | undefined {
    const s = sampleProc(this.pid);
    if (s) {
      this.last = s;
      this.peakRss = Math.max(this.peakRss, s.rssBytes, s.hwmBytes);
    }
    return s ?? this.last;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
