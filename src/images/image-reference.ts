// Container image references: strict parsing, normalisation and matching against the names kubelet
// reports in node.status.images[].names. Pure: no I/O, no Kubernetes client.
//
// Grammar (github.com/distribution/reference, reference.go):
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [domain "/"] path-component ["/" path-component]*
//   domain           := host [":" port]        host := domain-name | IPv4 | "[" IPv6 "]"
//   domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//   path-component   := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag              := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest           := algorithm ":" hex      (sha256: 64, sha384: 96, sha512: 128 lower-case hex)
// Normalisation follows docker/containerd (ParseNormalizedNamed): the first path component is a
// registry host only if it contains "." or ":", is "localhost", or has upper-case letters; otherwise the
// registry is docker.io. Single-component Docker Hub names get "library/". "index.docker.io" is docker.io.
// With neither tag nor digest, the tag is "latest".

import { isIPv6 } from 'node:net';
import { memoByString } from '../util/memo.js';

export interface ImageReference {
  /** Registry host, lower-cased, with ":port" when given, e.g. "docker.io", "registry:5000". */
  registry: string;
  /** Repository path inside the registry, e.g. "library/nginx". */
  repository: string;
  /** Tag; "latest" when the input had neither tag nor digest; absent for digest-only references. */
  tag?: string;
  /** Digest "algorithm:hex", e.g. "sha256:<64 hex>". */
  digest?: string;
}

export type ImageReferenceParseResult = { ok: true; ref: ImageReference } | { ok: false; error: string };

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';
/** Longest name (registry + "/" + repository, normalised) the distribution grammar allows. */
export const NAME_TOTAL_LENGTH_MAX = 255;
/** Longest tag the distribution grammar allows. */
export const TAG_LENGTH_MAX = 128;
/** Inputs longer than this are rejected before any parsing (no reference can be this long). */
const INPUT_LENGTH_MAX = 1024;

const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const HEX64 = /^[a-f0-9]{64}$/;
/** Characters that may appear anywhere in a reference. Anything else is rejected up front. */
const ALLOWED_CHARS = /^[A-Za-z0-9._\-/:@[\]]*$/;
const WHITESPACE = /\s/;
const SHELL_METACHARACTERS = new Set([...'$`;&|<>()\\\'"*?!{}~#%^=,+']);

/** The parsed reference plus what the input spelled out (needed by the pull-policy helpers). */
interface ParsedReference {
  ref: ImageReference;
  explicitTag: boolean;
}

type InternalResult = { ok: true; parsed: ParsedReference } | { ok: false; error: string };

/**
 * Parses an image reference strictly and normalises it like containerd/docker do.
 * On failure, `error` says what is wrong and how to fix it (without repeating the input; callers
 * prefix it, e.g. `invalid image reference "Foo Bar": <error>`).
 */
export function parseImageReference(input: string): ImageReferenceParseResult {
  const result = parse(input);
  return result.ok ? { ok: true, ref: result.parsed.ref } : result;
}

/**
 * The fully qualified form, e.g. "nginx" -> "docker.io/library/nginx:latest",
 * "nginx:1.27@sha256:<hex>" -> "docker.io/library/nginx:1.27@sha256:<hex>"; undefined when invalid.
 */
export function normalizeImageReference(input: string): string | undefined {
  return typeof input === 'string' ? normalized(input) : undefined;
}

const normalized = memoByString((input: string): string | undefined => {
  const result = parse(input);
  return result.ok ? formatImageReference(result.parsed.ref) : undefined;
});

