import { expect } from 'chai';
import {
  formatImageReference,
  hasExplicitTagOrDigest,
  imageMatchesNodeImage,
  isLatestOrUntagged,
  normalizeImageReference,
  parseImageReference,
  type ImageReference,
} from '../../../src/images/image-reference.js';

const H64 = 'a'.repeat(62) + '0f';
const D = `sha256:${H64}`;
const D2 = `sha256:${'b'.repeat(64)}`;

describe('images/image-reference', () => {
  describe('parseImageReference: valid references and their normalised parts', () => {
    const cases: [string, ImageReference][] = [
      ['nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }],
      ['nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
      ['library/nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
      ['docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }],
      ['index.docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }],
      ['docker.io/bitnami/redis:7', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7' }],
      ['bitnami/redis', { registry: 'docker.io', repository: 'bitnami/redis', tag: 'latest' }],
      [`nginx@${D}`, { registry: 'docker.io', repository: 'library/nginx', digest: D }],
      [`nginx:1.27@${D}`, { registry: 'docker.io', repository: 'library/nginx', tag: '1.27', digest: D }],
      ['ghcr.io/jitesoft/nginx:1.23.1', { registry: 'ghcr.io', repository: 'jitesoft/nginx', tag: '1.23.1' }],
      ['us.gcr.io/k8s-artifacts-prod/etcd:3.5.4-0', { registry: 'us.gcr.io', repository: 'k8s-artifacts-prod/etcd', tag: '3.5.4-0' }],
      ['registry:5000/app', { registry: 'registry:5000', repository: 'app', tag: 'latest' }],
      ['registry:5000/app:v1', { registry: 'registry:5000', repository: 'app', tag: 'v1' }],
      ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest' }],
      ['localhost:5000/a/b/c:x', { registry: 'localhost:5000', repository: 'a/b/c', tag: 'x' }],
      ['Registry.Example.COM/team/app:1', { registry: 'registry.example.com', repository: 'team/app', tag: '1' }],
      ['Foo/bar', { registry: 'foo', repository: 'bar', tag: 'latest' }],
      ['127.0.0.1:5000/app:1', { registry: '127.0.0.1:5000', repository: 'app', tag: '1' }],
      ['[::1]:5000/app:1', { registry: '[::1]:5000', repository: 'app', tag: '1' }],
      ['[fe80::1]/app', { registry: '[fe80::1]', repository: 'app', tag: 'latest' }],
      ['a__b/c-----d/e.f_g:TAG_1.x-y', { registry: 'docker.io', repository: 'a__b/c-----d/e.f_g', tag: 'TAG_1.x-y' }],
      ['app:_x', { registry: 'docker.io', repository: 'library/app', tag: '_x' }],
      ['app:' + 'a'.repeat(128), { registry: 'docker.io', repository: 'library/app', tag: 'a'.repeat(128) }],
      ['localhost:5000', { registry: 'docker.io', repository: 'library/localhost', tag: '5000' }],
      [`r.io/app@sha512:${'c'.repeat(128)}`, { registry: 'r.io', repository: 'app', digest: `sha512:${'c'.repeat(128)}` }],
      [`r.io/app@sha384:${'d'.repeat(96)}`, { registry: 'r.io', repository: 'app', digest: `sha384:${'d'.repeat(96)}` }],
    ];
    for (const [input, ref] of cases) {
      it(JSON.stringify(input), () => {
        const result = parseImageReference(input);
        expect(result).to.deep.equal({ ok: true, ref });
      });
    }
  });

  describe('parseImageReference: invalid references say what is wrong', () => {
    const longName = 'r.io/' + 'a'.repeat(251);
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['Foo Bar', /whitespace/],
      [' nginx', /whitespace/],
      ['nginx\n', /whitespace/],
      ['nginx\tlatest', /whitespace/],
      ['nginx;rm -rf /', /whitespace/],
      ['nginx;rm', /shell metacharacter ";"/],
      ['nginx$(id)', /shell metacharacter "\$"/],
      ['nginx`id`', /shell metacharacter "`"/],
      ['nginx|cat', /shell metacharacter "\|"/],
      ['nginx&&x', /shell metacharacter "&"/],
      ['a>b', /shell metacharacter ">"/],
      ["nginx'", /shell metacharacter "'"/],
      ['nginx"', /shell metacharacter/],
      ['nginx\\x', /shell metacharacter/],
      ['nginx*', /shell metacharacter "\*"/],
      ['nginx\u0000', /control character U\+0000/],
      ['ngïnx', /character "ï"/],
      ['nginx\u200b', /character/],
      ['Nginx', /upper-case.*use "nginx"/],
      ['docker.io/Library/nginx', /upper-case/],
      ['ghcr.io/team/App:1', /upper-case/],
      ['nginx:', /tag after ":" is empty/],
      ['nginx:-x', /tag "-x" is invalid/],
      ['nginx:.x', /tag ".x" is invalid/],
      ['app:' + 'a'.repeat(129), /at most 128/],
      ['nginx@sha256:xyz', /not hexadecimal/],
      ['nginx@sha256:abc', /3 hex digits but needs 64/],
      [`nginx@sha256:${H64.toUpperCase()}`, /upper-case hex/],
      [`nginx@md5:${'a'.repeat(32)}`, /algorithm "md5" is not supported/],
      ['nginx@', /no algorithm/],
      [`nginx@${D}@${D}`, /more than one "@"/],
      [`@${D}`, /repository name before "@" is missing/],
      [':1.0', /repository name before ":" is missing/],
      ['/nginx', /empty path component/],
      ['nginx/', /empty path component/],
      ['a//b', /empty path component/],
      ['r.io//b', /empty path component/],
      ['-nginx', /path component "-nginx" is invalid/],
      ['nginx-', /invalid/],
      ['a..b', /invalid/],
      ['a___b', /invalid/],
      ['r.io:0/app', /port "0"/],
      ['r.io:99999/app', /port "99999"/],
      ['r.io:/app', /port ""/],
      ['-r.io/app', /registry host "-r.io" is invalid/],
      ['r..io/app', /registry host/],
      ['[::1/app', /unclosed "\["/],
      ['[zz::1]/app', /not a valid IPv6/],
      ['[::ffff:1.2.3.4]/app', /not a valid IPv6/],
      ['[::1]x/app', /text after "\]"/],
      ['[::1]:5000', /registry but no repository/],
      ['a:b:c', /registry but no repository/],
      ['r.io/a:b/c', /contains ":"/],
      [H64, /64-hex-digit image ID/],
      [longName, /at most 255/],
      ['x'.repeat(5000), /characters long/],
      ['--privileged', /invalid/],
    ];
    for (const [input, pattern] of cases) {
      it(JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}...` : input), () => {
        const result = parseImageReference(input);
        expect(result.ok, JSON.stringify(result)).to.equal(false);
        if (!result.ok) expect(result.error).to.match(pattern);
      });
    }

    it('rejects non-strings without throwing', () => {
      for (const v of [undefined, null, 42, {}, []]) {
        const result = parseImageReference(v as unknown as string);
        expect(result.ok).to.equal(false);
      }
    });

    it('accepts a name of exactly 255 characters and rejects 256', () => {
      expect(parseImageReference('r.io/' + 'a'.repeat(250)).ok).to.equal(true);
      expect(parseImageReference('r.io/' + 'a'.repeat(251)).ok).to.equal(false);
    });

    it('every error message suggests a fix', () => {
      for (const input of ['Foo Bar', 'nginx@sha256:xyz', 'Nginx', 'a//b', 'nginx:', 'x;y']) {
        const result = parseImageReference(input);
        expect(result.ok).to.equal(false);
        if (!result.ok) expect(result.error).to.match(/use|write|give|remove|copy|drop/);
      }
    });
  });

  describe('normalizeImageReference', () => {
    const cases: [string, string | undefined][] = [
      ['nginx', 'docker.io/library/nginx:latest'],
      ['nginx:1.27', 'docker.io/library/nginx:1.27'],
      [`nginx@${D}`, `docker.io/library/nginx@${D}`],
      [`nginx:1.27@${D}`, `docker.io/library/nginx:1.27@${D}`],
      ['registry:5000/app', 'registry:5000/app:latest'],
      ['REG.io/app:V1', 'reg.io/app:V1'],
      ['docker.io/library/nginx:latest', 'docker.io/library/nginx:latest'],
      ['Foo Bar', undefined],
      ['nginx@sha256:xyz', undefined],
    ];
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} -> ${String(expected)}`, () => {
        expect(normalizeImageReference(input)).to.equal(expected);
      });
    }

    it('is idempotent and agrees with formatImageReference', () => {
      for (const input of ['nginx', 'a/b:c', `x.io:1/y@${D}`, `nginx:1@${D}`]) {
        const once = normalizeImageReference(input)!;
        expect(normalizeImageReference(once)).to.equal(once);
        const parsed = parseImageReference(input);
        expect(parsed.ok && formatImageReference(parsed.ref)).to.equal(once);
      }
    });
  });

  describe('imageMatchesNodeImage', () => {
    const cases: [string, string[], boolean][] = [
      ['nginx:1.27', ['docker.io/library/nginx:1.27'], true],
      ['nginx:1.27', ['nginx:1.27'], true],
      ['docker.io/library/nginx:1.27', ['nginx:1.27'], true],
      ['nginx', ['docker.io/library/nginx:latest'], true],
      ['nginx:latest', ['docker.io/library/nginx'], true],
      ['app:1.2', ['docker.io/library/app:1.21'], false],
      ['app:1.21', ['docker.io/library/app:1.2'], false],
      ['app:1.2', ['docker.io/library/app2:1.2'], false],
      ['app:1.2', ['docker.io/other/app:1.2'], false],
      ['app:1.2', ['quay.io/library/app:1.2'], false],
      ['registry:5000/app', ['registry:5000/app:latest'], true],
      ['registry:5000/app', ['registry:5000/app:5000'], false],
      ['registry:5000/app:v1', ['registry:5000/app:v1'], true],
      ['registry:5000/app:v1', ['registry:5001/app:v1'], false],
      [`nginx@${D}`, [`docker.io/library/nginx@${D}`], true],
      [`nginx@${D}`, [`docker.io/library/nginx@${D2}`], false],
      [`nginx@${D}`, ['docker.io/library/nginx:latest'], false],
      [`nginx:1.27@${D}`, [`docker.io/library/nginx@${D}`, 'docker.io/library/nginx:1.26'], true],
      [`nginx:1.27@${D}`, ['docker.io/library/nginx:1.27'], false],
      [`nginx@${D}`, [`docker.io/library/nginx:1.27@${D}`], true],
      ['nginx:1.27', [`docker.io/library/nginx@${D}`], false],
      ['nginx:1.27', [`docker.io/library/nginx@${D}`, 'docker.io/library/nginx:1.27'], true],
      ['nginx:1.27', [], false],
      ['nginx:1.27', ['garbage name', 'sha256:' + H64, 'docker.io/library/nginx:1.27'], true],
      ['Foo Bar', ['Foo Bar'], false],
      ['REG.io/app:1', ['reg.io/app:1'], true],
      ['index.docker.io/library/busybox:1', ['docker.io/library/busybox:1'], true],
    ];
    for (const [wanted, names, expected] of cases) {
      it(`${wanted} vs ${JSON.stringify(names)} -> ${expected}`, () => {
        expect(imageMatchesNodeImage(wanted, names)).to.equal(expected);
        // a frozen list (a node's, as nodeImageNames gives it) is indexed once and answers the same
        const frozen = Object.freeze([...names]);
        expect(imageMatchesNodeImage(wanted, frozen)).to.equal(expected);
        expect(imageMatchesNodeImage(wanted, frozen)).to.equal(expected);
      });
    }

    it('ignores non-string entries', () => {
      expect(imageMatchesNodeImage('nginx:1', [null as unknown as string, 'nginx:1'])).to.equal(true);
    });
  });

  describe('pull-policy helpers', () => {
    const cases: [string, boolean, boolean][] = [
      // input, hasExplicitTagOrDigest, isLatestOrUntagged
      ['nginx', false, true],
      ['nginx:latest', true, true],
      ['nginx:1.27', true, false],
      [`nginx@${D}`, true, false],
      [`nginx:latest@${D}`, true, true],
      [`nginx:1.27@${D}`, true, false],
      ['registry:5000/app', false, true],
      ['registry:5000/app:v2', true, false],
      ['nginx:Latest', true, false],
      ['Foo Bar', false, true],
    ];
    for (const [input, explicit, latest] of cases) {
      it(`${input}: explicit=${explicit} latestOrUntagged=${latest}`, () => {
        expect(hasExplicitTagOrDigest(input)).to.equal(explicit);
        expect(isLatestOrUntagged(input)).to.equal(latest);
      });
    }
  });

  describe('repeated inputs (the planner asks about the same strings on every pass)', () => {
    it('give the same frozen parts, and the same answers, as the first time', () => {
      const a = parseImageReference('nginx:1.27');
      const b = parseImageReference('nginx:1.27');
      if (!a.ok || !b.ok) expect.fail('valid');
      expect(b.ref).to.equal(a.ref);
      expect(Object.isFrozen(a.ref)).to.equal(true);
      expect(() => { (a.ref as { tag?: string }).tag = 'x'; }).to.throw(TypeError);
      expect(normalizeImageReference('nginx:1.27')).to.equal('docker.io/library/nginx:1.27');
      expect(normalizeImageReference('nginx:1.27')).to.equal('docker.io/library/nginx:1.27');
      const bad1 = parseImageReference('Foo Bar');
      const bad2 = parseImageReference('Foo Bar');
      expect(bad1.ok).to.equal(false);
      expect(bad2).to.deep.equal(bad1);
      expect(normalizeImageReference('Foo Bar')).to.equal(undefined);
      expect(normalizeImageReference('Foo Bar')).to.equal(undefined);
    });

    it('stay right past the cache\'s size (it starts over)', () => {
      for (let i = 0; i < 20_500; i++) expect(normalizeImageReference(`r${i}`)).to.equal(`docker.io/library/r${i}:latest`);
      expect(normalizeImageReference('r7')).to.equal('docker.io/library/r7:latest');
      expect(imageMatchesNodeImage('r7', ['docker.io/library/r7:latest'])).to.equal(true);
    });
  });
});
