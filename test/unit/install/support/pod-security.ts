// The checks of Pod Security Standards "restricted" (v1.25+) that a pod template can fail, for the
// install tests of the chart and of the operator's Deployment.
import type { podSpec } from './chart.js';

/** The checks of Pod Security Standards "restricted" (v1.25+) that a pod template can fail. */
export function restrictedViolations(spec: ReturnType<typeof podSpec>): string[] {
  const v: string[] = [];
  const pod = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) v.push('host namespaces');
  for (const vol of spec.volumes ?? []) {
    const allowed = ['emptyDir', 'secret', 'configMap', 'projected', 'downwardAPI', 'persistentVolumeClaim', 'ephemeral', 'csi'];
    const types = Object.keys(vol).filter((k) => k !== 'name');
    if (!types.every((t) => allowed.includes(t))) v.push(`volume ${vol.name} of type ${types.join(',')}`);
  }
  for (const c of spec.containers) {
    const sc = (c.securityContext ?? {}) as Record<string, unknown>;
    if (sc.privileged) v.push(`${c.name}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${c.name}: allowPrivilegeEscalation must be false`);
    const caps = (sc.capabilities ?? {}) as { drop?: string[]; add?: string[] };
    if (!caps.drop?.includes('ALL')) v.push(`${c.name}: capabilities must drop ALL`);
    if ((caps.add ?? []).some((a) => a !== 'NET_BIND_SERVICE')) v.push(`${c.name}: adds capabilities`);
    const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
    if (nonRoot !== true) v.push(`${c.name}: runAsNonRoot must be true`);
    if ((sc.runAsUser ?? pod.runAsUser) === 0) v.push(`${c.name}: runAsUser 0`);
    const seccomp = (sc.seccompProfile ?? pod.seccompProfile) as { type?: string } | undefined;
    if (!seccomp || !['RuntimeDefault', 'Localhost'].includes(seccomp.type ?? '')) v.push(`${c.name}: seccompProfile RuntimeDefault or Localhost`);
  }
  return v;
}
