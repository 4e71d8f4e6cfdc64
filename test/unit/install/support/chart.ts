// Renders the chart with `helm template` and gives the objects to the install tests.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { CHART_DIR, ensureHelm } from '../../../../hack/chart/helm-binary.js';

const execFileAsync = promisify(execFile);

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

let helmPath: string | undefined;
/** The helm binary (built into the cache by hack/build-binaries.sh on first use). */
export function helm(): string {
  helmPath ??= ensureHelm();
  return helmPath;
}

export interface RenderResult {
  objects: K8sObject[];
  text: string;
}

/**
 * `helm template <release> helm/kube-fledged -n <namespace>` with the given values (written to a values
 * file, so types are kept). Rejects with helm's stderr when rendering fails.
 */
export async function render(values: Record<string, unknown> = {}, release = 'kube-fledged', namespace = 'kube-fledged'): Promise<RenderResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-chart-'));
  try {
    const valuesFile = path.join(dir, 'values.yaml');
    fs.writeFileSync(valuesFile, stringify(values));
    const text = await helmTemplate(['template', release, CHART_DIR, '--namespace', namespace, '-f', valuesFile]);
    return { text, objects: parseObjects(text) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function helmTemplate(args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(helm(), args, { maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(e.stderr?.trim() || e.message, { cause: err });
  }
}

export function parseObjects(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if ('errors' in doc && doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]!.message}`);
    const value = (doc as { toJS(): unknown }).toJS();
    if (value && typeof value === 'object') objects.push(value as K8sObject);
  }
  return objects;
}

/** The one object of a kind whose name ends with `suffix`; throws when there is not exactly one. */
export function one(objects: K8sObject[], kind: string, suffix = ''): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name.endsWith(suffix));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind} named *${suffix}, found ${found.map((o) => o.metadata.name).join(', ') || 'none'}`);
  }
  return found[0]!;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name: string; containerPort: number }[];
  securityContext?: Record<string, unknown>;
  resources?: Record<string, unknown>;
  livenessProbe?: Record<string, unknown>;
  readinessProbe?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface PodSpec {
  containers: Container[];
  serviceAccountName?: string;
  hostNetwork?: boolean;
  priorityClassName?: string;
  securityContext?: Record<string, unknown>;
  volumes?: { name: string; [k: string]: unknown }[];
  [key: string]: unknown;
}

export function podSpec(deployment: K8sObject): PodSpec {
  return (deployment as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

export function container(deployment: K8sObject): Container {
  const c = podSpec(deployment).containers;
  if (c.length !== 1) throw new Error(`${deployment.metadata.name}: expected one container, found ${c.length}`);
  return c[0]!;
}
