// Least-privilege RBAC (no system:nodes, no Secrets for the controller, resourceNames where the API
// allows them) and pods that pass Pod Security "restricted".
import { expect } from 'chai';
import { container, one, podSpec, render, type K8sObject } from './support/chart.js';
import { restrictedViolations } from './support/pod-security.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Binding {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace?: string }[];
}

function rules(o: K8sObject): Rule[] {
  return (o as unknown as { rules: Rule[] }).rules;
}

/** Every (apiGroup, resource, verb[, resourceName]) a role grants, as sorted strings. */
function grants(o: K8sObject): string[] {
  const out: string[] = [];
  for (const r of rules(o)) {
    for (const g of r.apiGroups) {
      for (const res of r.resources) {
        for (const v of r.verbs) {
          out.push(`${g || 'core'}/${res}:${v}${r.resourceNames ? `[${r.resourceNames.join(',')}]` : ''}`);
        }
      }
    }
  }
  return out.sort();
}


describe('install: chart RBAC and pod security', function () {
  this.timeout(60_000);

  it('grants the controller exactly what it uses, and never Secrets or wildcards', async () => {
    const { objects } = await render();
    expect(grants(one(objects, 'ClusterRole', '-controller'))).to.deep.equal(
      [
        'kubefledged.io/imagecaches:get',
        'kubefledged.io/imagecaches:list',
        'kubefledged.io/imagecaches:watch',
        'kubefledged.io/imagecaches:update',
        'kubefledged.io/imagecaches:patch',
        'kubefledged.io/imagecaches/status:get',
        'kubefledged.io/imagecaches/status:update',
        'kubefledged.io/imagecaches/status:patch',
        'core/nodes:get',
        'core/nodes:list',
        'core/nodes:watch',
        'core/pods:get',
        'core/pods:list',
        'core/pods:watch',
        'batch/jobs:get',
        'batch/jobs:list',
        'batch/jobs:watch',
        'batch/jobs:create',
        'batch/jobs:delete',
        'core/events:create',
        'core/events:list',
        'core/events:patch',
        'events.k8s.io/events:create',
        'events.k8s.io/events:patch',
      ].sort(),
    );
  });

  it('limits leader election to one Lease in the release namespace', async () => {
    const { objects } = await render();
    const role = one(objects, 'Role', '-controller');
    expect(role.metadata.namespace).to.equal('kube-fledged');
    expect(grants(role)).to.deep.equal(
      [
        'coordination.k8s.io/leases:create',
        'coordination.k8s.io/leases:get[kube-fledged-controller]',
        'coordination.k8s.io/leases:update[kube-fledged-controller]',
      ].sort(),
    );
  });

  it('lets the webhook server touch only its own TLS Secret and its own webhook configuration', async () => {
    const { objects } = await render();
    expect(grants(one(objects, 'Role', '-webhook-server'))).to.deep.equal(
      ['core/secrets:create', 'core/secrets:get[kube-fledged-webhook-server-cert]', 'core/secrets:update[kube-fledged-webhook-server-cert]'].sort(),
    );
    expect(grants(one(objects, 'ClusterRole', '-webhook-server'))).to.deep.equal(
      [
        'admissionregistration.k8s.io/validatingwebhookconfigurations:get[kube-fledged-webhook-server]',
        'admissionregistration.k8s.io/validatingwebhookconfigurations:patch[kube-fledged-webhook-server]',
      ].sort(),
    );
  });

  it('binds every role to the chart ServiceAccount of its component only (no system:nodes, no groups)', async () => {
    const { objects } = await render();
    const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding');
    expect(bindings).to.have.length(4);
    for (const b of bindings) {
      const binding = b as unknown as Binding;
      expect(binding.roleRef.name, b.metadata.name).to.equal(b.metadata.name);
      expect(binding.subjects, b.metadata.name).to.deep.equal([{ kind: 'ServiceAccount', name: b.metadata.name, namespace: 'kube-fledged' }]);
    }
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      expect(podSpec(d).serviceAccountName).to.equal(d.metadata.name);
    }
  });

  it('grants no wildcard verb, resource or group anywhere', async () => {
    const { objects } = await render({ webhookServer: { certManager: { enabled: false } } });
    for (const role of objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')) {
      for (const g of grants(role)) expect(g, role.metadata.name).not.to.contain('*');
    }
  });

  for (const [what, values] of [
    ['default values', {}],
    ['cert-manager TLS', { webhookServer: { certManager: { enabled: true } } }],
  ] as const) {
    it(`runs both Deployments as Pod Security "restricted" pods with a read-only root filesystem (${what})`, async () => {
      const { objects } = await render(values);
      for (const d of objects.filter((o) => o.kind === 'Deployment')) {
        expect(restrictedViolations(podSpec(d)), d.metadata.name).to.deep.equal([]);
        expect(container(d).securityContext, d.metadata.name).to.include({ readOnlyRootFilesystem: true });
        expect(podSpec(d).securityContext, d.metadata.name).to.include({ runAsUser: 65532, runAsGroup: 65532 });
        expect(container(d).volumeMounts, d.metadata.name).to.deep.include({ name: 'tmp', mountPath: '/tmp' });
      }
    });
  }

  it('the restricted check itself rejects a root, privileged, hostPath pod', () => {
    const violations = restrictedViolations({
      hostNetwork: true,
      volumes: [{ name: 'sock', hostPath: { path: '/run/containerd/containerd.sock' } }],
      containers: [{ name: 'c', image: 'x', securityContext: { privileged: true, runAsUser: 0 } }],
    });
    expect(violations).to.include.members([
      'host namespaces',
      'volume sock of type hostPath',
      'c: privileged',
      'c: allowPrivilegeEscalation must be false',
      'c: capabilities must drop ALL',
      'c: runAsNonRoot must be true',
      'c: runAsUser 0',
      'c: seccompProfile RuntimeDefault or Localhost',
    ]);
  });

  it('keeps a PodDisruptionBudget per Deployment that never blocks a single-replica drain', async () => {
    const { objects } = await render();
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
      expect(pdb).to.have.nested.property('spec.maxUnavailable', 1);
    }
    const off = await render({ podDisruptionBudget: { enabled: false } });
    expect(off.objects.filter((o) => o.kind === 'PodDisruptionBudget')).to.have.length(0);
  });
});
