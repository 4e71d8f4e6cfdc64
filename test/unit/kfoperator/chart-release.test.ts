// The operator renders exactly what the chart renders (`helm template` of helm/kube-fledged), for the
// defaults and for changed values; it manages, prunes and holds RBAC for every kind the chart can
// render; and the files of deploy/kubefledged-operator/ are the original's, least privilege, restricted.
// Any change of the chart that the operator does not follow fails here.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { CHART_DIR, ROOT } from '../../../hack/chart/helm-binary.js';
import { helm, parseObjects, podSpec, render, type K8sObject } from '../install/support/chart.js';
import { restrictedViolations } from '../install/support/pod-security.js';
import { ChartRenderer } from '../../../src/kfoperator/chart-renderer.js';
import { MANAGED_KINDS, ValuesError, groupOf, objectKey, pruneList, releaseObjects, type KubeObject } from '../../../src/kfoperator/release-plan.js';
import { GROUP, KIND, OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL, PLURAL, VERSION } from '../../../src/kfoperator/kubefledged.js';

const OPERATOR_DIR = path.join(ROOT, 'deploy', 'kubefledged-operator', 'deploy');
const CR_FILE = path.join(OPERATOR_DIR, 'crds', 'charts.helm.kubefledged.io_v1alpha2_kubefledged_cr.yaml');
const CRD_FILE = path.join(OPERATOR_DIR, 'crds', 'charts.helm.kubefledged.io_kubefledgeds_crd.yaml');
const CRD_SOURCE = path.join(ROOT, 'crds', 'kubefledgeds.charts.helm.kubefledged.io.yaml');
const readYaml = <T>(file: string): T => parse(fs.readFileSync(file, 'utf8')) as T;

/** Values that switch on every optional object of the chart, or off. */
const VARIANTS: Record<string, unknown>[] = [
  {},
  { args: { controllerImageCacheRefreshFrequency: '5m', controllerImagePullDeadlineDuration: '90s' }, controllerReplicaCount: 2 },
  { webhookServer: { enable: false }, controller: { leaderElection: { enabled: false } }, podDisruptionBudget: { enabled: false }, metrics: { service: { enabled: false } } },
  { webhookServer: { certManager: { enabled: true } }, metrics: { serviceMonitor: { enabled: true } }, fullnameOverride: 'kf' },
  { plainManifestSelectors: true, imagePullSecrets: [{ name: 'regcred' }], nodeSelector: { 'kubernetes.io/os': 'linux' } },
  { controller: { warming: { enabled: true, deadline: '5m' }, workloadImages: { enabled: true, grace: '1m' } }, metrics: { grafanaDashboard: { enabled: true }, prometheusRule: { enabled: true } } },
];

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
const rulesOf = (o: unknown): Rule[] => (o as { rules: Rule[] }).rules;
const holds = (rules: Rule[], group: string, resource: string, verb: string): boolean =>
  rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb) && !r.resourceNames);

function withoutOwnerLabels(o: KubeObject): KubeObject {
  const labels = { ...o.metadata.labels };
  delete labels[OWNER_NAME_LABEL];
  delete labels[OWNER_NAMESPACE_LABEL];
  return { ...o, metadata: { ...o.metadata, labels } };
}

