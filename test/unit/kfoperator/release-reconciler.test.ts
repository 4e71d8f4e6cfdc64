// The reconcile of one KubeFledged object against fakes of the API, the cluster and the renderer:
// what is applied, in which order, what is pruned, and what status results.
import { expect } from 'chai';
import { ReleaseReconciler, isPermanent, type ReleaseApi, type ReleaseCluster, type ReleaseRenderer } from '../../../src/kfoperator/release-reconciler.js';
import { ApplyError } from '../../../src/kfoperator/cluster-applier.js';
import { FINALIZER, OWNER_NAME_LABEL, type KubeFledged, type KubeFledgedStatus } from '../../../src/kfoperator/kubefledged.js';
import { ValuesError, objectKey, valuesHash, type KubeObject } from '../../../src/kfoperator/release-plan.js';
import type { Rendering } from '../../../src/kfoperator/chart-renderer.js';

const NOW = new Date('2026-02-02T00:00:00Z');

function kf(over: Partial<KubeFledged['metadata']> = {}, spec: unknown = {}, status?: KubeFledgedStatus): KubeFledged {
  return {
    apiVersion: 'charts.helm.kubefledged.io/v1alpha2',
    kind: 'KubeFledged',
    metadata: { name: 'rel', namespace: 'kf', generation: 1, resourceVersion: '1', finalizers: [FINALIZER], ...over },
    spec,
    ...(status ? { status } : {}),
  };
}

const o = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } });

class FakeApi implements ReleaseApi {
  statuses: KubeFledgedStatus[] = [];
  finalizerAdded = false;
  finalizerRemoved = false;
  constructor(public obj: KubeFledged | undefined) {}
  async get(): Promise<KubeFledged | undefined> {
    return this.obj;
  }
  async addFinalizer(obj: KubeFledged): Promise<KubeFledged> {
    this.finalizerAdded = true;
    return { ...obj, metadata: { ...obj.metadata, finalizers: [...(obj.metadata.finalizers ?? []), FINALIZER] } };
  }
  async removeFinalizer(): Promise<void> {
    this.finalizerRemoved = true;
  }
  async patchStatus(_obj: KubeFledged, status: KubeFledgedStatus): Promise<void> {
    this.statuses.push(status);
  }
  last(): KubeFledgedStatus {
    return this.statuses.at(-1)!;
  }
}

class FakeCluster implements ReleaseCluster {
  calls: string[] = [];
  live: KubeObject[] = [];
  crds = new Set<string>();
  refuse?: (obj: KubeObject, dryRun: boolean) => ApplyError | undefined;
  async apply(obj: KubeObject, dryRun: boolean): Promise<void> {
    const err = this.refuse?.(obj, dryRun);
    if (err) throw err;
    this.calls.push(`${dryRun ? 'dry-run' : 'apply'} ${obj.kind}/${obj.metadata.name}`);
    if (!dryRun && !this.live.some((l) => objectKey(l) === objectKey(obj))) this.live.push(obj);
  }
  async listOwned(): Promise<KubeObject[]> {
    this.calls.push('list');
    return [...this.live];
  }
  async delete(obj: KubeObject): Promise<void> {
    this.calls.push(`delete ${obj.kind}/${obj.metadata.name}`);
    this.live = this.live.filter((l) => objectKey(l) !== objectKey(obj));
  }
  async existingCrds(names: string[]): Promise<Set<string>> {
    return new Set(names.filter((n) => this.crds.has(n)));
  }
  async createCrd(crd: KubeObject): Promise<void> {
    this.calls.push(`create-crd ${crd.metadata.name} ${crd.metadata.labels?.[OWNER_NAME_LABEL]}`);
    this.crds.add(crd.metadata.name);
  }
}

class FakeRenderer implements ReleaseRenderer {
  rendered: Record<string, unknown>[] = [];
  constructor(public rendering: Rendering | Error) {}
  info() {
    return { chart: 'kube-fledged-v9', defaults: { a: 1, m: { x: 1 } } };
  }
  async render(_release: string, _namespace: string, values: Record<string, unknown>): Promise<Rendering> {
    this.rendered.push(values);
    if (this.rendering instanceof Error) throw this.rendering;
    return this.rendering;
  }
}

