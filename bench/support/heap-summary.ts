// What a V8 heap snapshot holds, by constructor: the sum of self sizes and the count of each kind of
// object, largest first (`npx tsx bench/support/heap-summary.ts FILE.heapsnapshot [top]`). Self sizes,
// not retained ones: enough to see which objects fill the heap (node objects, strings, Jobs, pods).
import * as fs from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: (string[] | string)[] } };
  nodes: number[];
  strings: string[];
}

export interface HeapRow { kind: string; count: number; selfBytes: number }

export function summariseHeap(snap: Snapshot, top = 20): { totalBytes: number; rows: HeapRow[] } {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0] as string[];
  const stride = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const by = new Map<string, HeapRow>();
  let totalBytes = 0;
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + iType]!] ?? '?';
    const size = snap.nodes[i + iSize]!;
    totalBytes += size;
    const kind = type === 'object' || type === 'closure' ? `${snap.strings[snap.nodes[i + iName]!]}${type === 'closure' ? '()' : ''}` : `(${type})`;
    const row = by.get(kind) ?? { kind, count: 0, selfBytes: 0 };
    row.count++;
    row.selfBytes += size;
    by.set(kind, row);
  }
  return { totalBytes, rows: [...by.values()].sort((a, b) => b.selfBytes - a.selfBytes).slice(0, top) };
}

export function formatHeap(s: { totalBytes: number; rows: HeapRow[] }): string {
  const MiB = (n: number) => (n / 2 ** 20).toFixed(1);
  return [`heap ${MiB(s.totalBytes)} MiB (self sizes):`, ...s.rows.map((r) => `  ${MiB(r.selfBytes).padStart(7)} MiB  ${String(r.count).padStart(8)}  ${r.kind}`)].join('\n');
}

if (process.argv[1]?.endsWith('heap-summary.ts')) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npx tsx bench/support/heap-summary.ts FILE.heapsnapshot [top]');
    process.exit(2);
  }
  console.log(formatHeap(summariseHeap(JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot, Number(process.argv[3] ?? 25))));
}
