// Pure decisions of the KubeFledged operator: which values a release gets (the spec merged over the
// chart's defaults, as Helm merges them) and their hash, which labels mark the objects of a release, the
// order objects are applied in, which live objects a new rendering no longer has (prune), and the status
// the object gets. No I/O here: release-reconciler.ts does the calls.
import { createHash } from 'node:crypto';
import {
  DEPLOYED,
  OWNER_NAME_LABEL,
  OWNER_NAMESPACE_LABEL,
  type Condition,
  type DeployedRelease,
  type KubeFledgedStatus,
  type ReasonType,
} from './kubefledged.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [key: string]: unknown;
}

/** A KubeFledged object seen as the owner of a release. */
export interface Owner {
  namespace: string;
  name: string;
}

/** The values of a release are wrong (bad spec, or `helm template` refused them): nothing is applied. */
export class ValuesError extends Error {
  override readonly name = 'ValuesError';
}

export interface ManagedKind {
  group: string;
  version: string;
  kind: string;
  namespaced: boolean;
}

/**
 * Every kind the chart can render, in the order Helm installs them (Helm's InstallOrder); pruning and
 * uninstalling go in reverse. The operator's RBAC (deploy/kubefledged-operator/deploy/) covers exactly
 * these; a unit test fails when the chart renders a kind that is missing here.
 */
export const MANAGED_KINDS: readonly ManagedKind[] = [
  { group: '', version: 'v1', kind: 'ServiceAccount', namespaced: true },
  { group: '', version: 'v1', kind: 'Secret', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', namespaced: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', namespaced: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', namespaced: true },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', namespaced: true },
  { group: '', version: 'v1', kind: 'Service', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'Deployment', namespaced: true },
  { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', namespaced: true },
  { group: 'cert-manager.io', version: 'v1', kind: 'Issuer', namespaced: true },
  { group: 'cert-manager.io', version: 'v1', kind: 'Certificate', namespaced: true },
  { group: 'monitoring.coreos.com', version: 'v1', kind: 'ServiceMonitor', namespaced: true },
  { group: 'monitoring.coreos.com', version: 'v1', kind: 'PrometheusRule', namespaced: true },
  { group: '', version: 'v1', kind: 'ConfigMap', namespaced: true },
  { group: 'admissionregistration.k8s.io', version: 'v1', kind: 'ValidatingWebhookConfiguration', namespaced: false },
];

export function apiVersionOf(k: Pick<ManagedKind, 'group' | 'version'>): string {
  return k.group ? `${k.group}/${k.version}` : k.version;
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

function managedKind(obj: Pick<KubeObject, 'apiVersion' | 'kind'>): ManagedKind | undefined {
  const group = groupOf(obj.apiVersion);
  return MANAGED_KINDS.find((k) => k.group === group && k.kind === obj.kind);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Helm's merge of user values over chart defaults (chartutil.CoalesceValues): maps merge key by key,
 * anything else (lists, scalars) replaces the default, and null removes the default key.
 */
export function mergeValues(defaults: unknown, overrides: unknown): unknown {
  if (!isPlainObject(defaults) || !isPlainObject(overrides)) return overrides === undefined ? defaults : overrides;
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === null) delete out[key];
    else out[key] = key in defaults ? mergeValues(defaults[key], value) : value;
  }
  return out;
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function valuesHash(values: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(values)).digest('hex')}`;
}

/** The spec as chart values: absent = the defaults; anything but an object is refused, naming the fix. */
export function specValues(spec: unknown): Record<string, unknown> {
  if (spec === undefined || spec === null) return {};
  if (!isPlainObject(spec)) {
    throw new ValuesError(`spec must be an object of chart values (as in values.yaml), got ${Array.isArray(spec) ? 'a list' : typeof spec}`);
  }
  return spec;
}

export function ownerLabels(owner: Owner): Record<string, string> {
  return { [OWNER_NAME_LABEL]: owner.name, [OWNER_NAMESPACE_LABEL]: owner.namespace };
}

export function ownerSelector(owner: Owner): string {
  return Object.entries(ownerLabels(owner)).map(([k, v]) => `${k}=${v}`).join(',');
}

/** group|kind|namespace|name: the identity of an object whatever its API version. */
export function objectKey(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  return [groupOf(obj.apiVersion), obj.kind, obj.metadata.namespace ?? '', obj.metadata.name].join('|');
}

export function describe(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return obj.metadata.namespace ? `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}` : `${obj.kind} ${obj.metadata.name}`;
}

/**
 * The objects to apply for a rendering: each labelled with its owner, namespaced ones in the release
 * namespace, in install order. A kind the operator does not manage is refused (it could never be
 * pruned, and the operator has no RBAC for it); so is an object rendered twice.
 */
export function releaseObjects(rendered: KubeObject[], owner: Owner): KubeObject[] {
  const seen = new Set<string>();
  const out: { obj: KubeObject; order: number }[] = [];
  for (const r of rendered) {
    const kind = managedKind(r);
    if (!kind) {
      throw new ValuesError(`the chart rendered ${r.kind} ${r.metadata.name} (${r.apiVersion}), a kind the operator does not manage: add it to MANAGED_KINDS and to the operator's RBAC`);
    }
    if (kind.namespaced && r.metadata.namespace && r.metadata.namespace !== owner.namespace) {
      throw new ValuesError(`the chart rendered ${describe(r)} outside the release namespace ${owner.namespace}`);
    }
    const metadata = { ...r.metadata, labels: { ...r.metadata.labels, ...ownerLabels(owner) } };
    if (kind.namespaced) metadata.namespace = owner.namespace;
    else delete metadata.namespace;
    const obj = { ...r, metadata };
    const key = objectKey(obj);
    if (seen.has(key)) throw new ValuesError(`the chart rendered ${describe(obj)} twice`);
    seen.add(key);
    out.push({ obj, order: MANAGED_KINDS.indexOf(kind) });
  }
  return out.sort((a, b) => a.order - b.order).map((x) => x.obj);
}