/** "registry/repository[:tag][@digest]". */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${
    ref.digest !== undefined ? `@${ref.digest}` : ''
  }`;
}

/**
 * True when one of the names kubelet reports for a node image (node.status.images[].names, e.g.
 * "docker.io/library/nginx@sha256:...", "docker.io/library/nginx:1.27") denotes the wanted image:
 * the same registry and repository, and
 *  - when `wanted` has a digest: a name with the same digest (its tag, if any, is irrelevant);
 *  - otherwise: a name with the same tag ("latest" when `wanted` has none).
 * Both sides are normalised first; invalid names are ignored; an invalid `wanted` matches nothing.
 */
export function imageMatchesNodeImage(wanted: string, nodeImageNames: readonly string[]): boolean {
  const w = parse(wanted);
  if (!w.ok) return false;
  const want = w.parsed.ref;
  const repo = `${want.registry}/${want.repository}`;
  return nameIndex(nodeImageNames).has(want.digest !== undefined ? `${repo}@${want.digest}` : `${repo}:${want.tag}`);
}

/**
 * "registry/repository:tag" and "registry/repository@digest" of every valid name of a node's list, built
 * once per list (a frozen array, such as nodeImageNames gives, is never indexed again): the planner
 * asks about every image of a cache on every node on every pass.
 */
function nameIndex(names: readonly string[]): ReadonlySet<string> {
  let index = Object.isFrozen(names) ? nameIndexes.get(names) : undefined;
  if (index) return index;
  const built = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string') continue;
    const n = parse(name);
    if (!n.ok) continue;
    const have = n.parsed.ref;
    const repo = `${have.registry}/${have.repository}`;
    if (have.digest !== undefined) built.add(`${repo}@${have.digest}`);
    if (have.tag !== undefined) built.add(`${repo}:${have.tag}`);
  }
  index = built;
  if (Object.isFrozen(names)) nameIndexes.set(names, index);
  return index;
}
const nameIndexes = new WeakMap<readonly string[], ReadonlySet<string>>();

/** True when the input is a valid reference that spells out a tag or a digest ("nginx:1.27", "nginx@sha256:..."). */
export function hasExplicitTagOrDigest(input: string): boolean {
  const result = parse(input);
  return result.ok && (result.parsed.explicitTag || result.parsed.ref.digest !== undefined);
}

/**
 * True when the image must always be pulled under the IfNotPresent policy (spec §3.2, and Kubernetes'
 * own defaulting): it has no tag and no digest, or its tag is "latest" (even with a digest, as kubelet
 * decides). An invalid reference also answers true: pulling is the conservative choice.
 */
export function isLatestOrUntagged(input: string): boolean {
  const result = parse(input);
  if (!result.ok) return true;
  const { ref, explicitTag } = result.parsed;
  if (!explicitTag && ref.digest === undefined) return true;
  return ref.tag === DEFAULT_TAG;
}

// ---------------------------------------------------------------------------------------------------

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

function describeChar(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return JSON.stringify(c);
}

function checkCharacters(input: string): string | undefined {
  if (WHITESPACE.test(input)) {
    return 'it contains whitespace; remove spaces, tabs and line breaks (an image reference is a single word such as "nginx:1.27")';
  }
  if (ALLOWED_CHARS.test(input)) return undefined;
  for (const c of input) {
    if (SHELL_METACHARACTERS.has(c)) {
      return `it contains the shell metacharacter ${JSON.stringify(c)}; use only letters, digits and . _ - / : @`;
    }
    if (!ALLOWED_CHARS.test(c)) {
      return `it contains the character ${describeChar(c)}; use only ASCII letters, digits and . _ - / : @`;
    }
  }
  return undefined;
}

/**
 * The planner asks about the same few strings over and over (every image of a cache on every node, and
 * every name a node reports, on every pass): at 100 nodes x 10 images parsing took a sixth of the
 * controller's CPU during a create. Results are frozen and depend on the input alone, so they are kept
 * (util/memo.ts).
 */
const parseString = memoByString((input: string): InternalResult => {
  const r = parseUncached(input);
  if (r.ok) Object.freeze(Object.freeze(r.parsed).ref);
  return Object.freeze(r);
});

function parse(input: string): InternalResult {
  return typeof input === 'string' ? parseString(input) : parseUncached(input);
}

function parseUncached(input: string): InternalResult {
  if (typeof input !== 'string') return fail('it is not a string; give the image as a string such as "nginx:1.27"');
  if (input.length === 0) return fail('it is empty; give an image such as "nginx:1.27"');
  if (input.length > INPUT_LENGTH_MAX) {
    return fail(`it is ${input.length} characters long; a reference has at most ${NAME_TOTAL_LENGTH_MAX} characters of name plus tag and digest`);
  }
  const charError = checkCharacters(input);
  if (charError !== undefined) return fail(charError);

  // Digest: everything after the single "@".
  let rest = input;
  let digest: string | undefined;
  const at = input.indexOf('@');
  if (at >= 0) {
    if (input.indexOf('@', at + 1) >= 0) return fail('it contains more than one "@"; a reference has at most one digest, as in "nginx@sha256:<64 hex digits>"');
    rest = input.slice(0, at);
    const digestError = checkDigest(input.slice(at + 1));
    if (digestError !== undefined) return fail(digestError);
    digest = input.slice(at + 1);
    if (rest.length === 0) return fail('the repository name before "@" is missing; write it as "nginx@sha256:<64 hex digits>"');
  }

  // Tag: after the last ":" that follows the last "/" (a ":" before a "/" is a registry port).
  let name = rest;
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/') && !(rest.startsWith('[') && colon < rest.indexOf(']'))) {
    name = rest.slice(0, colon);
    tag = rest.slice(colon + 1);
    const tagError = checkTag(tag);
    if (tagError !== undefined) return fail(tagError);
    if (name.length === 0) return fail('the repository name before ":" is missing; write it as "nginx:1.27"');
  }

  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) {
    return fail('it has an empty path component (a leading, trailing or doubled "/"); write it as "registry.example.com/team/app:1.0"');
  }

  // Registry: the first component, when it looks like a host.
  let registry = DEFAULT_REGISTRY;
  let path = name;
  const slash = name.indexOf('/');
  if (slash >= 0) {
    const first = name.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[') || first !== first.toLowerCase()) {
      const hostError = checkRegistry(first);
      if (hostError !== undefined) return fail(hostError);
      registry = first.toLowerCase();
      path = name.slice(slash + 1);
    }
  } else if (name.startsWith('[') || name.includes(':')) {
    return fail('it names a registry but no repository; write it as "registry.example.com:5000/app:1.0"');
  }
  if (registry === 'index.docker.io') registry = DEFAULT_REGISTRY;

  const components = path.split('/');
  for (const component of components) {
    const componentError = checkPathComponent(component);
    if (componentError !== undefined) return fail(componentError);
  }
  if (registry === DEFAULT_REGISTRY && slash < 0 && HEX64.test(path)) {
    return fail('it is a 64-hex-digit image ID, not a repository name; give the repository, e.g. "nginx@sha256:<id>"');
  }
  if (registry === DEFAULT_REGISTRY && components.length === 1) path = `library/${path}`;

  const fullName = `${registry}/${path}`;
  if (fullName.length > NAME_TOTAL_LENGTH_MAX) {
    return fail(`its name "${fullName.slice(0, 40)}..." is ${fullName.length} characters long; the registry and repository together may have at most ${NAME_TOTAL_LENGTH_MAX}`);
  }

  const ref: ImageReference = { registry, repository: path };
  if (tag !== undefined) ref.tag = tag;
  else if (digest === undefined) ref.tag = DEFAULT_TAG;
  if (digest !== undefined) ref.digest = digest;
  return { ok: true, parsed: { ref, explicitTag: tag !== undefined } };
}

function checkDigest(digest: string): string | undefined {
  const example = 'write it as "sha256:" followed by 64 lower-case hex digits';
  const colon = digest.indexOf(':');
  if (colon <= 0) return `the digest ${JSON.stringify(digest)} has no algorithm; ${example}`;
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const expected = DIGEST_HEX_LENGTH[algorithm];
  if (expected === undefined) {
    return `the digest algorithm ${JSON.stringify(algorithm)} is not supported (use sha256, sha384 or sha512); ${example}`;
  }
  if (!/^[0-9a-fA-F]*$/.test(hex)) return `the digest ${JSON.stringify(digest)} is not hexadecimal; ${example}`;
  if (hex !== hex.toLowerCase()) return `the digest ${JSON.stringify(digest)} has upper-case hex digits; use lower case`;
  if (hex.length !== expected) {
    return `the ${algorithm} digest has ${hex.length} hex digits but needs ${expected}; copy the full digest`;
  }
  return undefined;
}

function checkTag(tag: string): string | undefined {
  if (tag.length === 0) return 'the tag after ":" is empty; give a tag such as "nginx:1.27" or drop the ":"';
  if (tag.length > TAG_LENGTH_MAX) return `the tag is ${tag.length} characters long; a tag may have at most ${TAG_LENGTH_MAX}`;
  if (!TAG.test(tag)) {
    return `the tag ${JSON.stringify(tag)} is invalid; a tag starts with a letter, digit or "_" and contains only letters, digits, "_", "." and "-"`;
  }
  return undefined;
}

function checkRegistry(host: string): string | undefined {
  let hostname = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return `the registry host ${JSON.stringify(host)} has an unclosed "["; write an IPv6 registry as "[::1]:5000/app"`;
    hostname = host.slice(1, close);
    const after = host.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return `the registry host ${JSON.stringify(host)} has text after "]"; write it as "[::1]:5000/app"`;
      port = after.slice(1);
    }
    if (!/^[0-9a-fA-F:]+$/.test(hostname) || !isIPv6(hostname)) {
      return `the registry host ${JSON.stringify(host)} is not a valid IPv6 address in brackets (hex digits and ":" only, as in "[fd00::1]:5000")`;
    }
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) {
      hostname = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
    if (hostname.length === 0) return `the registry host in ${JSON.stringify(host)} is empty; write it as "registry.example.com:5000/app"`;
    for (const label of hostname.split('.')) {
      if (!DOMAIN_COMPONENT.test(label)) {
        return `the registry host ${JSON.stringify(hostname)} is invalid; host labels contain letters, digits and inner "-" only, separated by single dots`;
      }
    }
  }
  if (port !== undefined) {
    if (!/^[0-9]+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      return `the registry port ${JSON.stringify(port)} is invalid; use a number from 1 to 65535, as in "registry.example.com:5000/app"`;
    }
  }
  return undefined;
}

function checkPathComponent(component: string): string | undefined {
  if (component.length === 0) return 'it has an empty path component; remove the extra "/"';
  if (PATH_COMPONENT.test(component)) return undefined;
  if (component !== component.toLowerCase() && PATH_COMPONENT.test(component.toLowerCase())) {
    return `the repository path component ${JSON.stringify(component)} has upper-case letters; repository names must be lower case (use ${JSON.stringify(component.toLowerCase())})`;
  }
  if (component.includes(':')) {
    return `the repository path component ${JSON.stringify(component)} contains ":"; a tag goes only at the end, as in "team/app:1.0"`;
  }
  return `the repository path component ${JSON.stringify(component)} is invalid; use lower-case letters and digits, separated by single ".", "_", "__" or runs of "-", starting and ending with a letter or digit`;
}
