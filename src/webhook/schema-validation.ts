// Structure of an ImageCache checked against the CRD's own openAPIV3Schema (crds/, embedded at build time
// in imagecache-schema.ts), compiled once with ajv. The schema stays the one source of truth for shapes
// and types; this file only turns ajv's errors into messages that name the field path and the fix, e.g.
//   spec.cacheSpec[0].images: must be a list, not a string; fix: give a list of image references, e.g. images: ["nginx:1.27"]
//
// The API server checks the same schema before it calls the webhook, so on a cluster whose CRD matches
// this build these messages are rarely seen; they matter when the webhook meets an older CRD (no
// schema, or an upgrade in progress) or is called directly. Formats are not checked here (the API server
// does), and the Kubernetes extension keywords (x-kubernetes-*) are accepted as annotations.
// Pure: no I/O; the schema is compiled when the module is loaded, so a schema ajv cannot compile stops
// the server at start (and fails the unit tests), never a request.

import { Ajv, type ErrorObject } from 'ajv';
import { IMAGECACHE_WRITABLE_SCHEMA } from './imagecache-schema.js';

/** One violation of the schema: where, what ajv found, and the message for the user. */
export interface SchemaViolation {
  /** Field path as users write it: `spec.cacheSpec[0].nodeSelector["tier"]`. */
  path: string;
  /** The same path with list indices and map keys as `[*]`: `spec.cacheSpec[*].nodeSelector[*]`. */
  pattern: string;
  /** ajv keyword that failed (`type`, `required`, ...). */
  keyword: string;
  /** The offending value (undefined for a missing field). */
  value: unknown;
  message: string;
}

type Schema = Record<string, unknown>;

const KUBERNETES_KEYWORDS = [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
];

const ajv = new Ajv({ allErrors: true, strict: true, validateFormats: false });
for (const keyword of KUBERNETES_KEYWORDS) ajv.addKeyword({ keyword });
const validate = ajv.compile(IMAGECACHE_WRITABLE_SCHEMA);

/** How to fix a field, by path pattern; other fields point at `kubectl explain`. */
const FIXES: Readonly<Record<string, string>> = {
  '': 'send an ImageCache object',
  spec: 'an ImageCache needs spec.cacheSpec, e.g. spec: {cacheSpec: [{images: ["nginx:1.27"]}]}',
  'spec.cacheSpec': 'give a list of {images: [...], nodeSelector: {...}}',
  'spec.cacheSpec[*]': 'give {images: [...], nodeSelector: {...}}',
  'spec.cacheSpec[*].images': 'give a list of image references, e.g. images: ["nginx:1.27"]',
  'spec.cacheSpec[*].images[*]': 'give an image reference such as "nginx:1.27"',
  'spec.cacheSpec[*].nodeSelector': 'give label: value pairs, e.g. nodeSelector: {tier: backend}',
  'spec.cacheSpec[*].nodeSelector[*]': 'give a string value; quote numbers and booleans, e.g. "true" or "1"',
  'spec.imagePullSecrets': "give a list of Secret references, e.g. imagePullSecrets: [{name: regcred}]",
  'spec.imagePullSecrets[*]': "give {name: <a Secret in the ImageCache's namespace>}",
  'spec.imagePullSecrets[*].name': "give the Secret's name as a string",
};

/**
 * Every violation of the CRD schema by `object` (request.object of an AdmissionReview), in ajv's order.
 * A field set to null counts as absent (unless its schema says `nullable: true`), as the API server
 * prunes such nulls before it validates.
 */
export function schemaViolations(object: unknown): SchemaViolation[] {
  const pruned = withoutNulls(object);
  if (validate(pruned)) return [];
  return (validate.errors ?? []).map((e) => violationOf(e, pruned));
}

/**
 * A copy of `object` without the fields set to null whose schema is not `nullable: true`: what the API
 * server stores (it prunes them before validation). Items of lists are kept (a null item is an error).
 */
export function withoutNulls(object: unknown): unknown {
  return pruneNulls(object, IMAGECACHE_WRITABLE_SCHEMA);
}

