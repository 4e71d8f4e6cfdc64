// The watches kube-apiserver closed during a phase because their client read too slowly: its watch cache
// gives each watcher a small buffer (10 events for Jobs and for a pod watch without a node name) and
// closes the watch when the client falls behind, logging "Forcing <resource> watcher close due to
// unresponsiveness". A client then watches again, and kwok, whose one pod watch feeds all its nodes'
// stages, plays stages again on objects it had played: pods written 3-6 times instead of twice, and a
// create that takes longer for the contestant whose run it fell in (docs/benchmark.md, "Slow watches").
// The bench prints these per phase so that a run hit by them says so.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readFrom } from './audit-log.js';

const LINE = /Forcing (\S+) watcher close due to unresponsiveness: key: "([^"]*)", labels: "([^"]*)", fields: "([^"]*)"/;

/** A watch as "resource key [labels] [fields]", with namespaces of the bench's own (kfb-...) folded to NS. */
export function watchCloses(logText: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of logText.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, resource, key, labels, fields] = m;
    const name = `${resource} ${key!.replace(/kfb-[a-z0-9-]+/g, 'NS')}${labels ? ` labels ${labels}` : ''}${fields ? ` fields ${fields}` : ''}`;
    out.set(name, (out.get(name) ?? 0) + 1);
  }
  return out;
}

/** kwok's pod watch: all pods bound to a node (kwok's --manage-pods-with-field-selector default). */
export const KWOK_POD_WATCH = 'pods /pods fields spec.nodeName!=';

/** One line for the log: how many, and of which watches, most first. */
export function formatWatchCloses(closes: Map<string, number>): string {
  const total = [...closes.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return 'kube-apiserver closed no slow watch';
  const kwok = closes.get(KWOK_POD_WATCH) ?? 0;
  const list = [...closes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`).join('; ');
  return `kube-apiserver closed ${total} slow watches (kwok's pod watch ${kwok} times): ${list}`;
}

/** Reads what kube-apiserver logged after a mark (the log's size then). */
export class ApiserverLog {
  private readonly file: string;
  constructor(clusterDir: string) {
    this.file = path.join(clusterDir, 'logs', 'kube-apiserver.log');
  }

  mark(): number {
    try {
      return fs.statSync(this.file).size;
    } catch {
      return 0;
    }
  }

  closesSince(mark: number): Map<string, number> {
    return fs.existsSync(this.file) ? watchCloses(readFrom(this.file, mark)) : new Map();
  }
}
