// Generated-input test: thousands of ImageCache admission requests (valid and invalid, hostile image
// strings, updates while Processing) checked against an oracle written independently of the rules:
// image validity comes from the distribution reference regular expression (reference/regexp.go) plus
// the documented refinements (digest algorithms and lengths, port range, 255-character names, 64-hex
// IDs), and the rules are re-stated in the simplest possible form. Deterministic (seeded PRNG).

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

// ---- oracle: rules ------------------------------------------------------------------------------
interface Spec {
  cacheSpec: { images: unknown[]; nodeSelector?: Record<string, string> }[];
}
interface Obj {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: Spec;
  status?: { status: string };
}
type Expected = { allowed: true } | { allowed: false; message: string } | { allowed: false; invalidAt: string; image: string };

function oracle(operation: string, obj: Obj, old?: Obj): Expected {
  if (operation === 'UPDATE' && old) {
    const specChanged = JSON.stringify(canon(old.spec)) !== JSON.stringify(canon(obj.spec));
    const annotationAdded = ['kubefledged.io/refresh-imagecache', 'kubefledged.io/purge-imagecache'].some(
      (k) => obj.metadata.annotations?.[k] !== undefined && old.metadata.annotations?.[k] === undefined,
    );
    if (old.status?.status === 'Processing' && (specChanged || annotationAdded)) {
      return { allowed: false, message: 'Previous image cache operation under processing. New operation not allowed now' };
    }
    if (!specChanged) return { allowed: true };
  }
  if (obj.spec.cacheSpec.length === 0) return { allowed: false, message: 'spec.cacheSpec: no image lists specified' };
  for (let i = 0; i < obj.spec.cacheSpec.length; i++) {
    const images = obj.spec.cacheSpec[i]!.images;
    if (images.length === 0) return { allowed: false, message: 'No images specified within image list' };
    for (let j = 0; j < images.length; j++) {
      const image = images[j] as string;
      if (!oracleImageValid(image)) return { allowed: false, invalidAt: `spec.cacheSpec[${i}].images[${j}]`, image };
      if (images.slice(0, j).includes(image)) return { allowed: false, message: `Duplicate image names within image list: ${image}` };
    }
  }
  if (operation === 'UPDATE' && old) {
    if (old.spec.cacheSpec.length !== obj.spec.cacheSpec.length) return { allowed: false, message: 'Mismatch in no. of image lists' };
    for (let i = 0; i < obj.spec.cacheSpec.length; i++) {
      const a = JSON.stringify(sorted(old.spec.cacheSpec[i]!.nodeSelector ?? {}));
      const b = JSON.stringify(sorted(obj.spec.cacheSpec[i]!.nodeSelector ?? {}));
      if (a !== b) return { allowed: false, message: 'Mismatch in node selector' };
    }
  }
  return { allowed: true };
}

function sorted(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
function canon(spec: Spec): unknown {
  return spec.cacheSpec.map((e) => ({ images: e.images, ...(e.nodeSelector !== undefined ? { nodeSelector: sorted(e.nodeSelector) } : {}) }));
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
    for (let i = 0; i < 1 + this.int(2); i++) s[this.pick(['tier', 'zone', 'kubernetes.io/arch'])] = this.pick(['a', 'b', 'amd64']);
    return s;
  }
  spec(): Spec {
    const n = this.chance(0.05) ? 0 : 1 + this.int(3);
    return {
      cacheSpec: Array.from({ length: n }, () => {
        const images: string[] = [];
        const count = this.chance(0.06) ? 0 : 1 + this.int(4);
        for (let i = 0; i < count; i++) images.push(images.length > 0 && this.chance(0.1) ? this.pick(images) : this.image());
        const selector = this.selector();
        return selector === undefined ? { images } : { images, nodeSelector: selector };
      }),
    };
  }
  obj(spec: Spec, status?: string, annotations?: Record<string, string>): Obj {
    const o: Obj = { metadata: { name: 'ic' }, spec };
    if (annotations) o.metadata.annotations = annotations;
    if (status) o.status = { status };
    return o;
  }
  editOf(spec: Spec): Spec {
    const copy: Spec = JSON.parse(JSON.stringify(spec));
    switch (this.int(5)) {
      case 0:
        return copy; // unchanged
      case 1:
        copy.cacheSpec.forEach((e) => (e.images = e.images.length > 0 && this.chance(0.5) ? [...e.images, this.image()] : [this.validImage()]));
        return copy;
      case 2:
        copy.cacheSpec.push({ images: [this.validImage()] });
        return copy;
      case 3:
        if (copy.cacheSpec[0]) copy.cacheSpec[0].nodeSelector = this.selector() ?? {};
        return copy;
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
    const tally = { allowed: 0, deniedInvalidImage: 0, deniedOther: 0, updates: 0, processingDenials: 0 };
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
      if (expected.allowed) {
        expect(verdict, context).to.deep.equal({ allowed: true });
        tally.allowed++;
      } else if ('invalidAt' in expected) {
        expect(verdict.allowed, context).to.equal(false);
        const prefix = `${expected.invalidAt}: invalid image reference ${JSON.stringify(expected.image)}: `;
        expect(!verdict.allowed && verdict.message.startsWith(prefix), `${context}\n got ${JSON.stringify(verdict)}\n want prefix ${prefix}`).to.equal(true);
        tally.deniedInvalidImage++;
      } else {
        expect(verdict.allowed, context).to.equal(false);
        if (!verdict.allowed) expect(verdict.message.startsWith(expected.message), `${context}\n got ${verdict.message}`).to.equal(true);
        tally.deniedOther++;
        if (expected.message.startsWith('Previous image cache')) tally.processingDenials++;
      }
      if (update) tally.updates++;
    }
    if (process.env.ADMISSION_GEN_SEED !== undefined) console.log(JSON.stringify(tally));
    // The generator must exercise every kind of verdict, or the agreement above proves little.
    expect(tally.allowed).to.be.greaterThan(300);
    expect(tally.deniedInvalidImage).to.be.greaterThan(300);
    expect(tally.deniedOther).to.be.greaterThan(300);
    expect(tally.processingDenials).to.be.greaterThan(50);
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