function pruneNulls(value: unknown, schema: Schema): unknown {
  if (Array.isArray(value)) {
    const items = isRecord(schema.items) ? schema.items : {};
    return value.map((v) => pruneNulls(v, items));
  }
  if (!isRecord(value)) return value;
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const child = (Object.hasOwn(properties, k) ? properties[k] : schema.additionalProperties) as Schema | undefined;
    const childSchema = isRecord(child) ? child : {};
    if (v === null && childSchema.nullable !== true) continue;
    // defineProperty: a "__proto__" key stays a plain field instead of replacing the prototype
    Object.defineProperty(out, k, { value: pruneNulls(v, childSchema), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function violationOf(error: ErrorObject, root: unknown): SchemaViolation {
  const segments = error.instancePath === '' ? [] : error.instancePath.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const value = segments.reduce<unknown>((v, s) => (isRecord(v) || Array.isArray(v) ? (v as Record<string, unknown>)[s] : undefined), root);
  const at = locate(segments);
  switch (error.keyword) {
    case 'required': {
      const field = String((error.params as { missingProperty: string }).missingProperty);
      const child = childOf(at, field);
      return finish(child, 'required', undefined, 'missing');
    }
    case 'type': {
      const want = (error.params as { type: string | string[] }).type;
      const wanted = (Array.isArray(want) ? want : [want]).map((t) => typeName(t, at.schema)).join(' or ');
      return finish(at, 'type', value, `must be ${wanted}, not ${describe(value)}`);
    }
    case 'additionalProperties': {
      const field = String((error.params as { additionalProperty: string }).additionalProperty);
      return finish(childOf(at, field), 'additionalProperties', isRecord(value) ? value[field] : undefined, 'unknown field', 'remove it');
    }
    case 'enum': {
      const allowed = ((error.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ');
      return finish(at, 'enum', value, `must be one of ${allowed}, not ${JSON.stringify(value)}`);
    }
    default:
      return finish(at, error.keyword, value, error.message ?? `fails the schema keyword ${error.keyword}`);
  }
}

function finish(at: Location, keyword: string, value: unknown, problem: string, fixOverride?: string): SchemaViolation {
  const fix = fixOverride ?? FIXES[at.pattern] ?? `see kubectl explain imagecache${at.pattern === '' ? '' : `.${at.pattern.replace(/\[\*\]/g, '')}`}`;
  const path = at.path === '' ? 'request.object' : at.path;
  return { path: at.path, pattern: at.pattern, keyword, value, message: `${path}: ${problem}; fix: ${fix}` };
}

interface Location {
  path: string;
  pattern: string;
  schema: Schema;
}

/** Walks the schema along the data path: properties become `.name`, list items `[i]`, map entries `["key"]`. */
function locate(segments: string[]): Location {
  let at: Location = { path: '', pattern: '', schema: IMAGECACHE_WRITABLE_SCHEMA };
  for (const segment of segments) at = childOf(at, segment);
  return at;
}

function childOf(at: Location, segment: string): Location {
  const { schema } = at;
  const properties = isRecord(schema.properties) ? schema.properties : {};
  if (isRecord(schema.items) || schema.type === 'array') {
    return { path: `${at.path}[${segment}]`, pattern: `${at.pattern}[*]`, schema: isRecord(schema.items) ? schema.items : {} };
  }
  if (Object.hasOwn(properties, segment)) {
    const sep = at.path === '' ? '' : '.';
    return { path: `${at.path}${sep}${segment}`, pattern: `${at.pattern}${sep}${segment}`, schema: properties[segment] as Schema };
  }
  const next = isRecord(schema.additionalProperties) ? schema.additionalProperties : {};
  return { path: `${at.path}[${JSON.stringify(segment)}]`, pattern: `${at.pattern}[*]`, schema: next };
}

function typeName(type: string, schema: Schema): string {
  switch (type) {
    case 'array':
      return 'a list';
    case 'object':
      return isRecord(schema.additionalProperties) && !isRecord(schema.properties) ? 'a map' : 'an object';
    case 'integer':
      return 'an integer';
    default:
      return `a ${type}`;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  const shown = JSON.stringify(value);
  return `a ${typeof value} (${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown})`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
