// Command line of bench/cluster-scale.ts (pure). Every bad value is refused with the flag and the fix.
export interface BenchArgs {
  nodes: number[];
  images: number[];
  caches: number[];
  floor: boolean;
  /** "NxI" pairs (1 cache) where the original's strategy runs too */
  original: string[];
  idleSeconds: number;
  refreshPeriod: number;
  /** scenario keys "NxIxC" where the idle windows are measured */
  idleAt: string[];
  out: string;
  /** true: the PNG is required; 'if-available': written when rsvg-convert is installed */
  png: boolean | 'if-available';
  keepNodes: boolean;
  controllerArgs: string[];
  /** run the shipped build (dist/bundle/controller.js, as the image does), the compiled modules of dist/cmd/, or src/ through tsx */
  controllerFrom: 'dist' | 'modules' | 'src';
  /** extra node/V8 flags of the controller process (after the shipped ones) */
  controllerNodeOptions: string[];
  /** a heap snapshot of the controller at the end of each create phase, summarised in the results */
  heapSnapshot: boolean;
  /** creates the floor keeps in flight */
  floorConcurrency: number;
  /** runs of each scenario (ours then the floor, back to back); the ratios use the median */
  repeat: number;
  /** explicit scenario keys "NxIxC" instead of the nodes x images x caches matrix */
  scenarios?: string[];
  /** results JSONs of earlier runs whose original's-strategy figures fill the scenarios not measured here (the first file that has a scenario's wins) */
  originalFrom: string[];
  /**
   * No measurement: the results JSONs to combine into --out (a later file's scenario replaces an
   * earlier file's of the same nodes x images x caches), e.g. a full matrix and a rerun of some rows.
   */
  merge: string[];
  /** results JSON of an earlier run whose scenarios are put before this run's in the results */
  include?: string;
  /**
   * kube-apiserver started again before each contestant's run (ours, the floor, the original's
   * strategy), so that each one starts with the same watch caches and watchers (docs/benchmark.md)
   */
  freshApiserver: boolean;
}

/** The scenarios to run, by ascending nodes (nodes are only ever added between tiers). */
export function scenarioList(a: BenchArgs): { nodes: number; images: number; caches: number }[] {
  const all = a.scenarios
    ? a.scenarios.map((k) => { const [nodes, images, caches] = k.split('x').map(Number) as [number, number, number]; return { nodes, images, caches }; })
    : a.nodes.flatMap((nodes) => a.images.flatMap((images) => a.caches.map((caches) => ({ nodes, images, caches }))));
  return all.sort((x, y) => x.nodes - y.nodes);
}

export const DEFAULTS: BenchArgs = {
  nodes: [100, 500, 1000],
  images: [10, 50],
  caches: [1, 10],
  floor: true,
  original: ['100x10'],
  idleSeconds: 300,
  refreshPeriod: 60,
  idleAt: ['1000x10x1'],
  out: 'bench/results/cluster-scale',
  png: true,
  keepNodes: false,
  controllerArgs: [],
  controllerFrom: 'dist',
  controllerNodeOptions: [],
  repeat: 1,
  heapSnapshot: false,
  floorConcurrency: 32,
  originalFrom: [],
  merge: [],
  freshApiserver: true,
};

function list(flag: string, v: string, min: number): number[] {
  const out = v.split(',').filter(Boolean).map(Number);
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < min)) {
    throw new Error(`--${flag}: "${v}" is not a comma-separated list of integers >= ${min} (e.g. --${flag} 100,500)`);
  }
  return out;
}

function keys(flag: string, v: string, parts: number): string[] {
  const out = v.split(',').filter(Boolean);
  const re = parts === 2 ? /^\d+x\d+$/ : /^\d+x\d+x\d+$/;
  const bad = out.find((k) => !re.test(k));
  if (bad !== undefined) throw new Error(`--${flag}: "${bad}" is not ${parts === 2 ? 'NODESxIMAGES (e.g. 100x10)' : 'NODESxIMAGESxCACHES (e.g. 100x10x1)'}; "" for none`);
  return out;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const a: BenchArgs = { ...DEFAULTS, controllerArgs: [], controllerNodeOptions: [], originalFrom: [], merge: [] };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const flag = (eq > 0 ? raw.slice(0, eq) : raw).replace(/^--/, '');
    const value = (): string => {
      if (eq > 0) return raw.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`--${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case 'nodes': a.nodes = list(flag, value(), 1); break;
      case 'images': a.images = list(flag, value(), 1); break;
      case 'caches': a.caches = list(flag, value(), 1); break;
      case 'original': a.original = keys(flag, value(), 2); break;
      case 'idle-at': a.idleAt = keys(flag, value(), 3); break;
      case 'idle-seconds': a.idleSeconds = list(flag, value(), 0)[0]!; break;
      case 'refresh-period': a.refreshPeriod = list(flag, value(), 0)[0]!; break;
      case 'out': a.out = value(); break;
      case 'no-floor': a.floor = false; break;
      case 'no-png': a.png = false; break;
      case 'png-if-available': a.png = 'if-available'; break;
      case 'keep-nodes': a.keepNodes = true; break;
      case 'no-fresh-apiserver': a.freshApiserver = false; break;
      case 'controller-arg': a.controllerArgs.push(value()); break;
      case 'controller-node-option': a.controllerNodeOptions.push(value()); break;
      case 'controller-from': {
        const v = value();
        if (v !== 'dist' && v !== 'modules' && v !== 'src') throw new Error(`--controller-from: "${v}" is none of dist (the shipped bundle, make build), modules (dist/cmd/*.js, one file per module) or src (TypeScript through tsx)`);
        a.controllerFrom = v;
        break;
      }
      case 'floor-concurrency': a.floorConcurrency = list(flag, value(), 1)[0]!; break;
      case 'heap-snapshot': a.heapSnapshot = true; break;
      case 'repeat': a.repeat = list(flag, value(), 1)[0]!; break;
      case 'scenarios': a.scenarios = keys(flag, value(), 3); break;
      case 'original-from': a.originalFrom.push(...value().split(',').filter(Boolean)); break;
      case 'include': a.include = value(); break;
      case 'merge': a.merge.push(...value().split(',').filter(Boolean)); break;
      default:
        throw new Error(`unknown flag ${raw}: use --nodes, --images, --caches, --original, --idle-at, --idle-seconds, --refresh-period, --out, --no-floor, --no-fresh-apiserver, --floor-concurrency, --no-png, --png-if-available, --keep-nodes, --controller-arg, --controller-node-option, --controller-from, --heap-snapshot, --repeat, --scenarios, --original-from, --include, --merge`);
    }
  }
  if ([...a.caches, ...(a.scenarios ?? []).map((k) => Number(k.split('x')[2]))].some((c) => c !== 1 && c !== 10)) throw new Error('--caches: 1 or 10 (each cache of the 10-cache scenario selects one of the 10 node groups)');
  if (a.refreshPeriod > 0 && a.refreshPeriod < 1) throw new Error('--refresh-period: at least 1 s (the controller refuses shorter)');
  return a;
}
