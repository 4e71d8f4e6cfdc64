// Reconcile of one KubeFledged object (level-based: the same answer whatever event woke it):
//   deleted        -> remove every object of the release, then the finalizer
//   otherwise      -> finalizer; render the chart for the spec; list the release's live objects;
//                     server-side dry run of every object (a refusal applies nothing and leaves the
//                     previous release running); create missing CRDs; apply every object; prune the
//                     live objects the rendering no longer has; report status.
// Decisions come from release-plan.ts; the I/O is behind the small interfaces below.
import { FINALIZER, Reason, type KubeFledged, type KubeFledgedStatus } from './kubefledged.js';
import {
  ValuesError,
  canonicalJson,
  describe,
  dryRunnable,
  mergeValues,
  missingCrds,
  nextStatus,
  ownerLabels,
  pruneList,
  releaseObjects,
  specValues,
  successReason,
  valuesHash,
  type KubeObject,
  type Outcome,
  type Owner,
} from './release-plan.js';
import type { ChartInfo, Rendering } from './chart-renderer.js';
import { ApplyError } from './cluster-applier.js';

export interface ReleaseApi {
  get(namespace: string, name: string): Promise<KubeFledged | undefined>;
  addFinalizer(obj: KubeFledged): Promise<KubeFledged>;
  removeFinalizer(obj: KubeFledged): Promise<void>;
  patchStatus(obj: KubeFledged, status: KubeFledgedStatus): Promise<void>;
}

export interface ReleaseCluster {
  apply(obj: KubeObject, dryRun: boolean): Promise<void>;
  listOwned(owner: Owner): Promise<KubeObject[]>;
  delete(obj: KubeObject): Promise<void>;
  existingCrds(names: string[]): Promise<Set<string>>;
  createCrd(crd: KubeObject): Promise<void>;
}

export interface ReleaseRenderer {
  info(): ChartInfo;
  render(release: string, namespace: string, values: Record<string, unknown>): Promise<Rendering>;
}

export interface ReleaseLog {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

/**
 * A refusal by the API server that retrying cannot fix: invalid, forbidden, ... (4xx but 408/409/429),
 * and a value of the wrong type, which server-side apply reports as a 500 "failed to create typed patch
 * object". Network errors, conflicts, throttling and other 5xx are retried.
 */
export function isPermanent(err: unknown): boolean {
  if (!(err instanceof ApplyError) || err.code === undefined) return false;
  if (err.code === 500) return /failed to create typed patch object/.test(err.message);
  return err.code >= 400 && err.code < 500 && ![408, 409, 429].includes(err.code);
}

export class ReleaseReconciler {
  private readonly now: () => Date;

  constructor(
    private readonly api: ReleaseApi,
    private readonly cluster: ReleaseCluster,
    private readonly renderer: ReleaseRenderer,
    private readonly log: ReleaseLog,
    now?: () => Date,
  ) {
    this.now = now ?? (() => new Date());
  }

  async reconcile(key: string): Promise<void> {
    const started = Date.now();
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    let obj = await this.api.get(namespace, name);
    if (!obj) return; // gone: its finalizer already removed the release
    const owner: Owner = { namespace, name };

    if (obj.metadata.deletionTimestamp) {
      if (!(obj.metadata.finalizers ?? []).includes(FINALIZER)) return;
      const removed = await this.uninstall(owner);
      await this.api.removeFinalizer(obj);
      this.log.info('release uninstalled', { kubefledged: key, objectsDeleted: removed });
      return;
    }
    if (!(obj.metadata.finalizers ?? []).includes(FINALIZER)) obj = await this.api.addFinalizer(obj);

    let values: Record<string, unknown>;
    let rendering: Rendering;
    let desired: KubeObject[];
    try {
      values = specValues(obj.spec);
      rendering = await this.renderer.render(name, namespace, values);
      desired = releaseObjects(rendering.objects, owner);
    } catch (err) {
      if (!(err instanceof ValuesError)) throw err;
      await this.report(obj, { status: 'False', reason: Reason.InvalidValues, message: `invalid values, nothing applied: ${err.message}` });
      return; // retrying cannot help: the next edit of the spec brings a new reconcile
    }

    // Nothing is applied unless the API server accepts every object (but bindings to new roles, see dryRunnable).
    const live = await this.cluster.listOwned(owner);
    for (const o of dryRunnable(desired, live)) {
      try {
        await this.cluster.apply(o, true);
      } catch (err) {
        if (!isPermanent(err)) throw err;
        await this.report(obj, {
          status: 'False',
          reason: Reason.DryRunFailed,
          message: `the API server refused ${(err as ApplyError).message}; nothing applied, the previous release keeps running`,
        });
        return;
      }
    }

    let pruned: KubeObject[];
    try {
      const crdNames = rendering.crds.map((c) => c.metadata.name);
      for (const crd of missingCrds(rendering.crds, await this.cluster.existingCrds(crdNames))) {
        await this.cluster.createCrd({ ...crd, metadata: { ...crd.metadata, labels: { ...crd.metadata.labels, ...ownerLabels(owner) } } });
      }
      for (const o of desired) await this.cluster.apply(o, false);
      pruned = pruneList(live, desired);
      for (const o of pruned) await this.cluster.delete(o);
    } catch (err) {
      await this.report(obj, { status: 'False', reason: Reason.ApplyFailed, message: `applying the release failed (retrying): ${(err as Error).message}` });
      throw err;
    }

    const info = this.renderer.info();
    const hash = valuesHash(mergeValues(info.defaults, values));
    await this.report(
      obj,
      {
        status: 'True',
        reason: successReason(obj.status, hash),
        message: `${desired.length} objects of ${info.chart} applied${pruned.length ? `, ${pruned.length} pruned (${pruned.map(describe).join(', ')})` : ''}`,
      },
      { valuesHash: hash, release: { name, chart: info.chart, objects: desired.length } },
    );
    this.log.info('release applied', { kubefledged: key, objects: desired.length, pruned: pruned.length, durationMs: Date.now() - started });
  }

  /** Deletes every object of the release, in uninstall order; returns how many there were. */
  private async uninstall(owner: Owner): Promise<number> {
    const live = await this.cluster.listOwned(owner);
    for (const o of pruneList(live, [])) await this.cluster.delete(o);
    return live.length;
  }

  private async report(obj: KubeFledged, outcome: Outcome, applied?: Parameters<typeof nextStatus>[4]): Promise<void> {
    const status = nextStatus(obj.status, outcome, obj.metadata.generation, this.now(), applied);
    if (outcome.status === 'False') this.log.warn(outcome.message, { kubefledged: `${obj.metadata.namespace}/${obj.metadata.name}`, reason: outcome.reason });
    if (canonicalJson(status) === canonicalJson(obj.status ?? {})) return;
    await this.api.patchStatus(obj, status);
  }
}