/** Live objects of the release that the desired set no longer has, in uninstall (reverse) order. */
export function pruneList(live: KubeObject[], desired: KubeObject[]): KubeObject[] {
  const keep = new Set(desired.map(objectKey));
  const order = (o: KubeObject) => MANAGED_KINDS.findIndex((k) => k.group === groupOf(o.apiVersion) && k.kind === o.kind);
  return live.filter((o) => !keep.has(objectKey(o))).sort((a, b) => order(b) - order(a));
}

interface RoleRef {
  kind: string;
  name: string;
}

/**
 * The objects the server-side dry run can judge. A binding whose role is new in this release is left
 * out: the dry run stores nothing, so the API server's escalation check of the binding cannot find the
 * role and refuses it (kubernetes/kubernetes RBAC: a binding is allowed when its role's rules are held,
 * which needs the role to exist). Such a binding is applied after its role; a refusal then is ApplyFailed.
 */
export function dryRunnable(desired: KubeObject[], live: KubeObject[]): KubeObject[] {
  const liveKeys = new Set(live.map(objectKey));
  const newRoles = new Set(
    desired
      .filter((o) => (o.kind === 'Role' || o.kind === 'ClusterRole') && !liveKeys.has(objectKey(o)))
      .map((o) => `${o.kind}|${o.kind === 'Role' ? o.metadata.namespace : ''}|${o.metadata.name}`),
  );
  return desired.filter((o) => {
    if (o.kind !== 'RoleBinding' && o.kind !== 'ClusterRoleBinding') return true;
    const ref = (o as { roleRef?: RoleRef }).roleRef;
    if (!ref) return true;
    return !newRoles.has(`${ref.kind}|${ref.kind === 'Role' ? o.metadata.namespace : ''}|${ref.name}`);
  });
}

/** The CRDs of the chart (crds/) that the cluster lacks: created once, never updated or deleted (Helm's rule). */
export function missingCrds(chartCrds: KubeObject[], existingNames: Set<string>): KubeObject[] {
  return chartCrds.filter((c) => !existingNames.has(c.metadata.name));
}

/** The conditions with Deployed set; lastTransitionTime moves only when the status flips. */
export function withDeployedCondition(
  conditions: Condition[] | undefined,
  update: { status: 'True' | 'False'; reason: ReasonType; message: string; generation?: number },
  now: Date,
): Condition[] {
  const previous = (conditions ?? []).find((c) => c.type === DEPLOYED);
  const condition: Condition = {
    type: DEPLOYED,
    status: update.status,
    reason: update.reason,
    message: update.message,
    lastTransitionTime: previous && previous.status === update.status ? previous.lastTransitionTime : now.toISOString(),
    ...(update.generation !== undefined ? { observedGeneration: update.generation } : {}),
  };
  return [...(conditions ?? []).filter((c) => c.type !== DEPLOYED), condition];
}

export interface Outcome {
  status: 'True' | 'False';
  reason: ReasonType;
  message: string;
}

/**
 * The status after a reconcile. A success records the applied values' hash and the release; a failure
 * keeps both of the previous success: that release is what is still running.
 */
export function nextStatus(
  previous: KubeFledgedStatus | undefined,
  outcome: Outcome,
  generation: number | undefined,
  now: Date,
  applied?: { valuesHash: string; release: DeployedRelease },
): KubeFledgedStatus {
  const status: KubeFledgedStatus = {
    conditions: withDeployedCondition(previous?.conditions, { ...outcome, generation }, now),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  const valuesHashNow = applied?.valuesHash ?? previous?.valuesHash;
  const release = applied?.release ?? previous?.deployedRelease;
  if (valuesHashNow) status.valuesHash = valuesHashNow;
  if (release) status.deployedRelease = release;
  return status;
}

/**
 * InstallSuccessful for the first release, UpgradeSuccessful when the values changed since the last one;
 * the same values keep the reason they had (a resync is no upgrade).
 */
export function successReason(previous: KubeFledgedStatus | undefined, hash: string): ReasonType {
  const deployed = previous?.conditions?.find((c) => c.type === DEPLOYED);
  if (previous?.valuesHash === hash && deployed?.status === 'True' && (deployed.reason === 'InstallSuccessful' || deployed.reason === 'UpgradeSuccessful')) {
    return deployed.reason;
  }
  return previous?.deployedRelease ? 'UpgradeSuccessful' : 'InstallSuccessful';
}

/** Helm's error output as one readable message ("Error: " and the usage hint removed). */
export function helmErrorMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !/^Use "helm .* --help"|^Use --debug flag/.test(l));
  return lines.join('\n').replace(/^Error: /, '').trim() || 'helm template failed without a message';
}
