// Admission rules for the targeting fields of a cacheSpec entry (pure): affinity.nodeAffinity's required
// terms and tolerations, checked as the API server checks them in a pod spec, each message naming the
// field and the fix. The structure (types, enums) has already passed the CRD schema.
import type { CacheSpecEntry } from '../api/imagecache.js';
import { labelKeyError, labelValueError } from './kubernetes-names.js';

const INTEGER = /^-?\d+$/;

export function checkTargeting(entry: Pick<CacheSpecEntry, 'affinity' | 'tolerations' | 'workloadSelector'>, path: string): string | undefined {
  const ws = entry.workloadSelector;
  if (ws) {
    for (const [key, value] of Object.entries(ws.matchLabels ?? {})) {
      const keyError = labelKeyError(key);
      if (keyError) return `${path}.workloadSelector.matchLabels: invalid label key ${JSON.stringify(key)}: ${keyError}; fix: use [prefix/]name`;
      const valueError = labelValueError(value);
      if (valueError) return `${path}.workloadSelector.matchLabels[${JSON.stringify(key)}]: invalid label value ${JSON.stringify(value)}: ${valueError}; fix: use a valid label value`;
    }
    for (const [e, r] of (ws.matchExpressions ?? []).entries()) {
      const at = `${path}.workloadSelector.matchExpressions[${e}]`;
      const keyError = labelKeyError(r.key ?? '');
      if (keyError) return `${at}.key: invalid label key ${JSON.stringify(r.key ?? '')}: ${keyError}; fix: use [prefix/]name`;
      const n = (r.values ?? []).length;
      if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) return `${at}.values: operator ${r.operator} needs at least one value; fix: list the label values`;
      if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) return `${at}.values: operator ${r.operator} takes no values; fix: remove values`;
    }
  }
  const terms = entry.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const termsPath = `${path}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`;
  if (entry.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution && (!terms || terms.length === 0)) {
    return `${termsPath}: empty; fix: give at least one term with matchExpressions, or remove requiredDuringSchedulingIgnoredDuringExecution`;
  }
  for (const [t, term] of (terms ?? []).entries()) {
    const exprs = term.matchExpressions ?? [];
    if (exprs.length === 0) return `${termsPath}[${t}].matchExpressions: empty; fix: give at least one {key, operator, values} (an empty term matches no node)`;
    for (const [e, r] of exprs.entries()) {
      const at = `${termsPath}[${t}].matchExpressions[${e}]`;
      const keyError = labelKeyError(r.key ?? '');
      if (keyError) return `${at}.key: invalid label key ${JSON.stringify(r.key ?? '')}: ${keyError}; fix: use [prefix/]name, e.g. "node.kubernetes.io/instance-type"`;
      const values = r.values ?? [];
      switch (r.operator) {
        case 'In':
        case 'NotIn':
          if (values.length === 0) return `${at}.values: operator ${r.operator} needs at least one value; fix: list the label values`;
          for (const [v, value] of values.entries()) {
            const valueError = labelValueError(value);
            if (valueError) return `${at}.values[${v}]: invalid label value ${JSON.stringify(value)}: ${valueError}; fix: use a valid label value`;
          }
          break;
        case 'Exists':
        case 'DoesNotExist':
          if (values.length > 0) return `${at}.values: operator ${r.operator} takes no values; fix: remove values`;
          break;
        case 'Gt':
        case 'Lt':
          if (values.length !== 1 || !INTEGER.test(values[0]!)) {
            return `${at}.values: operator ${r.operator} needs exactly one integer value; fix: e.g. values: ["4"]`;
          }
          break;
        default:
          return `${at}.operator: ${JSON.stringify(r.operator)} is not one of In, NotIn, Exists, DoesNotExist, Gt, Lt; fix: use one of them`;
      }
    }
  }
  for (const [k, t] of (entry.tolerations ?? []).entries()) {
    const at = `${path}.tolerations[${k}]`;
    const operator = t.operator ?? 'Equal';
    if (t.key) {
      const keyError = labelKeyError(t.key);
      if (keyError) return `${at}.key: invalid taint key ${JSON.stringify(t.key)}: ${keyError}; fix: use [prefix/]name`;
    }
    if (operator === 'Exists' && t.value) return `${at}.value: must be empty with operator Exists; fix: remove value or use operator Equal`;
    if (operator === 'Equal' && !t.key) return `${at}.key: required with operator Equal; fix: give the taint key, or use operator Exists to tolerate every taint`;
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      return `${at}.tolerationSeconds: only valid with effect NoExecute; fix: set effect: NoExecute or remove tolerationSeconds`;
    }
  }
  return undefined;
}
