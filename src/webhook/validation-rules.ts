// The admission rules for ImageCache CREATE and UPDATE (spec §4.3). Pure: objects in, verdict out.
//
// Order of evaluation (the first failing rule decides the message):
//  1. request.object (and, on UPDATE, request.oldObject) must be an object.
//  2. UPDATE with an unchanged spec is allowed (metadata-only edits: labels, finalizers, annotations), so
//     an object stored before a rule existed can still be annotated, relabelled and deleted.
//  3. Structure: the object must match the CRD's own openAPIV3Schema (schema-validation.ts; wrong types,
//     missing required fields), reported with the field path and the fix. A field set to null counts as
//     absent (the API server prunes such nulls); a missing image list is left to rule 5, so it keeps the
//     original's message.
//  4. cacheSpec must not be empty.
//  5. For each cacheSpec[i]: images must not be empty (`No images specified within image list`); each
//     image must be a valid image reference (message names the field path and the image); no image
//     string may repeat within the list (`Duplicate image names within image list: <image>`); every
//     nodeSelector key must be a label key and every value a label value (kubernetes-names.ts). On UPDATE
//     a nodeSelector equal to the old one is not re-checked: it cannot be changed (rule 7), so an object
//     stored before the label rule existed stays editable.
//  6. spec.imagePullSecrets: every entry names a Secret (`name` present, a DNS-1123 subdomain).
//  7. UPDATE only: same number of lists (`Mismatch in no. of image lists`) and the same nodeSelector for
//     each list (`Mismatch in node selector`; an absent selector and `{}` are the same: all nodes).
// Nothing is refused for timing: edits and refresh/purge annotations while the cache is Processing are
// admitted (the develop branch's `Previous image cache operation under processing...` rule, spec §4.6, is
// gone); the controller acts on them after the current operation (a newer spec supersedes a queued one,
// purge wins over refresh). WebhookMessage.UnderProcessing stays exported for readers of old statuses.
// Duplicates are exact string repeats within one list, as in the original: "nginx" and "nginx:latest"
// in one list are both accepted, so existing manifests stay valid.

