// The chart is the only template: `helm template <release> <chart> --namespace <ns> -f <spec> --include-crds`
// with the Helm binary the image ships (HELM_BINARY, default `helm` on PATH). Thin I/O: it runs helm and
// parses its output; what to do with the objects is decided in release-plan.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { ValuesError, helmErrorMessage, type KubeObject } from './release-plan.js';

const execFileAsync = promisify(execFile);

/** Where the chart is: KUBEFLEDGED_CHART_DIR, else helm/kube-fledged of this package. */
export function defaultChartDir(env: Record<string, string | undefined> = process.env): string {
  return env.KUBEFLEDGED_CHART_DIR || path.resolve(import.meta.dirname, '..', '..', 'helm', 'kube-fledged');
}

export function defaultHelmBinary(env: Record<string, string | undefined> = process.env): string {
  return env.HELM_BINARY || 'helm';
}

export interface Rendering {
  /** the chart's templates */
  objects: KubeObject[];
  /** the chart's crds/ */
  crds: KubeObject[];
}

export interface ChartInfo {
  /** <name>-<version>, as Helm's helm.sh/chart label */
  chart: string;
  /** values.yaml */
  defaults: Record<string, unknown>;
}

export function parseObjects(text: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if ('errors' in doc && doc.errors.length > 0) throw new ValuesError(`helm rendered invalid YAML: ${doc.errors[0]!.message}`);
    const value = (doc as { toJS(): unknown }).toJS() as KubeObject | null;
    if (value && typeof value === 'object') out.push(value);
  }
  return out;
}

export class ChartRenderer {
  constructor(
    readonly chartDir: string = defaultChartDir(),
    readonly helm: string = defaultHelmBinary(),
  ) {}

  info(): ChartInfo {
    const chart = parse(fs.readFileSync(path.join(this.chartDir, 'Chart.yaml'), 'utf8')) as { name: string; version: string };
    const defaults = (parse(fs.readFileSync(path.join(this.chartDir, 'values.yaml'), 'utf8')) ?? {}) as Record<string, unknown>;
    return { chart: `${chart.name}-${chart.version}`, defaults };
  }

  /** `helm version --short`: fails at startup, naming HELM_BINARY, when helm cannot run. */
  async helmVersion(): Promise<string> {
    try {
      const { stdout } = await execFileAsync(this.helm, ['version', '--short'], { timeout: 30_000 });
      return stdout.trim();
    } catch (err) {
      throw new Error(`cannot run helm binary ${this.helm} (${(err as Error).message.split('\n')[0]}): set HELM_BINARY to its path`, { cause: err });
    }
  }

  /** Renders the release; a refusal of helm (schema, `fail` in a template) is a ValuesError with helm's words. */
  async render(release: string, namespace: string, values: Record<string, unknown>): Promise<Rendering> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-operator-'));
    try {
      const file = path.join(dir, 'values.json');
      fs.writeFileSync(file, JSON.stringify(values));
      let stdout: string;
      try {
        ({ stdout } = await execFileAsync(this.helm, ['template', release, this.chartDir, '--namespace', namespace, '--include-crds', '-f', file], {
          maxBuffer: 32 << 20,
          timeout: 60_000,
        }));
      } catch (err) {
        const e = err as { stderr?: string; code?: unknown; message: string };
        if (e.code === 'ENOENT') throw new Error(`helm binary ${this.helm} not found: set HELM_BINARY to its path`, { cause: err });
        throw new ValuesError(helmErrorMessage(e.stderr ?? e.message));
      }
      const all = parseObjects(stdout);
      return {
        crds: all.filter((o) => o.kind === 'CustomResourceDefinition'),
        objects: all.filter((o) => o.kind !== 'CustomResourceDefinition'),
      };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