describe('kfoperator: the chart is the template', function () {
  this.timeout(60_000);
  const renderer = new ChartRenderer(CHART_DIR, helm());
  const owner = { namespace: 'kf-ns', name: 'kube-fledged' };
  const operatorClusterRole = rulesOf(readYaml(path.join(OPERATOR_DIR, 'clusterrole.yaml')));
  const operatorRole = rulesOf(readYaml(path.join(OPERATOR_DIR, 'role.yaml')));
  let renderings: { values: Record<string, unknown>; objects: KubeObject[]; helm: K8sObject[] }[] = [];

  before(async () => {
    renderings = await Promise.all(
      VARIANTS.map(async (values) => ({
        values,
        objects: releaseObjects((await renderer.render(owner.name, owner.namespace, values)).objects, owner),
        helm: (await render(values, owner.name, owner.namespace)).objects,
      })),
    );
  });

  it('renders, for the defaults and for changed values, exactly the objects of `helm template`, each labelled with its owner', () => {
    for (const r of renderings) {
      const what = JSON.stringify(r.values);
      expect(r.objects.map(objectKey).sort(), what).to.deep.equal(r.helm.map((h) => objectKey(h as KubeObject)).sort());
      for (const o of r.objects) {
        expect(o.metadata.labels, `${what} ${o.kind}`).to.include({ [OWNER_NAME_LABEL]: 'kube-fledged', [OWNER_NAMESPACE_LABEL]: 'kf-ns' });
        const h = r.helm.find((x) => objectKey(x as KubeObject) === objectKey(o))!;
        expect(withoutOwnerLabels(o), `${what} ${o.kind} ${o.metadata.name}`).to.deep.equal(h);
      }
    }
  });

  it('an edited controllerImageCacheRefreshFrequency changes the controller Deployment args (the operator\'s helm upgrade)', () => {
    const args = (objs: KubeObject[]) => podSpec(objs.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-controller')) as K8sObject).containers[0]!.args!;
    expect(args(renderings[0]!.objects)).to.include('--image-cache-refresh-frequency=15m');
    expect(args(renderings[1]!.objects)).to.include('--image-cache-refresh-frequency=5m').and.include('--image-pull-deadline-duration=90s');
    expect(renderings[1]!.objects.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-controller'))).to.have.nested.property('spec.replicas', 2);
  });

  it('prunes the webhook objects when webhookServer.enable turns false', () => {
    const pruned = pruneList(renderings[0]!.objects, renderings[2]!.objects);
    const names = pruned.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).to.include.members(['ValidatingWebhookConfiguration/kube-fledged-webhook-server', 'Deployment/kube-fledged-webhook-server', 'Secret/kube-fledged-webhook-server-cert', 'Lease/kube-fledged-controller']);
    expect(names).not.to.include('Deployment/kube-fledged-controller');
  });

  it('refuses a bad value with helm\'s message naming it', async () => {
    const err = await renderer.render('kube-fledged', 'kf-ns', { args: { controllerImageCacheRefreshFrequency: 'soon' } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ValuesError);
    expect((err as Error).message).to.contain('/args/controllerImageCacheRefreshFrequency').and.contain("'soon'");
    const port = await renderer.render('kube-fledged', 'kf-ns', { webhookService: { targetPort: 1 } }).catch((e: unknown) => e);
    expect((port as Error).message).to.contain('webhookService.targetPort (1) must equal args.webhookServerPort');
  });

  it('checks at startup that helm runs, naming HELM_BINARY when it does not', async () => {
    expect(await renderer.helmVersion()).to.match(/^v3\./);
    const err = await new ChartRenderer(CHART_DIR, '/nonexistent/helm').helmVersion().catch((e: unknown) => e);
    expect((err as Error).message).to.match(/^cannot run helm binary \/nonexistent\/helm .*: set HELM_BINARY to its path$/);
  });

  it('renders the chart\'s CRD (crds/) for the operator to create when missing', async () => {
    const { crds } = await renderer.render('kube-fledged', 'kf-ns', {});
    expect(crds.map((c) => c.metadata.name)).to.deep.equal(['imagecaches.kubefledged.io']);
  });

  it('manages every kind the chart renders, and the operator\'s RBAC lets it apply, list and delete each in the right scope', () => {
    const rendered = new Set(renderings.flatMap((r) => r.objects.map((o) => `${groupOf(o.apiVersion)}/${o.kind}`)));
    const managed = new Set(MANAGED_KINDS.map((k) => `${k.group}/${k.kind}`));
    expect([...rendered].filter((k) => !managed.has(k))).to.deep.equal([]);
    for (const k of MANAGED_KINDS) {
      const resource = `${k.kind.toLowerCase()}s`;
      const rules = k.namespaced ? operatorRole : operatorClusterRole;
      for (const verb of ['get', 'list', 'create', 'patch', 'delete']) {
        expect(holds(rules, k.group, resource, verb), `${k.namespaced ? 'Role' : 'ClusterRole'} kubefledged-operator: ${k.group || 'core'}/${resource} ${verb}`).to.equal(true);
      }
    }
  });

  it('holds every permission the chart\'s ClusterRoles and Roles grant (Kubernetes lets nobody grant more than they hold)', () => {
    for (const r of renderings) {
      for (const role of r.objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')) {
        const mine = role.kind === 'ClusterRole' ? operatorClusterRole : [...operatorClusterRole, ...operatorRole];
        for (const rule of rulesOf(role)) {
          for (const g of rule.apiGroups) for (const res of rule.resources) for (const v of rule.verbs) {
            expect(holds(mine, g, res, v), `${role.kind} ${role.metadata.name} grants ${g || 'core'}/${res} ${v}`).to.equal(true);
          }
        }
      }
    }
  });

  it('grants no wildcard, only what it manages: KubeFledged objects in its namespace, CRDs get/create only', () => {
    for (const rule of [...operatorClusterRole, ...operatorRole]) {
      for (const list of [rule.apiGroups, rule.resources, rule.verbs]) expect(list).not.to.include('*');
    }
    expect(operatorClusterRole.some((r) => r.apiGroups.includes(GROUP))).to.equal(false);
    expect(holds(operatorRole, GROUP, PLURAL, 'watch') && holds(operatorRole, GROUP, `${PLURAL}/status`, 'patch')).to.equal(true);
    const crdRule = operatorClusterRole.find((r) => r.resources.includes('customresourcedefinitions'))!;
    expect(crdRule.verbs).to.deep.equal(['get', 'create']);
    expect(operatorClusterRole.some((r) => r.resources.includes('secrets'))).to.equal(false);
  });

  it('lists every rule of its ClusterRole and Role in docs/operator.md', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'operator.md'), 'utf8').split('\n');
    for (const rule of [...operatorClusterRole, ...operatorRole]) {
      const row = doc.find((l) => l.includes(`| ${rule.resources.join(', ')} | ${rule.verbs.join(', ')} |`));
      expect(row, `docs/operator.md row for ${rule.resources.join(', ')}: ${rule.verbs.join(', ')}`).to.be.a('string');
      for (const g of rule.apiGroups) expect(row, rule.resources.join(',')).to.contain(g ? `\`${g}\`` : '`""`');
    }
  });

  it('ships the KubeFledged CRD of the original (identity, preserved fields, status subresource), a copy of crds/', () => {
    expect(fs.readFileSync(CRD_FILE, 'utf8')).to.equal(fs.readFileSync(CRD_SOURCE, 'utf8'));
    const crd = readYaml<{ metadata: { name: string }; spec: Record<string, unknown> & { versions: Record<string, unknown>[] } }>(CRD_FILE);
    expect(crd.metadata.name).to.equal(`${PLURAL}.${GROUP}`);
    expect(crd.spec).to.deep.include({ group: GROUP, scope: 'Namespaced', names: { kind: KIND, listKind: 'KubeFledgedList', plural: PLURAL, singular: 'kubefledged' } });
    const v = crd.spec.versions[0] as { name: string; served: boolean; storage: boolean; subresources: unknown; schema: { openAPIV3Schema: { properties: Record<string, Record<string, unknown>> } } };
    expect([v.name, v.served, v.storage, v.subresources]).to.deep.equal([VERSION, true, true, { status: {} }]);
    for (const p of ['spec', 'status']) expect(v.schema.openAPIV3Schema.properties[p]).to.include({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  });

  it('ships the sample KubeFledged of the original with every chart default as its spec', () => {
    const [cr] = parseObjects(fs.readFileSync(CR_FILE, 'utf8')) as unknown as { apiVersion: string; kind: string; metadata: unknown; spec: unknown }[];
    expect([cr!.apiVersion, cr!.kind]).to.deep.equal([`${GROUP}/${VERSION}`, KIND]);
    expect(cr!.metadata).to.deep.equal({ name: 'kube-fledged', namespace: 'kube-fledged' });
    expect(cr!.spec, 'the sample spec must equal helm/kube-fledged/values.yaml').to.deep.equal(readYaml(path.join(CHART_DIR, 'values.yaml')));
  });

  it('runs the operator Deployment of the original (WATCH_NAMESPACE = its namespace), passing Pod Security "restricted"', () => {
    const d = readYaml<K8sObject>(path.join(OPERATOR_DIR, 'operator.yaml'));
    expect([d.kind, d.metadata.name, d.metadata.namespace]).to.deep.equal(['Deployment', 'kubefledged-operator', 'kube-fledged']);
    expect(d).to.have.nested.property('spec.selector.matchLabels.name', 'kubefledged-operator');
    const spec = podSpec(d);
    expect(spec.serviceAccountName).to.equal('kubefledged-operator');
    expect(restrictedViolations(spec)).to.deep.equal([]);
    const c = spec.containers[0]!;
    expect(c.command).to.deep.equal(['/opt/bin/kubefledged-operator']);
    const appVersion = readYaml<{ appVersion: string }>(path.join(CHART_DIR, 'Chart.yaml')).appVersion;
    expect(c.image, 'the project image of this release (make deploy-using-operator replaces it with OPERATOR_IMAGE)').to.equal(`docker.io/kubefledgedts/kube-fledged:${appVersion}`);
    expect(c.env!.find((e) => e.name === 'WATCH_NAMESPACE')).to.deep.equal({ name: 'WATCH_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
    expect(c.env!.map((e) => e.name)).to.include.members(['POD_NAME', 'OPERATOR_NAME', 'HELM_BINARY', 'KUBEFLEDGED_CHART_DIR']);
  });

  it('binds both roles to the operator ServiceAccount in namespace kube-fledged only', () => {
    for (const [file, kind] of [['clusterrole_binding.yaml', 'ClusterRole'], ['role_binding.yaml', 'Role']] as const) {
      const b = readYaml<{ roleRef: unknown; subjects: unknown }>(path.join(OPERATOR_DIR, file));
      expect(b.roleRef).to.deep.equal({ apiGroup: 'rbac.authorization.k8s.io', kind, name: 'kubefledged-operator' });
      expect(b.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'kubefledged-operator', namespace: 'kube-fledged' }]);
    }
    for (const file of ['service_account.yaml', 'role.yaml', 'operator.yaml']) {
      expect(readYaml<K8sObject>(path.join(OPERATOR_DIR, file)).metadata.namespace, file).to.equal('kube-fledged');
    }
  });
});
