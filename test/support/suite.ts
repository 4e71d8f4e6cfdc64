// Test support: what the controller integration suites set up alike.
import * as k8s from '@kubernetes/client-node';
import { eventually } from './cluster.js';
import { fakeNode, type FakeNodeOptions } from './nodes.js';

/** Creates kwok nodes and waits until the managed ones (all but notReady) are Ready. */
export async function createReadyNodes(core: k8s.CoreV1Api, nodes: readonly [string, FakeNodeOptions][], timeoutMs = 60_000): Promise<void> {
  for (const [name, opts] of nodes) await core.createNode({ body: fakeNode(name, opts) });
  const managed = nodes.filter(([, o]) => !o.notReady).map(([n]) => n);
  await eventually(`nodes Ready: ${managed.join(', ')}`, async () => {
    for (const name of managed) {
      const n = await core.readNode({ name });
      if (!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return false;
    }
    return true;
  }, timeoutMs);
}

/**
 * Grants the controller's ServiceAccount extra cluster-wide rules (what the chart adds when a feature is
 * switched on); returns the clean-up.
 */
export async function grantClusterRules(kc: k8s.KubeConfig, name: string, rules: k8s.V1PolicyRule[], namespace: string, serviceAccount = 'kubefledged-controller'): Promise<() => Promise<void>> {
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await rbac.createClusterRole({ body: { metadata: { name }, rules } });
  await rbac.createClusterRoleBinding({ body: {
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
  } });
  return async () => {
    await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
    await rbac.deleteClusterRole({ name }).catch(() => undefined);
  };
}
