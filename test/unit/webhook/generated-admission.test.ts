// Generated-input test: thousands of ImageCache admission requests (valid and invalid, hostile image
// strings, bad label keys and values, bad pull secrets, wrong types, updates while Processing) checked
// against an oracle written independently of the rules: image validity comes from the distribution
// reference regular expression (reference/regexp.go) plus the documented refinements (digest algorithms
// and lengths, port range, 255-character names, 64-hex IDs); label and Secret name syntax from one
// regular expression each, written from apimachinery's documented grammar; the CRD's structure is
// walked by hand; and the rules are re-stated in the simplest possible form. Deterministic (seeded PRNG).

import { expect } from 'chai';
import { isIPv6 } from 'node:net';
import { parseImageReference } from '../../../src/images/image-reference.js';
import { validateImageCacheAdmission, type AdmissionVerdict } from '../../../src/webhook/validation-rules.js';

// ---- PRNG ---------------------------------------------------------------------------------------
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- oracle: image validity ---------------------------------------------------------------------
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const REFERENCE = new RegExp(`^((?:(${domainAndPort})/)?(${remoteName}))(?::(${tag}))?(?:@(${digestPat}))?$`);
const DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

function oracleImageValid(image: string): boolean {
  if (image.length === 0 || image.length > 1024) return false;
  const m = REFERENCE.exec(image);
  if (m === null) return false;
  const [, name, , , , digest] = m;
  // docker's splitDockerDomain: the first of several components is the registry when it contains "."
  // or ":", is "localhost", or has upper case; it must then be a valid host[:port].
  let domain: string | undefined;
  let path = name!;
  const slash = path.indexOf('/');
  if (slash >= 0) {
    const first = path.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase()) {
      if (!new RegExp(`^${domainAndPort}$`).test(first)) return false;
      domain = first;
      path = path.slice(slash + 1);
    }
  }
  if (domain !== undefined) {
    const portMatch = /^(.*?)(?::([0-9]+))?$/.exec(domain.startsWith('[') ? domain.replace(/^\[[^\]]*\]/, 'H') : domain);
    const port = portMatch?.[2];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return false;
    if (domain.startsWith('[') && !isIPv6(domain.slice(1, domain.indexOf(']')))) return false;
  }
  if (digest !== undefined) {
    const [alg, hex] = digest.split(':') as [string, string];
    if (DIGEST_LENGTHS[alg] !== hex.length || hex !== hex.toLowerCase()) return false;
  }
  let registry = (domain ?? 'docker.io').toLowerCase();
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (domain === undefined && /^[a-f0-9]{64}$/.test(path)) return false;
  const full = `${registry}/${registry === 'docker.io' && !path.includes('/') ? `library/${path}` : path}`;
  return full.length <= 255;
}

// ---- oracle: Kubernetes names -------------------------------------------------------------------
// [DNS-1123 subdomain (<=253) "/"] name (<=63, [A-Za-z0-9._-], alphanumeric at both ends)
const SUBDOMAIN = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*';
const LABEL_NAME = '[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?';
const LABEL_KEY = new RegExp(`^(?:(?=[^/]{1,253}/)${SUBDOMAIN}/)?(?=[^/]{1,63}$)${LABEL_NAME}$`);
const LABEL_VALUE = new RegExp(`^(?:(?=.{1,63}$)${LABEL_NAME})?$`);
const SECRET_NAME = new RegExp(`^(?=.{1,253}$)${SUBDOMAIN}$`);

// ---- oracle: rules ------------------------------------------------------------------------------
type Json = unknown;
interface Spec {
  cacheSpec: Json;
  imagePullSecrets?: Json;
}
interface Obj {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: Spec;
  status?: { status: string };
}
type Expected =
  | { allowed: true }
  | { allowed: false; message: string }
  | { allowed: false; invalidAt: string; image: string }
  | { allowed: false; prefix: string; kind: 'structure' | 'label' | 'secret' };

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** null is absent (the API server prunes it). */
const present = (v: unknown): boolean => v !== undefined && v !== null;