import { WebhookMessage } from '../api/constants.js';
import type { CacheSpecEntry as ApiCacheSpecEntry } from '../api/imagecache.js';
import { parseImageReference } from '../images/image-reference.js';
import { checkTargeting } from './targeting-rules.js';
import { dns1123SubdomainError, labelKeyError, labelValueError } from './kubernetes-names.js';
import { schemaViolations, withoutNulls, type SchemaViolation } from './schema-validation.js';

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
  if (!isRecord(input.object)) return deny('request.object: missing or not an object; fix: send an ImageCache');
  // What the API server stores: a field set to null is absent.
  const object = withoutNulls(input.object) as Record<string, unknown>;

  let oldSpec: Record<string, unknown> | undefined;
  if (input.operation === 'UPDATE') {
    if (!isRecord(input.oldObject)) return deny('request.oldObject: missing or not an object; fix: send the stored ImageCache as oldObject');
    const oldObject = withoutNulls(input.oldObject) as Record<string, unknown>;
    if (deepEqual(oldObject.spec, object.spec)) return ALLOW;
    oldSpec = isRecord(oldObject.spec) ? oldObject.spec : {};
  }

  const structural = schemaViolations(object).find((v) => !coveredByNoImagesRule(v));
  if (structural !== undefined) return deny(structural.message);
  const spec = object.spec as Record<string, unknown>;

  const cacheSpec = spec.cacheSpec as unknown[];
  if (cacheSpec.length === 0) {
    return deny('spec.cacheSpec: no image lists specified; add at least one entry, e.g. cacheSpec: [{images: ["nginx:1.27"]}]');
  }
  const oldCacheSpec = oldSpec !== undefined && Array.isArray(oldSpec.cacheSpec) ? (oldSpec.cacheSpec as unknown[]) : undefined;
  for (const [i, entry] of cacheSpec.entries()) {
    const entryError = checkEntry(entry as CacheSpecEntry, i, oldCacheSpec?.[i]);
    if (entryError !== undefined) return deny(entryError);
  }
  const secretsError = checkImagePullSecrets(spec.imagePullSecrets);
  if (secretsError !== undefined) return deny(secretsError);

  if (oldSpec !== undefined) {
    const before = oldCacheSpec ?? [];
    if (before.length !== cacheSpec.length) return deny(WebhookMessage.MismatchImageLists);
    for (const [i, entry] of cacheSpec.entries()) {
      if (!sameNodeSelector(nodeSelectorOf(before[i]), nodeSelectorOf(entry))) {
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

/** The message for a nodeSelector key that is not a label key. */
export function invalidLabelKeyMessage(path: string, key: string, reason: string): string {
  return (
    `${path}: invalid label key ${JSON.stringify(key)}: ${reason}; fix: use [prefix/]name, where name has at most 63 ` +
    "letters, digits, '-', '_' or '.' and starts and ends with a letter or digit, and the optional prefix is a " +
    'DNS subdomain (e.g. tier, kubernetes.io/arch)'
  );
}

/** The message for a nodeSelector value that is not a label value. */
export function invalidLabelValueMessage(path: string, value: string, reason: string): string {
  return (
    `${path}: invalid label value ${JSON.stringify(value)}: ${reason}; fix: use at most 63 letters, digits, ` +
    "'-', '_' or '.', starting and ending with a letter or digit (or the empty string), as the node's label has it"
  );
}

/** The message for an imagePullSecrets entry that names no Secret. */
export function missingSecretNameMessage(path: string): string {
  return `${path}: missing; fix: name a Secret in the ImageCache's namespace, e.g. imagePullSecrets: [{name: regcred}]`;
}

/** The message for an imagePullSecrets name that cannot be a Secret's name. */
export function invalidSecretNameMessage(path: string, name: string, reason: string): string {
  return (
    `${path}: invalid Secret name ${JSON.stringify(name)}: ${reason}; fix: use the Secret's name as ` +
    "kubectl get secrets lists it (lower-case letters, digits, '-' and '.', at most 253 characters)"
  );
}

// ---------------------------------------------------------------------------------------------------

/** A list whose structure has passed the schema (nulls pruned). */
interface CacheSpecEntry extends Pick<ApiCacheSpecEntry, 'affinity' | 'tolerations' | 'workloadSelector'> {
  images?: string[];
  nodeSelector?: Record<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A missing `images` is the original's `No images specified within image list`, not a schema error. */
function coveredByNoImagesRule(v: SchemaViolation): boolean {
  return v.pattern === 'spec.cacheSpec[*].images' && v.keyword === 'required';
}

/** The rules of one list; its structure has passed the schema. `old` is the list at the same index before an UPDATE. */
function checkEntry(entry: CacheSpecEntry, i: number, old: unknown): string | undefined {
  const path = `spec.cacheSpec[${i}]`;
  const images = entry.images ?? [];
  // an entry that follows workloads may list no image of its own
  if (images.length === 0 && entry.workloadSelector === undefined) return WebhookMessage.NoImages;
  const seen = new Set<string>();
  for (const [j, image] of images.entries()) {
    const parsed = parseImageReference(image);
    if (!parsed.ok) return invalidImageMessage(`${path}.images[${j}]`, image, parsed.error);
    if (seen.has(image)) return duplicateImageMessage(image);
    seen.add(image);
  }
  const targetingError = checkTargeting(entry, path);
  if (targetingError !== undefined) return targetingError;
  const selector = entry.nodeSelector ?? {};
  if (old !== undefined && sameNodeSelector(nodeSelectorOf(old), selector)) return undefined;
  for (const [key, value] of Object.entries(selector)) {
    const keyError = labelKeyError(key);
    if (keyError !== undefined) return invalidLabelKeyMessage(`${path}.nodeSelector`, key, keyError);
    const valueError = labelValueError(value);
    if (valueError !== undefined) return invalidLabelValueMessage(`${path}.nodeSelector[${JSON.stringify(key)}]`, value, valueError);
  }
  return undefined;
}

/** Every entry names a Secret: `name` present and a DNS-1123 subdomain. Structure has passed the schema. */
function checkImagePullSecrets(secrets: unknown): string | undefined {
  if (!Array.isArray(secrets)) return undefined; // absent: no pull secrets
  for (const [k, entry] of (secrets as { name?: string }[]).entries()) {
    const path = `spec.imagePullSecrets[${k}].name`;
    if (entry.name === undefined || entry.name === '') return missingSecretNameMessage(path);
    const nameError = dns1123SubdomainError(entry.name);
    if (nameError !== undefined) return invalidSecretNameMessage(path, entry.name, nameError);
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
