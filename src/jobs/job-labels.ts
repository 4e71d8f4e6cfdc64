// Labels and annotations the controller puts on its Jobs and pods, and how it reads them back (pure).
import { createHash } from 'node:crypto';
import { JobLabel } from '../api/constants.js';
import type { Action } from '../planning/operation-plan.js';
import { memoByString, sharedCopies, stringInterner } from '../util/memo.js';

export const LABEL_CACHE_UID = 'kubefledged.io/imagecache-uid';
export const LABEL_OPERATION = 'kubefledged.io/operation';
export const LABEL_ACTION = 'kubefledged.io/action';
/** Namespace of the ImageCache (delete Jobs run in the controller's namespace, without an owner reference). */
export const LABEL_CACHE_NAMESPACE = 'kubefledged.io/imagecache-namespace';
/** JSON of JobWork: what the Job does, so results can be read (and a restarted controller can adopt it). */
export const ANNOTATION_WORK = 'kubefledged.io/work';

export interface JobWork {
  node: string;
  hostname: string;
  action: Action;
  /** container name -> the spec spellings of the image that container handles */
  containers: Record<string, string[]>;
}

/** Label values are at most 63 characters: longer names keep a prefix and a hash (still unique). */
export function labelValue(value: string): string {
  if (value.length <= 63) return value;
  return `${value.slice(0, 52).replace(/[-_.]+$/, '')}-${shortHash(value, 10)}`;
}

export function shortHash(input: string, length = 8): string {
  return createHash('sha256').update(input).digest('hex').slice(0, length);
}

/** Labels of every Job and pod of one ImageCache operation. */
export function jobLabels(cacheName: string, cacheUid: string, operationId: string, action: Action, cacheNamespace?: string): Record<string, string> {
  return {
    ...(cacheNamespace ? { [LABEL_CACHE_NAMESPACE]: labelValue(cacheNamespace) } : {}),
    [JobLabel.App]: JobLabel.AppValue,
    [JobLabel.Kubefledged]: JobLabel.KubefledgedValue,
    [JobLabel.ImageCache]: labelValue(cacheName),
    [JobLabel.Controller]: JobLabel.ControllerValue,
    [LABEL_CACHE_UID]: cacheUid,
    [LABEL_OPERATION]: operationId,
    [LABEL_ACTION]: action,
  };
}

/**
 * Deterministic Job name, derived from the work: the same (cache, operation, node, action, images) always
 * gives the same name, so creating a Job twice (a restarted controller) is an AlreadyExists, never a
 * duplicate; and different work never shares a name (the images are part of it, not a chunk index that
 * restarts when the work changes mid-operation). `imageKeys` are the normalised references the Job covers.
 * At most 63 characters. `attempt` (0 the first time) counts the times this work's Job was made again in
 * one operation (see JobTracker.nextAttempt): a Job must not be made again under the name of one just
 * deleted, whose pods the Job controller may still be creating (its expectations are kept by name).
 */
export function jobName(cacheName: string, operationId: string, node: string, action: Action, imageKeys: readonly string[], attempt = 0): string {
  const prefix = cacheName.slice(0, 40).replace(/[-.]+$/, '');
  const work = [...imageKeys].sort().join('\n');
  return `${prefix}-${operationId}-${shortHash(`${node}/${action}/${work}${attempt > 0 ? `\n#${attempt}` : ''}`, 10)}`;
}

export function readJobWork(annotations: Record<string, string> | undefined): JobWork | undefined {
  const raw = annotations?.[ANNOTATION_WORK];
  if (!raw) return undefined;
  // every pass reads the work of every Job of the operation: each distinct annotation is parsed once
  return workOf(raw).work;
}

/**
 * The one copy of a work annotation's text the controller keeps (informer-transforms.ts shareJob): every
 * event of a Job brings its annotation again (3 KB at 50 images), and each copy would stay with the
 * version of the Job that holds it.
 */
export function sharedWorkAnnotation(raw: string): string {
  return workOf(raw).raw;
}

/**
 * The spec images of the parsed works' containers: the same few lists in every Job of an operation, so
 * one frozen copy of each (and of each reference in it) for every Job.
 */
const sharedImage = stringInterner(20_000);
const sharedSpecImages = sharedCopies<readonly unknown[]>((images) => JSON.stringify(images), (images) => Object.freeze(images.map((i) => (typeof i === 'string' ? sharedImage(i) : i))));

const workOf = memoByString((raw: string): { raw: string; work: JobWork | undefined } => ({ raw, work: parseJobWork(raw) }));

function parseJobWork(raw: string): JobWork | undefined {
  try {
    const w = JSON.parse(raw) as JobWork;
    if (typeof w.node !== 'string' || (w.action !== 'pull' && w.action !== 'delete') || typeof w.containers !== 'object' || w.containers === null) {
      return undefined;
    }
    for (const [container, images] of Object.entries(w.containers)) {
      w.containers[container] = (Array.isArray(images) ? sharedSpecImages(images) : Object.freeze(images)) as string[];
    }
    Object.freeze(w.containers);
    return Object.freeze(w);
  } catch {
    return undefined;
  }
}