/** The first place where the object breaks the CRD's shape, walking fields in the CRD's order. */
function structureError(spec: Spec): string | undefined {
  const cacheSpec = spec.cacheSpec;
  if (!present(cacheSpec)) return 'spec.cacheSpec';
  if (!Array.isArray(cacheSpec)) return 'spec.cacheSpec';
  for (let i = 0; i < cacheSpec.length; i++) {
    const entry: unknown = cacheSpec[i];
    if (!isMap(entry)) return `spec.cacheSpec[${i}]`;
    if (present(entry.images)) {
      if (!Array.isArray(entry.images)) return `spec.cacheSpec[${i}].images`;
      const j = entry.images.findIndex((x) => typeof x !== 'string');
      if (j >= 0) return `spec.cacheSpec[${i}].images[${j}]`;
    }
    if (present(entry.nodeSelector)) {
      if (!isMap(entry.nodeSelector)) return `spec.cacheSpec[${i}].nodeSelector`;
      for (const [k, v] of Object.entries(entry.nodeSelector)) if (present(v) && typeof v !== 'string') return `spec.cacheSpec[${i}].nodeSelector[${JSON.stringify(k)}]`;
    }
  }
  if (present(spec.imagePullSecrets)) {
    if (!Array.isArray(spec.imagePullSecrets)) return 'spec.imagePullSecrets';
    for (let k = 0; k < spec.imagePullSecrets.length; k++) {
      const entry: unknown = spec.imagePullSecrets[k];
      if (!isMap(entry)) return `spec.imagePullSecrets[${k}]`;
      if (present(entry.name) && typeof entry.name !== 'string') return `spec.imagePullSecrets[${k}].name`;
    }
  }
  return undefined;
}

function oracle(operation: string, obj: Obj, old?: Obj): Expected {
  // No rule looks at status.status any more: Processing changes nothing.
  let oldLists: unknown[] | undefined;
  if (operation === 'UPDATE' && old) {
    if (canonical(old.spec) === canonical(obj.spec)) return { allowed: true };
    oldLists = Array.isArray(old.spec.cacheSpec) ? old.spec.cacheSpec : [];
  }
  const selectorOf = (list: unknown): unknown => (isMap(list) && isMap(list.nodeSelector) ? list.nodeSelector : {});
  const broken = structureError(obj.spec);
  if (broken !== undefined) return { allowed: false, prefix: `${broken}: `, kind: 'structure' };
  const lists = obj.spec.cacheSpec as { images?: string[] | null; nodeSelector?: Record<string, string> | null }[];
  if (lists.length === 0) return { allowed: false, message: 'spec.cacheSpec: no image lists specified' };
  for (let i = 0; i < lists.length; i++) {
    const images = lists[i]!.images ?? [];
    if (images.length === 0) return { allowed: false, message: 'No images specified within image list' };
    for (let j = 0; j < images.length; j++) {
      const image = images[j]!;
      if (!oracleImageValid(image)) return { allowed: false, invalidAt: `spec.cacheSpec[${i}].images[${j}]`, image };
      if (images.slice(0, j).includes(image)) return { allowed: false, message: `Duplicate image names within image list: ${image}` };
    }
    const selector = lists[i]!.nodeSelector ?? {};
    const unchanged = oldLists !== undefined && i < oldLists.length && canonical(selectorOf(oldLists[i])) === canonical(selector);
    if (!unchanged) {
      for (const [k, v] of Object.entries(selector)) {
        if (v === null) continue; // pruned: not a label
        if (!LABEL_KEY.test(k)) return { allowed: false, prefix: `spec.cacheSpec[${i}].nodeSelector: invalid label key ${JSON.stringify(k)}: `, kind: 'label' };
        if (!LABEL_VALUE.test(v)) return { allowed: false, prefix: `spec.cacheSpec[${i}].nodeSelector[${JSON.stringify(k)}]: invalid label value ${JSON.stringify(v)}: `, kind: 'label' };
      }
    }
  }
  const secrets = (obj.spec.imagePullSecrets ?? []) as { name?: string | null }[];
  for (let k = 0; k < secrets.length; k++) {
    const name = secrets[k]!.name;
    if (name === undefined || name === null || name === '') return { allowed: false, prefix: `spec.imagePullSecrets[${k}].name: missing; fix: `, kind: 'secret' };
    if (!SECRET_NAME.test(name)) return { allowed: false, prefix: `spec.imagePullSecrets[${k}].name: invalid Secret name ${JSON.stringify(name)}: `, kind: 'secret' };
  }
  if (oldLists !== undefined) {
    if (oldLists.length !== lists.length) return { allowed: false, message: 'Mismatch in no. of image lists' };
    for (let i = 0; i < lists.length; i++) {
      if (canonical(selectorOf(oldLists[i])) !== canonical(selectorOf(lists[i]))) return { allowed: false, message: 'Mismatch in node selector' };
    }
  }
  return { allowed: true };
}

