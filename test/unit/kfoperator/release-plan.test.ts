// The pure decisions of the KubeFledged operator: values merge and hash, owner labels and apply order,
// prune set, CRDs to create, and the status it reports.
import { expect } from 'chai';
import {
  MANAGED_KINDS,
  ValuesError,
  canonicalJson,
  dryRunnable,
  helmErrorMessage,
  mergeValues,
  missingCrds,
  nextStatus,
  objectKey,
  ownerSelector,
  pruneList,
  releaseObjects,
  specValues,
  successReason,
  valuesHash,
  withDeployedCondition,
  type KubeObject,
} from '../../../src/kfoperator/release-plan.js';
import { OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL, type KubeFledgedStatus } from '../../../src/kfoperator/kubefledged.js';

const owner = { namespace: 'kf', name: 'rel' };
const obj = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}), labels: { app: 'kubefledged' } },
});

describe('kfoperator: release plan', () => {
  describe('mergeValues (Helm: maps merge, lists and scalars replace, null removes)', () => {
    const defaults = { a: 1, m: { x: 1, y: 2, deep: { k: 'v' } }, list: [1, 2], gone: 'default' };

    it('merges maps key by key and keeps untouched defaults', () => {
      expect(mergeValues(defaults, { m: { y: 3, deep: { j: 'w' } } })).to.deep.equal({
        a: 1,
        m: { x: 1, y: 3, deep: { k: 'v', j: 'w' } },
        list: [1, 2],
        gone: 'default',
      });
    });

    it('replaces lists and scalars, adds new keys, and removes a key set to null', () => {
      expect(mergeValues(defaults, { list: [9], a: 'two', extra: true, gone: null })).to.deep.equal({
        a: 'two',
        m: { x: 1, y: 2, deep: { k: 'v' } },
        list: [9],
        extra: true,
      });
    });

    it('a map over a scalar default replaces it, and the defaults are not mutated', () => {
      const d = { a: 1 };
      expect(mergeValues(d, { a: { b: 1 } })).to.deep.equal({ a: { b: 1 } });
      expect(d).to.deep.equal({ a: 1 });
    });
  });

  describe('valuesHash', () => {
    it('is the same for the same values in any key order, and differs when a value differs', () => {
      expect(valuesHash({ a: 1, b: { c: [1, 2], d: 'x' } })).to.equal(valuesHash({ b: { d: 'x', c: [1, 2] }, a: 1 }));
      expect(valuesHash({ a: 1 })).not.to.equal(valuesHash({ a: 2 }));
      expect(valuesHash({ l: [1, 2] })).not.to.equal(valuesHash({ l: [2, 1] }));
      expect(valuesHash({})).to.match(/^sha256:[0-9a-f]{64}$/);
    });

    it('canonicalJson sorts keys at every level and drops undefined', () => {
      expect(canonicalJson({ b: 1, a: { d: undefined, c: null } })).to.equal('{"a":{"c":null},"b":1}');
    });
  });

  describe('specValues', () => {
    it('takes an object spec as the values, an absent spec as the defaults', () => {
      expect(specValues({ a: 1 })).to.deep.equal({ a: 1 });
      expect(specValues(undefined)).to.deep.equal({});
      expect(specValues(null)).to.deep.equal({});
    });

    it('refuses a spec that is not an object, naming the fix', () => {
      expect(() => specValues([1])).to.throw(ValuesError, /spec must be an object of chart values .*got a list/);
      expect(() => specValues('x')).to.throw(ValuesError, /got string/);
    });
  });

  describe('releaseObjects', () => {
    it('labels every object with its owner, puts namespaced ones in the release namespace, cluster-scoped ones in none', () => {
      const out = releaseObjects(
        [obj('apps/v1', 'Deployment', 'd'), obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'cr', 'kf'), obj('v1', 'Service', 's', 'kf')],
        owner,
      );
      for (const o of out) {
        expect(o.metadata.labels).to.include({ app: 'kubefledged', [OWNER_NAME_LABEL]: 'rel', [OWNER_NAMESPACE_LABEL]: 'kf' });
      }
      expect(out.find((o) => o.kind === 'Deployment')!.metadata.namespace).to.equal('kf');
      expect(out.find((o) => o.kind === 'ClusterRole')!.metadata).not.to.have.property('namespace');
    });

    it('orders objects as Helm installs them (ServiceAccounts first, the webhook configuration last)', () => {
      const out = releaseObjects(
        [
          obj('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'w'),
          obj('apps/v1', 'Deployment', 'd', 'kf'),
          obj('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'b'),
          obj('v1', 'ServiceAccount', 'sa', 'kf'),
          obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'r'),
        ],
        owner,
      );
      expect(out.map((o) => o.kind)).to.deep.equal(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Deployment', 'ValidatingWebhookConfiguration']);
    });

    it('refuses a kind it does not manage, an object outside the namespace, and a duplicate', () => {
      expect(() => releaseObjects([obj('v1', 'PersistentVolumeClaim', 'c', 'kf')], owner)).to.throw(ValuesError, /PersistentVolumeClaim c \(v1\), a kind the operator does not manage: add it to MANAGED_KINDS/);
      expect(() => releaseObjects([obj('v1', 'Service', 's', 'other')], owner)).to.throw(ValuesError, /Service other\/s outside the release namespace kf/);
      expect(() => releaseObjects([obj('v1', 'Service', 's', 'kf'), obj('v1', 'Service', 's')], owner)).to.throw(ValuesError, /Service kf\/s twice/);
    });

    it('does not mutate the rendered objects', () => {
      const r = obj('v1', 'Service', 's');
      releaseObjects([r], owner);
      expect(r.metadata).to.deep.equal({ name: 's', labels: { app: 'kubefledged' } });
    });
  });

  describe('pruneList', () => {
    it('lists the live objects the rendering no longer has, whatever their API version, in uninstall order', () => {
      const live = [
        obj('v1', 'ServiceAccount', 'sa', 'kf'),
        obj('apps/v1', 'Deployment', 'keep', 'kf'),
        obj('apps/v1', 'Deployment', 'old', 'kf'),
        obj('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'w'),
      ];
      const desired = [obj('apps/v1beta2', 'Deployment', 'keep', 'kf')];
      expect(pruneList(live, desired).map((o) => `${o.kind}/${o.metadata.name}`)).to.deep.equal([
        'ValidatingWebhookConfiguration/w',
        'Deployment/old',
        'ServiceAccount/sa',
      ]);
      expect(pruneList(desired, desired)).to.deep.equal([]);
    });

    it('tells objects apart by group, kind, namespace and name', () => {
      expect(objectKey(obj('apps/v1', 'Deployment', 'd', 'a'))).not.to.equal(objectKey(obj('apps/v1', 'Deployment', 'd', 'b')));
      expect(objectKey(obj('rbac.authorization.k8s.io/v1', 'Role', 'r', 'a'))).not.to.equal(objectKey(obj('v1', 'Role', 'r', 'a')));
    });
  });

  it('dryRunnable leaves out the bindings whose role is new in this release, and only those', () => {
    const rbac = 'rbac.authorization.k8s.io/v1';
    const binding = (kind: string, name: string, roleKind: string, role: string, namespace?: string): KubeObject => ({
      ...obj(rbac, kind, name, namespace),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role },
    });
    const desired = [
      obj(rbac, 'ClusterRole', 'new-cr'),
      obj(rbac, 'ClusterRole', 'old-cr'),
      obj(rbac, 'Role', 'new-r', 'kf'),
      binding('ClusterRoleBinding', 'b1', 'ClusterRole', 'new-cr'),
      binding('ClusterRoleBinding', 'b2', 'ClusterRole', 'old-cr'),
      binding('RoleBinding', 'b3', 'Role', 'new-r', 'kf'),
      binding('RoleBinding', 'b4', 'ClusterRole', 'new-cr', 'kf'),
      binding('RoleBinding', 'b5', 'ClusterRole', 'view', 'kf'),
      obj('apps/v1', 'Deployment', 'd', 'kf'),
    ];
    const live = [obj(rbac, 'ClusterRole', 'old-cr')];
    expect(dryRunnable(desired, live).map((o) => o.metadata.name)).to.deep.equal(['new-cr', 'old-cr', 'new-r', 'b2', 'b5', 'd']);
    expect(dryRunnable(desired, desired)).to.have.length(desired.length);
  });

  it('selects the objects of one release by its two owner labels', () => {
    expect(ownerSelector(owner)).to.equal(`${OWNER_NAME_LABEL}=rel,${OWNER_NAMESPACE_LABEL}=kf`);
  });

  it('creates only the CRDs the cluster lacks (never updates one: Helm\'s crds/ rule)', () => {
    const crd = (name: string) => obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', name);
    expect(missingCrds([crd('a.x'), crd('b.x')], new Set(['a.x'])).map((c) => c.metadata.name)).to.deep.equal(['b.x']);
  });

  it('manages each kind once, in a fixed order', () => {
    const keys = MANAGED_KINDS.map((k) => `${k.group}/${k.kind}`);
    expect(new Set(keys).size).to.equal(keys.length);
  });

  describe('status', () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    const t1 = new Date('2026-01-01T01:00:00Z');

    it('moves lastTransitionTime only when the Deployed status flips, keeping other conditions', () => {
      const other = { type: 'Other', status: 'True' as const, reason: 'R', message: '', lastTransitionTime: 'x' };
      const first = withDeployedCondition([other], { status: 'True', reason: 'InstallSuccessful', message: 'm', generation: 1 }, t0);
      expect(first).to.have.length(2);
      const same = withDeployedCondition(first, { status: 'True', reason: 'UpgradeSuccessful', message: 'm2', generation: 2 }, t1);
      expect(same.find((c) => c.type === 'Deployed')).to.include({ lastTransitionTime: t0.toISOString(), reason: 'UpgradeSuccessful', observedGeneration: 2 });
      const flipped = withDeployedCondition(same, { status: 'False', reason: 'InvalidValues', message: 'bad', generation: 3 }, t1);
      expect(flipped.find((c) => c.type === 'Deployed')).to.include({ status: 'False', lastTransitionTime: t1.toISOString() });
      expect(flipped.find((c) => c.type === 'Other')).to.deep.equal(other);
    });

    it('records the applied values hash and release on success, and keeps the previous ones on failure', () => {
      const ok = nextStatus(undefined, { status: 'True', reason: 'InstallSuccessful', message: 'ok' }, 1, t0, {
        valuesHash: 'sha256:aa',
        release: { name: 'rel', chart: 'kube-fledged-v1', objects: 3 },
      });
      expect(ok).to.deep.include({ observedGeneration: 1, valuesHash: 'sha256:aa', deployedRelease: { name: 'rel', chart: 'kube-fledged-v1', objects: 3 } });
      const failed = nextStatus(ok, { status: 'False', reason: 'InvalidValues', message: 'args.x is bad' }, 2, t1);
      expect(failed).to.deep.include({ observedGeneration: 2, valuesHash: 'sha256:aa', deployedRelease: ok.deployedRelease });
      expect(failed.conditions!.find((c) => c.type === 'Deployed')).to.include({ status: 'False', message: 'args.x is bad', observedGeneration: 2 });
    });

    it('says InstallSuccessful first, UpgradeSuccessful after a change of values, and keeps the reason for the same values', () => {
      expect(successReason(undefined, 'sha256:a')).to.equal('InstallSuccessful');
      const installed: KubeFledgedStatus = nextStatus(undefined, { status: 'True', reason: 'InstallSuccessful', message: '' }, 1, t0, {
        valuesHash: 'sha256:a',
        release: { name: 'r', chart: 'c', objects: 1 },
      });
      expect(successReason(installed, 'sha256:a')).to.equal('InstallSuccessful');
      expect(successReason(installed, 'sha256:b')).to.equal('UpgradeSuccessful');
      const failed = nextStatus(installed, { status: 'False', reason: 'DryRunFailed', message: '' }, 2, t1);
      expect(successReason(failed, 'sha256:a')).to.equal('UpgradeSuccessful');
    });
  });

  it('turns helm\'s error output into one message without "Error:" and the --debug hint', () => {
    const stderr = 'Error: execution error at (kube-fledged/templates/x.yaml:1:4): webhookService.targetPort (1) must equal args.webhookServerPort (8443)\nUse --debug flag to render out invalid YAML\n';
    expect(helmErrorMessage(stderr)).to.equal('execution error at (kube-fledged/templates/x.yaml:1:4): webhookService.targetPort (1) must equal args.webhookServerPort (8443)');
    expect(helmErrorMessage('')).to.equal('helm template failed without a message');
  });
});
