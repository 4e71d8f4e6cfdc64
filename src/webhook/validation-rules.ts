// The admission rules for ImageCache CREATE and UPDATE (spec §4.3, §4.6). Pure: objects in, verdict out.
//
// Order of evaluation (the first failing rule decides the message):
//  1. The object (and, on UPDATE, the old object) must carry a spec with a cacheSpec array.
//  2. UPDATE while old.status.status == Processing: a spec change, or a refresh/purge annotation that is
//     being added, is denied with `Previous image cache operation under processing. New operation not
//     allowed now` (spec §4.6).
//  3. UPDATE with an unchanged spec is allowed (metadata-only edits: labels, finalizers, annotations), so
//     an object stored before a rule existed can still be annotated, relabelled and deleted.
//  4. cacheSpec must not be empty.
//  5. For each cacheSpec[i]: images must not be empty (`No images specified within image list`); each
//     image must be a valid image reference (message names the field path and the image); no image
//     string may repeat within the list (`Duplicate image names within image list: <image>`).
//  6. UPDATE only: same number of lists (`Mismatch in no. of image lists`) and the same nodeSelector for
//     each list (`Mismatch in node selector`; an absent selector and `{}` are the same: all nodes).
// Duplicates are exact string repeats within one list, as in the original: "nginx" and "nginx:latest"
// in one list are both accepted, so existing manifests stay valid.

import { Annotation, Status, WebhookMessage } from '../api/constants.js';
import { parseImageReference } from '../images/image-reference.js';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface ImageCacheAdmissionInput {
  operation: string;
  /** request.object (the new object); unknown because it comes off the wire. */
  object: unknown;
  /** request.oldObject (UPDATE only). */
  oldObject?: unknown;
}

export type AdmissionVerdict = { allowed: true } | { allowed: false; message: string };

const ALLOW: AdmissionVerdict = { allowed: true };

function deny(message: string): AdmissionVerdict {
  return { allowed: false, message };
}

/** Validates one ImageCache admission request. Never throws. */
export function validateImageCacheAdmission(input: ImageCacheAdmissionInput): AdmissionVerdict {
  if (input.operation !== 'CREATE' && input.operation !== 'UPDATE') return ALLOW;

  const shapeError = checkShape(input.object, 'object');
  if (shapeError !== undefined) return deny(shapeError);
  const spec = specOf(input.object);

  let oldSpec: Record<string, unknown> | undefined;
  if (input.operation === 'UPDATE') {
    const oldShapeError = checkShape(input.oldObject, 'oldObject');
    if (oldShapeError !== undefined) return deny(oldShapeError);
    oldSpec = specOf(input.oldObject);
    const specChanged = !deepEqual(oldSpec, spec);
    if (statusOf(input.oldObject) === Status.Processing) {
      if (specChanged || addedOperationAnnotation(input.oldObject, input.object) !== undefined) {
        return deny(WebhookMessage.UnderProcessing);
      }
    }
    if (!specChanged) return ALLOW;
  }

  const cacheSpec = spec.cacheSpec as unknown[];
  if (cacheSpec.length === 0) {
    return deny('spec.cacheSpec: no image lists specified; add at least one entry, e.g. cacheSpec: [{images: ["nginx:1.27"]}]');
  }
  for (const [i, entry] of cacheSpec.entries()) {
    const entryError = checkEntry(entry, i);
    if (entryError !== undefined) return deny(entryError);
  }

  if (oldSpec !== undefined) {
    const oldCacheSpec = oldSpec.cacheSpec as unknown[];
    if (oldCacheSpec.length !== cacheSpec.length) return deny(WebhookMessage.MismatchImageLists);
    for (const [i, entry] of cacheSpec.entries()) {
      if (!sameNodeSelector(nodeSelectorOf(oldCacheSpec[i]), nodeSelectorOf(entry))) {
        return deny(WebhookMessage.MismatchNodeSelector);
      }
    }
  }
  return ALLOW;
}

/** The message for an invalid image at a field path (exported for documentation and tests). */
export function invalidImageMessage(path: string, image: string, reason: string): string {
  return `${path}: invalid image reference ${JSON.stringify(image)}: ${reason}`;
}

/** The original's duplicate message with the repeated image. */
export function duplicateImageMessage(image: string): string {
  return `${WebhookMessage.DuplicateImages}: ${image}`;
}

// ---------------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkShape(object: unknown, what: string): string | undefined {
  if (!isRecord(object)) return `request.${what}: missing or not an object; send an ImageCache`;
  if (!isRecord(object.spec)) return 'spec: missing or not an object; an ImageCache needs spec.cacheSpec';
  if (!Array.isArray(object.spec.cacheSpec)) {
    return 'spec.cacheSpec: missing or not a list; give a list of {images: [...], nodeSelector: {...}}';
  }
  return undefined;
}

function specOf(object: unknown): Record<string, unknown> {
  return (object as { spec: Record<string, unknown> }).spec;
}

function statusOf(object: unknown): unknown {
  const status = (object as { status?: unknown }).status;
  return isRecord(status) ? status.status : undefined;
}

function annotationsOf(object: unknown): Record<string, unknown> {
  const metadata = (object as { metadata?: unknown }).metadata;
  if (!isRecord(metadata) || !isRecord(metadata.annotations)) return {};
  return metadata.annotations;
}

/** The refresh or purge annotation key present in `next` and absent in `prev`, if any. */
function addedOperationAnnotation(prev: unknown, next: unknown): string | undefined {
  const before = annotationsOf(prev);
  const after = annotationsOf(next);
  for (const key of [Annotation.Refresh, Annotation.Purge]) {
    if (Object.hasOwn(after, key) && !Object.hasOwn(before, key)) return key;
  }
  return undefined;
}

function checkEntry(entry: unknown, i: number): string | undefined {
  const path = `spec.cacheSpec[${i}]`;
  if (!isRecord(entry)) return `${path}: not an object; give {images: [...], nodeSelector: {...}}`;
  const images = entry.images;
  if (images === undefined || images === null || (Array.isArray(images) && images.length === 0)) {
    return WebhookMessage.NoImages;
  }
  if (!Array.isArray(images)) return `${path}.images: not a list; give a list of image references`;
  const seen = new Set<string>();
  for (const [j, image] of images.entries()) {
    const imagePath = `${path}.images[${j}]`;
    if (typeof image !== 'string') return `${imagePath}: not a string; give an image reference such as "nginx:1.27"`;
    const parsed = parseImageReference(image);
    if (!parsed.ok) return invalidImageMessage(imagePath, image, parsed.error);
    if (seen.has(image)) return duplicateImageMessage(image);
    seen.add(image);
  }
  const selector = entry.nodeSelector;
  if (selector !== undefined && selector !== null) {
    if (!isRecord(selector)) return `${path}.nodeSelector: not a map; give label: value pairs`;
    for (const [key, value] of Object.entries(selector)) {
      if (typeof value !== 'string') return `${path}.nodeSelector[${JSON.stringify(key)}]: value is not a string; quote it`;
    }
  }
  return undefined;
}

function nodeSelectorOf(entry: unknown): Record<string, unknown> {
  if (!isRecord(entry) || !isRecord(entry.nodeSelector)) return {};
  return entry.nodeSelector;
}

function sameNodeSelector(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** Structural equality of JSON values (object key order ignored). */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