/** JSON with object keys sorted at every level, fields set to null left out (the API server prunes them). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isMap(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== null).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

// ---- generator ----------------------------------------------------------------------------------
const HEX = '0123456789abcdef';
const HOSTILE = [
  'nginx;rm -rf /', '$(reboot)', '`id`', 'a|b', 'a&&b', 'a>b', "a'b", 'a"b', 'a\\b', '*', '?', 'nginx\n', ' nginx', '\tx',
  'nginx\u0000', 'ngïnx', '\u202enginx', 'NGINX', 'Nginx:1', 'nginx@sha256:xyz', 'nginx@sha256:', 'nginx@', '@sha256:' + 'a'.repeat(64),
  'nginx:', ':tag', '/nginx', 'nginx/', 'a//b', '-x', 'x-', 'a..b', 'r.io:0/x', 'r.io:70000/x', '[::1/x', '[::1]:5000', '--privileged',
  'x'.repeat(300), 'r.io/' + 'a'.repeat(251), 'a:' + 'b'.repeat(129), 'a'.repeat(64), '${IFS}', '%00', '..', '.', '~root', 'a#b', 'a b',
  'nginx@md5:' + 'a'.repeat(32), 'nginx@sha256:' + 'A'.repeat(64), 'nginx@sha256:' + 'a'.repeat(63), 'a:b:c', 'r.io/a:b/c',
];
const CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@[]; $`|&\'"\\\n\t*?!{}~#%^=,+ïé\u0000';

const BAD_LABEL_KEYS = ['bad key', '', '-x', 'x.', '/n', 'a/b/c', 'Example.com/x', 'a_b.io/x', 'x'.repeat(64), `${'p'.repeat(254)}/n`, 'ok.io/', 'ü'];
const BAD_LABEL_VALUES = ['bad value', '-v', 'v_', 'x'.repeat(64), 'a/b', 'a:b', ' '];
const LABEL_CHARS = 'abcXYZ019._-/ :';
const SECRET_ENTRIES: unknown[] = [
  { name: 'regcred' }, { name: 'my.registry-1' }, { name: 'Bad_Name' }, { name: 'UPPER' }, { name: '-x' }, { name: 'a..b' },
  { name: 'x'.repeat(254) }, { name: 'a'.repeat(253) }, {}, { name: '' }, { name: null }, { other: 'x' }, { name: 7 }, 'regcred', null,
];

class Gen {
  constructor(private readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  word(alphabet: string, min: number, max: number): string {
    let s = '';
    const n = min + this.int(max - min + 1);
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
  pathComponent(): string {
    let s = this.word('abcdefghijklmnopqrstuvwxyz0123456789', 1, 6);
    while (this.chance(0.3)) s += this.pick(['.', '_', '__', '-', '---']) + this.word('abcdefghijklmnopqrstuvwxyz0123456789', 1, 4);
    return s;
  }
  validImage(): string {
    let name = '';
    const domainKind = this.int(6);
    if (domainKind === 1) name = `${this.word('abcdefghij', 1, 6)}.${this.pick(['io', 'com', 'example.org'])}/`;
    else if (domainKind === 2) name = `${this.pick(['localhost', 'registry', 'r.io', '127.0.0.1', 'REG.Example.com'])}:${1 + this.int(65535)}/`;
    else if (domainKind === 3) name = this.pick(['localhost/', '[::1]:5000/', '[fd00::2]/', 'index.docker.io/', 'docker.io/']);
    const parts = 1 + this.int(3);
    name += Array.from({ length: parts }, () => this.pathComponent()).join('/');
    if (this.chance(0.7)) name += `:${this.word('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_', 1, 1)}${this.word('abcdefghijklmnopqrstuvwxyz0123456789_.-', 0, 10)}`;
    if (this.chance(0.2)) name += `@${this.pick(['sha256', 'sha384', 'sha512'] as const)}:`;
    if (name.endsWith(':') && name.includes('@')) {
      const alg = name.slice(name.lastIndexOf('@') + 1, -1);
      name += this.word(HEX, { sha256: 64, sha384: 96, sha512: 128 }[alg]!, { sha256: 64, sha384: 96, sha512: 128 }[alg]!);
    }
    return name;
  }
  mutate(image: string): string {
    const at = this.int(image.length + 1);
    switch (this.int(4)) {
      case 0:
        return image.slice(0, at) + this.pick([...CHARS]) + image.slice(at);
      case 1:
        return image.slice(0, at) + image.slice(at + 1);
      case 2:
        return image.toUpperCase();
      default:
        return image.slice(0, at);
    }
  }
  image(): string {
    const kind = this.int(10);
    if (kind < 5) return this.validImage();
    if (kind < 7) return this.mutate(this.validImage());
    if (kind < 9) return this.pick(HOSTILE);
    return this.word(CHARS, 0, 12);
  }
  selector(): Record<string, string> | undefined {
    if (this.chance(0.5)) return undefined;
    if (this.chance(0.1)) return {};
    const s: Record<string, string> = {};
    for (let i = 0; i < 1 + this.int(2); i++) {
      const key = this.chance(0.75) ? this.pick(['tier', 'zone', 'kubernetes.io/arch', 'node-role.kubernetes.io/worker']) : this.pick([...BAD_LABEL_KEYS, this.word(LABEL_CHARS, 0, 8)]);
      s[key] = this.chance(0.8) ? this.pick(['a', 'b', 'amd64', '']) : this.pick([...BAD_LABEL_VALUES, this.word(LABEL_CHARS, 0, 8)]);
    }
    return s;
  }
  pullSecrets(): unknown[] | undefined {
    if (this.chance(0.5)) return undefined;
    return Array.from({ length: this.int(3) }, () => this.pick(SECRET_ENTRIES));
  }
  /** Occasionally a field of the wrong type, as a hand-written or scripted manifest may have. */
  junk(): unknown {
    return this.pick([5, 'x', true, ['x'], { a: 1 }, [1], null]);
  }
  spec(): Spec {
    const n = this.chance(0.05) ? 0 : 1 + this.int(3);
    const allValid = this.chance(0.4); // enough specs reach the label and Secret rules
    const spec: Spec = {
      cacheSpec: Array.from({ length: n }, () => {
        const images: unknown[] = [];
        const count = this.chance(0.06) ? 0 : 1 + this.int(4);
        for (let i = 0; i < count; i++) images.push(images.length > 0 && this.chance(0.1) ? this.pick(images) : allValid ? this.validImage() : this.image());
        const entry: Record<string, unknown> = { images };
        const selector = this.selector();
        if (selector !== undefined) entry.nodeSelector = selector;
        if (this.chance(0.02)) entry.images = this.junk();
        if (this.chance(0.01)) images.push(this.pick([1, null, {}]));
        if (this.chance(0.02)) entry.nodeSelector = this.pick([this.junk(), { tier: 5 }, { tier: null }]);
        if (this.chance(0.02)) delete entry.images;
        return this.chance(0.01) ? this.junk() : entry;
      }),
    };
    const secrets = this.pullSecrets();
    if (secrets !== undefined) spec.imagePullSecrets = this.chance(0.03) ? this.junk() : secrets;
    if (this.chance(0.01)) spec.cacheSpec = this.junk();
    return spec;
  }
  obj(spec: Spec, status?: string, annotations?: Record<string, string>): Obj {
    const o: Obj = { metadata: { name: 'ic' }, spec };
    if (annotations) o.metadata.annotations = annotations;
    if (status) o.status = { status };
    return o;
  }
  editOf(spec: Spec): Spec {
    const copy: Spec = JSON.parse(JSON.stringify(spec));
    const lists = (Array.isArray(copy.cacheSpec) ? copy.cacheSpec : []) as Record<string, unknown>[];
    switch (this.int(6)) {
      case 0:
        return copy; // unchanged
      case 1:
        lists.forEach((e) => {
          if (!isMap(e)) return;
          const images = Array.isArray(e.images) ? e.images : [];
          e.images = images.length > 0 && this.chance(0.5) ? [...images, this.image()] : [this.validImage()];
        });
        return copy;
      case 2:
        lists.push({ images: [this.validImage()] });
        return copy;
      case 3:
        if (isMap(lists[0])) lists[0].nodeSelector = this.selector() ?? {};
        return copy;
      case 4: {
        const secrets = this.pullSecrets();
        if (secrets === undefined) delete copy.imagePullSecrets;
        else copy.imagePullSecrets = secrets;
        return copy;
      }
      default:
        return this.spec();
    }
  }
  annotations(): Record<string, string> | undefined {
    const pick = this.int(4);
    if (pick === 0) return undefined;
    if (pick === 1) return { 'kubefledged.io/refresh-imagecache': '' };
    if (pick === 2) return { 'kubefledged.io/purge-imagecache': '' };
    return { other: 'x' };
  }
}