const log = { info: () => undefined, warn: () => undefined };
const defaultRendering = (): Rendering => ({
  objects: [o('apps/v1', 'Deployment', 'ctl', 'kf'), o('v1', 'ServiceAccount', 'sa', 'kf'), o('rbac.authorization.k8s.io/v1', 'ClusterRole', 'cr')],
  crds: [o('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'imagecaches.kubefledged.io')],
});

function setup(obj: KubeFledged | undefined, rendering: Rendering | Error = defaultRendering()) {
  const api = new FakeApi(obj);
  const cluster = new FakeCluster();
  const renderer = new FakeRenderer(rendering);
  const reconciler = new ReleaseReconciler(api, cluster, renderer, log, () => NOW);
  return { api, cluster, renderer, reconciler };
}

describe('kfoperator: release reconciler', () => {
  it('dry-runs every object first, creates the missing CRD, applies in install order, and reports Deployed=True with the values hash', async () => {
    const { api, cluster, renderer, reconciler } = setup(kf({}, { m: { y: 2 } }));
    await reconciler.reconcile('kf/rel');
    expect(renderer.rendered).to.deep.equal([{ m: { y: 2 } }]);
    expect(cluster.calls).to.deep.equal([
      'list',
      'dry-run ServiceAccount/sa',
      'dry-run ClusterRole/cr',
      'dry-run Deployment/ctl',
      'create-crd imagecaches.kubefledged.io rel',
      'apply ServiceAccount/sa',
      'apply ClusterRole/cr',
      'apply Deployment/ctl',
    ]);
    const s = api.last();
    expect(s.observedGeneration).to.equal(1);
    expect(s.valuesHash).to.equal(valuesHash({ a: 1, m: { x: 1, y: 2 } }));
    expect(s.deployedRelease).to.deep.equal({ name: 'rel', chart: 'kube-fledged-v9', objects: 3 });
    expect(s.conditions).to.deep.equal([
      { type: 'Deployed', status: 'True', reason: 'InstallSuccessful', message: '3 objects of kube-fledged-v9 applied', lastTransitionTime: NOW.toISOString(), observedGeneration: 1 },
    ]);
  });

  it('leaves an existing CRD alone', async () => {
    const { cluster, reconciler } = setup(kf());
    cluster.crds.add('imagecaches.kubefledged.io');
    await reconciler.reconcile('kf/rel');
    expect(cluster.calls.filter((c) => c.startsWith('create-crd'))).to.deep.equal([]);
  });

  it('dry-runs a binding only once its role exists (the API server cannot check a binding to a role the dry run did not store)', async () => {
    const rendering = defaultRendering();
    rendering.objects.push({ ...o('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'crb'), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cr' } });
    const fresh = setup(kf(), rendering);
    await fresh.reconciler.reconcile('kf/rel');
    expect(fresh.cluster.calls.filter((c) => c.includes('ClusterRoleBinding'))).to.deep.equal(['apply ClusterRoleBinding/crb']);
    const upgrade = setup(kf(), rendering);
    upgrade.cluster.live = [o('rbac.authorization.k8s.io/v1', 'ClusterRole', 'cr')];
    await upgrade.reconciler.reconcile('kf/rel');
    expect(upgrade.cluster.calls.filter((c) => c.includes('ClusterRoleBinding'))).to.deep.equal(['dry-run ClusterRoleBinding/crb', 'apply ClusterRoleBinding/crb']);
  });

  it('adds its finalizer before applying anything', async () => {
    const { api, cluster, reconciler } = setup(kf({ finalizers: [] }));
    await reconciler.reconcile('kf/rel');
    expect(api.finalizerAdded).to.equal(true);
    expect(cluster.calls).to.include('apply Deployment/ctl');
  });

  it('prunes what the new rendering no longer has, and says so', async () => {
    const { api, cluster, reconciler } = setup(kf());
    cluster.live = [o('apps/v1', 'Deployment', 'ctl', 'kf'), o('policy/v1', 'PodDisruptionBudget', 'old', 'kf')];
    await reconciler.reconcile('kf/rel');
    expect(cluster.calls.at(-1)).to.equal('delete PodDisruptionBudget/old');
    expect(cluster.live.map((l) => l.metadata.name).sort()).to.deep.equal(['cr', 'ctl', 'sa']);
    expect(api.last().conditions![0]!.message).to.equal('3 objects of kube-fledged-v9 applied, 1 pruned (PodDisruptionBudget kf/old)');
  });

  it('bad values (helm refuses them): Deployed=False InvalidValues naming the value, nothing applied, the previous release kept in status', async () => {
    const previous: KubeFledgedStatus = { valuesHash: 'sha256:old', deployedRelease: { name: 'rel', chart: 'c', objects: 3 }, conditions: [] };
    const { api, cluster, reconciler } = setup(kf({ generation: 2 }, {}, previous), new ValuesError("at '/args/controllerImageCacheRefreshFrequency': 'soon' does not match pattern"));
    await reconciler.reconcile('kf/rel');
    expect(cluster.calls).to.deep.equal([]);
    const s = api.last();
    expect(s).to.deep.include({ valuesHash: 'sha256:old', deployedRelease: previous.deployedRelease, observedGeneration: 2 });
    expect(s.conditions![0]).to.include({ status: 'False', reason: 'InvalidValues' });
    expect(s.conditions![0]!.message).to.equal("invalid values, nothing applied: at '/args/controllerImageCacheRefreshFrequency': 'soon' does not match pattern");
  });

  it('a spec that is not an object is InvalidValues without calling helm', async () => {
    const { api, renderer, reconciler } = setup(kf({}, 'nonsense'));
    await reconciler.reconcile('kf/rel');
    expect(renderer.rendered).to.deep.equal([]);
    expect(api.last().conditions![0]).to.include({ status: 'False', reason: 'InvalidValues' });
  });

  it('an object the API server refuses in the dry run: Deployed=False DryRunFailed, no object applied', async () => {
    const { api, cluster, reconciler } = setup(kf());
    cluster.refuse = (obj) => (obj.kind === 'Deployment' ? new ApplyError(obj, 422, 'Deployment kf/ctl: spec.replicas: Invalid value: -1') : undefined);
    await reconciler.reconcile('kf/rel');
    expect(cluster.calls.filter((c) => !c.startsWith('dry-run') && c !== 'list')).to.deep.equal([]);
    expect(api.last().conditions![0]).to.include({
      status: 'False',
      reason: 'DryRunFailed',
      message: 'the API server refused Deployment kf/ctl: spec.replicas: Invalid value: -1; nothing applied, the previous release keeps running',
    });
  });

  it('a transient dry-run error (throttled, conflict, unreachable) is retried: it throws and reports nothing', async () => {
    for (const code of [429, 409, 503, undefined]) {
      const { api, cluster, reconciler } = setup(kf());
      cluster.refuse = (obj) => new ApplyError(obj, code, 'busy');
      let thrown = false;
      await reconciler.reconcile('kf/rel').catch(() => (thrown = true));
      expect(thrown, String(code)).to.equal(true);
      expect(api.statuses, String(code)).to.deep.equal([]);
    }
  });

  it('an apply that fails after the dry run: Deployed=False ApplyFailed, and it throws to be retried', async () => {
    const { api, cluster, reconciler } = setup(kf());
    cluster.refuse = (obj, dryRun) => (!dryRun && obj.kind === 'Deployment' ? new ApplyError(obj, 500, 'Deployment kf/ctl: etcd timeout') : undefined);
    let err: unknown;
    await reconciler.reconcile('kf/rel').catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(ApplyError);
    expect(api.last().conditions![0]).to.include({ status: 'False', reason: 'ApplyFailed', message: 'applying the release failed (retrying): Deployment kf/ctl: etcd timeout' });
  });

  it('does not write a status that is already there', async () => {
    const first = setup(kf());
    await first.reconciler.reconcile('kf/rel');
    const again = setup(kf({}, {}, first.api.last()));
    again.cluster.crds.add('imagecaches.kubefledged.io');
    await again.reconciler.reconcile('kf/rel');
    expect(again.api.statuses).to.deep.equal([]);
  });

  it('on delete: removes every object of the release in uninstall order, then its finalizer', async () => {
    const { api, cluster, renderer, reconciler } = setup(kf({ deletionTimestamp: NOW.toISOString() }));
    cluster.live = [o('v1', 'ServiceAccount', 'sa', 'kf'), o('apps/v1', 'Deployment', 'ctl', 'kf'), o('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'w')];
    await reconciler.reconcile('kf/rel');
    expect(cluster.calls).to.deep.equal(['list', 'delete ValidatingWebhookConfiguration/w', 'delete Deployment/ctl', 'delete ServiceAccount/sa']);
    expect(api.finalizerRemoved).to.equal(true);
    expect(renderer.rendered).to.deep.equal([]);
  });

  it('on delete without its finalizer, or for an object that is gone: does nothing', async () => {
    for (const obj of [kf({ deletionTimestamp: NOW.toISOString(), finalizers: ['other'] }), undefined]) {
      const { api, cluster, reconciler } = setup(obj);
      await reconciler.reconcile('kf/rel');
      expect(cluster.calls).to.deep.equal([]);
      expect(api.finalizerRemoved).to.equal(false);
    }
  });

  it('isPermanent: 4xx refusals and wrongly typed values are permanent; conflicts, throttling, 5xx and network errors are not', () => {
    const x = o('v1', 'Service', 's');
    expect(isPermanent(new ApplyError(x, 422, 'invalid'))).to.equal(true);
    expect(isPermanent(new ApplyError(x, 403, 'forbidden'))).to.equal(true);
    expect(isPermanent(new ApplyError(x, 500, 'failed to create typed patch object (...): .spec.x: expected string'))).to.equal(true);
    for (const code of [409, 429, 408, 500, 503, undefined]) expect(isPermanent(new ApplyError(x, code, 'x')), String(code)).to.equal(false);
    expect(isPermanent(new Error('plain'))).to.equal(false);
  });
});
