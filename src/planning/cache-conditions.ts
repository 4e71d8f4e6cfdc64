// Conditions of an ImageCache (pure), beside the original's status/reason/message strings:
//   PullSecretsExposeImages=True  the cache pulls with imagePullSecrets: those images can then be used by
//                                 any pod on the nodes without credentials while pods use IfNotPresent
//                                 (the gap behind KEP-2535; docs/private-images.md)
//   PullSecretsFound=False        the kubelet could not retrieve a pull Secret the cache names
//                                 (its FailedToRetrieveImagePullSecret Event on a pull pod)
// lastTransitionTime moves only when a condition's status changes.
import type { ImageCache, ImageCacheCondition } from '../api/imagecache.js';

export const ConditionType = {
  PullSecretsExposeImages: 'PullSecretsExposeImages',
  PullSecretsFound: 'PullSecretsFound',
} as const;

export const EXPOSURE_REASON = 'ImagesPulledWithSecrets';
export const EXPOSURE_MESSAGE =
  'images pulled with imagePullSecrets can be used by any pod on the selected nodes without credentials while pods use ' +
  'imagePullPolicy IfNotPresent or Never; enable the kubelet feature KubeletEnsureSecretPulledImages or the AlwaysPullImages ' +
  'admission plugin (docs/private-images.md)';
export const SECRET_NOT_FOUND_REASON = 'SecretNotFound';

/** The conditions a cache carries now; `missingSecret` is the kubelet's message when a pull Secret was not found. */
export function cacheConditions(cache: ImageCache, now: Date, missingSecret?: string): ImageCacheCondition[] {
  const previous = cache.status?.conditions ?? [];
  const out: ImageCacheCondition[] = [];
  const put = (c: Omit<ImageCacheCondition, 'lastTransitionTime'>) => {
    const before = previous.find((p) => p.type === c.type);
    out.push({ ...c, lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : now.toISOString() });
  };
  const secrets = (cache.spec.imagePullSecrets ?? []).map((s) => s.name).filter((n) => n);
  if (secrets.length > 0) {
    put({ type: ConditionType.PullSecretsExposeImages, status: 'True', reason: EXPOSURE_REASON, message: EXPOSURE_MESSAGE });
    if (missingSecret !== undefined) {
      put({ type: ConditionType.PullSecretsFound, status: 'False', reason: SECRET_NOT_FOUND_REASON, message: `${missingSecret} (spec.imagePullSecrets: ${secrets.join(', ')}; create the Secret in namespace ${cache.metadata.namespace} or remove the entry)` });
    } else {
      const before = previous.find((p) => p.type === ConditionType.PullSecretsFound);
      if (before) out.push(before); // kept until an operation's pods show otherwise
    }
  }
  return out;
}

/** Whether a condition of this type just became True (for a one-time Warning Event). */
export function becameTrue(before: readonly ImageCacheCondition[] | undefined, after: readonly ImageCacheCondition[], type: string, status = 'True'): boolean {
  return after.some((c) => c.type === type && c.status === status) && !(before ?? []).some((c) => c.type === type && c.status === status);
}