describe('webhook/validation-rules: generated inputs against an independent oracle', function () {
  this.timeout(60_000);
  const TOTAL = 3000;
  // Another seed can be tried with ADMISSION_GEN_SEED=<n>; failures print the case to reproduce.
  const SEED = Number(process.env.ADMISSION_GEN_SEED ?? 0x6b66);

  it(`agrees with the oracle on ${TOTAL} generated requests (seed ${SEED}), never throwing`, () => {
    const gen = new Gen(mulberry32(SEED));
    const tally = { allowed: 0, deniedInvalidImage: 0, deniedOther: 0, structure: 0, label: 0, secret: 0, updates: 0, admittedWhileProcessing: 0 };
    for (let n = 0; n < TOTAL; n++) {
      const update = gen.chance(0.4);
      const oldSpec = gen.spec();
      const old = gen.obj(oldSpec, gen.pick(['Processing', 'Succeeded', 'Failed', undefined]), gen.annotations());
      const obj = update ? gen.obj(gen.editOf(oldSpec), old.status?.status, gen.annotations()) : old;
      const operation = update ? 'UPDATE' : 'CREATE';
      let verdict: AdmissionVerdict;
      try {
        verdict = validateImageCacheAdmission({ operation, object: obj, oldObject: update ? old : undefined });
      } catch (err) {
        throw new Error(`case ${n} threw ${String(err)} for ${JSON.stringify(obj)}`, { cause: err });
      }
      const expected = oracle(operation, obj, update ? old : undefined);
      const context = `case ${n} (${operation}) ${JSON.stringify({ obj, old: update ? old : undefined })}`;
      const message = verdict.allowed ? '' : verdict.message;
      if (expected.allowed) {
        expect(verdict, context).to.deep.equal({ allowed: true });
        tally.allowed++;
        const newOperation = canonical(obj.spec) !== canonical(old.spec) || JSON.stringify(obj.metadata.annotations ?? {}).includes('kubefledged.io/');
        if (update && old.status?.status === 'Processing' && newOperation) tally.admittedWhileProcessing++;
      } else if ('invalidAt' in expected) {
        expect(verdict.allowed, context).to.equal(false);
        const prefix = `${expected.invalidAt}: invalid image reference ${JSON.stringify(expected.image)}: `;
        expect(message.startsWith(prefix), `${context}\n got ${JSON.stringify(verdict)}\n want prefix ${prefix}`).to.equal(true);
        tally.deniedInvalidImage++;
      } else if ('prefix' in expected) {
        expect(verdict.allowed, context).to.equal(false);
        expect(message.startsWith(expected.prefix) && message.includes('; fix: '), `${context}\n got ${JSON.stringify(verdict)}\n want prefix ${expected.prefix} and a fix`).to.equal(true);
        tally[expected.kind]++;
      } else {
        expect(verdict.allowed, context).to.equal(false);
        expect(message.startsWith(expected.message), `${context}\n got ${message}`).to.equal(true);
        tally.deniedOther++;
      }
      expect(message, context).to.not.include('under processing');
      if (update) tally.updates++;
    }
    if (process.env.ADMISSION_GEN_SEED !== undefined) console.log(JSON.stringify(tally));
    // The generator must exercise every kind of verdict, or the agreement above proves little.
    expect(tally.allowed).to.be.greaterThan(300);
    expect(tally.deniedInvalidImage).to.be.greaterThan(300);
    expect(tally.deniedOther).to.be.greaterThan(300);
    expect(tally.structure).to.be.greaterThan(100);
    expect(tally.label).to.be.greaterThan(100);
    expect(tally.secret).to.be.greaterThan(60);
    expect(tally.admittedWhileProcessing).to.be.greaterThan(30);
    expect(tally.updates).to.be.greaterThan(800);
  });

  it('parseImageReference agrees with the oracle on 20000 generated image strings', () => {
    const gen = new Gen(mulberry32(SEED + 1));
    let valid = 0;
    for (let n = 0; n < 20_000; n++) {
      const image = gen.image();
      const expected = oracleImageValid(image);
      const got = parseImageReference(image);
      expect(got.ok, `${JSON.stringify(image)}: ${JSON.stringify(got)}`).to.equal(expected);
      if (got.ok) valid++;
    }
    expect(valid).to.be.within(5000, 15000);
  });

  it('the oracle itself agrees with known answers', () => {
    for (const ok of ['nginx', 'a/b:c', 'r.io:5000/x@sha256:' + 'a'.repeat(64), '[::1]:5000/a', 'Foo/bar', 'localhost/x']) {
      expect(oracleImageValid(ok), ok).to.equal(true);
    }
    for (const bad of ['Foo', 'a b', 'x@sha256:xyz', 'r.io:0/x', 'a'.repeat(64), '[::ffff:1.2.3.4]/x', '']) {
      expect(oracleImageValid(bad), bad).to.equal(false);
    }
  });
});
