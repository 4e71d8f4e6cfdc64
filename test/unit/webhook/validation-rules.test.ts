import { expect } from 'chai';
import { Annotation, WebhookMessage } from '../../../src/api/constants.js';
import { validateImageCacheAdmission, type AdmissionVerdict } from '../../../src/webhook/validation-rules.js';

type Entry = { images?: unknown; nodeSelector?: unknown };

function cache(cacheSpec: Entry[], extra: { status?: string; annotations?: Record<string, string> } = {}): unknown {
  return {
    apiVersion: 'kubefledged.io/v1alpha2',
    kind: 'ImageCache',
    metadata: { name: 'c', namespace: 'ns', ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { cacheSpec },
    ...(extra.status ? { status: { status: extra.status, reason: 'ImageCacheCreate', message: 'm', startTime: '2024-01-01T00:00:00Z' } } : {}),
  };
}

const create = (object: unknown): AdmissionVerdict => validateImageCacheAdmission({ operation: 'CREATE', object });
const update = (oldObject: unknown, object: unknown): AdmissionVerdict => validateImageCacheAdmission({ operation: 'UPDATE', object, oldObject });
const denied = (message: string | RegExp) => (v: AdmissionVerdict) => {
  expect(v.allowed, JSON.stringify(v)).to.equal(false);
  if (!v.allowed) {
    if (typeof message === 'string') expect(v.message).to.equal(message);
    else expect(v.message).to.match(message);
  }
};
const allowed = (v: AdmissionVerdict) => expect(v, JSON.stringify(v)).to.deep.equal({ allowed: true });

describe('webhook/validation-rules', () => {
  describe('CREATE', () => {
    it('allows the sample of the original (deploy/kubefledged-imagecache.yaml)', () => {
      allowed(
        create(
          cache([
            { images: ['ghcr.io/jitesoft/nginx:1.23.1'] },
            { images: ['us.gcr.io/k8s-artifacts-prod/cassandra:v7', 'us.gcr.io/k8s-artifacts-prod/etcd:3.5.4-0'], nodeSelector: { tier: 'backend' } },
          ]),
        ),
      );
    });
    it('denies an empty image list with the original message', () => denied(WebhookMessage.NoImages)(create(cache([{ images: [] }]))));
    it('denies a missing image list with the original message', () => denied(WebhookMessage.NoImages)(create(cache([{}]))));
    it('denies an empty list in a later entry', () => denied(WebhookMessage.NoImages)(create(cache([{ images: ['a'] }, { images: [] }]))));
    it('denies a duplicate image with the original message and the image', () =>
      denied('Duplicate image names within image list: nginx:1.27')(create(cache([{ images: ['nginx:1.27', 'redis:7', 'nginx:1.27'] }]))));
    it('reports the first repeated image', () =>
      denied('Duplicate image names within image list: b')(create(cache([{ images: ['a', 'b', 'c', 'b', 'a'] }]))));
    it('allows the same image in different lists', () => allowed(create(cache([{ images: ['a'] }, { images: ['a'], nodeSelector: { x: 'y' } }]))));
    it('compares duplicates as written (nginx and nginx:latest are both accepted, as in the original)', () =>
      allowed(create(cache([{ images: ['nginx', 'nginx:latest', 'docker.io/library/nginx:latest'] }]))));
    it('denies an empty cacheSpec with a clear message', () => denied(/^spec\.cacheSpec: no image lists specified; add at least one entry/)(create(cache([]))));
    it('denies an invalid image naming the field path and the image', () =>
      denied(/^spec\.cacheSpec\[1\]\.images\[0\]: invalid image reference "Foo Bar": it contains whitespace/)(
        create(cache([{ images: ['a'] }, { images: ['Foo Bar'] }])),
      ));
    const hostile: [string, RegExp][] = [
      ['nginx;rm -rf /', /whitespace/],
      ['$(curl)', /shell metacharacter "\$"/],
      ['nginx`id`', /shell metacharacter "`"/],
      ['nginx|sh', /shell metacharacter "\|"/],
      ['a&b', /shell metacharacter "&"/],
      ['Nginx:1', /upper-case/],
      ['nginx@sha256:xyz', /not hexadecimal/],
      ['nginx\u0000', /control character/],
      ['', /empty/],
      ['--help', /invalid/],
    ];
    for (const [image, reason] of hostile) {
      it(`denies hostile image ${JSON.stringify(image)}`, () => {
        const v = create(cache([{ images: ['ok:1', image] }]));
        denied(new RegExp(`^spec\\.cacheSpec\\[0\\]\\.images\\[1\\]: invalid image reference ${escape(JSON.stringify(image))}: .*${reason.source}`))(v);
      });
    }
    it('checks validity before duplicates (an invalid repeated image gets the validity message)', () =>
      denied(/invalid image reference "Foo Bar"/)(create(cache([{ images: ['Foo Bar', 'Foo Bar'] }]))));
    it('denies non-string images naming the field', () =>
      denied(/^spec\.cacheSpec\[0\]\.images\[1\]: must be a string, not a number \(42\); fix: give an image reference/)(create(cache([{ images: ['a', 42] }]))));
    it('denies malformed objects without throwing, naming the field and the fix (CRD schema)', () => {
      denied(/^request\.object: missing or not an object; fix: /)(create(undefined));
      denied(/^spec: missing; fix: an ImageCache needs spec\.cacheSpec/)(create({ metadata: {} }));
      denied(/^spec\.cacheSpec: must be a list, not a string \("x"\); fix: give a list of/)(create({ spec: { cacheSpec: 'x' } }));
      denied(/^spec\.cacheSpec: missing; fix: /)(create({ spec: {} }));
      denied(/^spec\.cacheSpec\[0\]: must be an object, not null; fix: /)(create({ spec: { cacheSpec: [null] } }));
      denied(/^spec\.cacheSpec\[0\]\.images: must be a list, not a string \("nginx"\); fix: /)(create({ spec: { cacheSpec: [{ images: 'nginx' }] } }));
      denied(/^spec\.cacheSpec\[0\]\.nodeSelector: must be a map, not a list; fix: give label: value pairs/)(create({ spec: { cacheSpec: [{ images: ['a'], nodeSelector: ['x'] }] } }));
      denied(/^spec\.cacheSpec\[0\]\.nodeSelector\["k"\]: must be a string, not a number \(1\); fix: give a string value/)(
        create({ spec: { cacheSpec: [{ images: ['a'], nodeSelector: { k: 1 } }] } }),
      );
      denied(/^apiVersion: must be a string, not a number \(1\); fix: see kubectl explain imagecache\.apiVersion/)(create({ apiVersion: 1, spec: { cacheSpec: [{ images: ['a'] }] } }));
    });
    it('reports a structural error before the original rules, as the original failed to unmarshal first', () =>
      denied(/^spec\.cacheSpec\[1\]\.images: must be a list, not a number/)(create({ spec: { cacheSpec: [{ images: [] }, { images: 5 }] } })));
    it('treats a null field as absent (the API server prunes nulls): null images is the original message, null selector is all nodes', () => {
      denied(WebhookMessage.NoImages)(create({ spec: { cacheSpec: [{ images: null }] } }));
      allowed(create({ spec: { cacheSpec: [{ images: ['a'], nodeSelector: null }], imagePullSecrets: null } }));
      denied(/^spec: missing/)(create({ spec: null }));
    });
    it('allows DELETE and CONNECT untouched', () => {
      allowed(validateImageCacheAdmission({ operation: 'DELETE', object: null }));
      allowed(validateImageCacheAdmission({ operation: 'CONNECT', object: null }));
    });
  });

  describe('UPDATE', () => {
    const base = cache([{ images: ['a:1'] }, { images: ['b:1'], nodeSelector: { tier: 'backend' } }]);
    it('allows adding and removing images', () =>
      allowed(update(base, cache([{ images: ['a:1', 'c:1'] }, { images: ['x:2'], nodeSelector: { tier: 'backend' } }]))));
    it('denies a change in the number of lists', () =>
      denied(WebhookMessage.MismatchImageLists)(update(base, cache([{ images: ['a:1'] }]))));
    it('denies a changed node selector', () =>
      denied(WebhookMessage.MismatchNodeSelector)(update(base, cache([{ images: ['a:1'] }, { images: ['b:1'], nodeSelector: { tier: 'front' } }]))));
    it('denies an added node selector', () =>
      denied(WebhookMessage.MismatchNodeSelector)(update(base, cache([{ images: ['a:1'], nodeSelector: { x: 'y' } }, { images: ['b:1'], nodeSelector: { tier: 'backend' } }]))));
    it('treats an absent node selector and {} as the same', () =>
      allowed(update(base, cache([{ images: ['a:2'], nodeSelector: {} }, { images: ['b:1'], nodeSelector: { tier: 'backend' } }]))));
    it('runs the per-list rules before the update rules (as the original)', () =>
      denied(WebhookMessage.NoImages)(update(base, cache([{ images: [] }]))));
    it('allows metadata-only updates of a spec that would fail today (finalizers, labels, deletion never blocked)', () => {
      const legacy = cache([{ images: ['Foo Bar'] }]);
      const relabelled = { ...(legacy as object), metadata: { name: 'c', namespace: 'ns', labels: { x: 'y' }, finalizers: [] } };
      allowed(update(legacy, relabelled));
    });
    it('validates images on an update that changes the spec', () =>
      denied(/spec\.cacheSpec\[0\]\.images\[1\]: invalid image reference "Bad Image"/)(update(base, cache([{ images: ['a:1', 'Bad Image'] }, { images: ['b:1'], nodeSelector: { tier: 'backend' } }]))));
    it('denies a malformed old object', () => denied(/^request\.oldObject: missing/)(update(undefined, base)));

    describe('while the old object is Processing: nothing is refused for timing (the develop rule of spec §4.6 is gone)', () => {
      const processing = cache([{ images: ['a:1'] }], { status: 'Processing' });
      it('admits a spec change', () => allowed(update(processing, cache([{ images: ['a:1', 'b:1'] }], { status: 'Processing' }))));
      it('admits adding the refresh annotation', () =>
        allowed(update(processing, cache([{ images: ['a:1'] }], { status: 'Processing', annotations: { [Annotation.Refresh]: '' } }))));
      it('admits adding the purge annotation', () =>
        allowed(update(processing, cache([{ images: ['a:1'] }], { status: 'Processing', annotations: { [Annotation.Purge]: '' } }))));
      it('admits refresh and purge added together with a spec change', () =>
        allowed(update(processing, cache([{ images: ['b:1'] }], { status: 'Processing', annotations: { [Annotation.Refresh]: '', [Annotation.Purge]: '' } }))));
      it('never answers with the old Processing message; an invalid edit gets the rule that it breaks', () => {
        for (const v of [update(processing, cache([])), update(processing, cache([{ images: ['a:1'] }, { images: ['b:1'] }]))]) {
          expect(v.allowed).to.equal(false);
          if (!v.allowed) expect(v.message).to.not.include(WebhookMessage.UnderProcessing);
        }
        denied(WebhookMessage.MismatchImageLists)(update(processing, cache([{ images: ['a:1'] }, { images: ['b:1'] }])));
      });
      it('admits the controller removing an annotation', () => {
        const annotated = cache([{ images: ['a:1'] }], { status: 'Processing', annotations: { [Annotation.Refresh]: '' } });
        allowed(update(annotated, processing));
      });
    });
  });

  describe('nodeSelector label syntax', () => {
    const withSelector = (nodeSelector: Record<string, string>) => cache([{ images: ['a:1'], nodeSelector }]);
    for (const key of ['tier', 'kubernetes.io/arch', 'node-role.kubernetes.io/worker', 'A_b.c-9', 'a', 'x'.repeat(63), `${'p'.repeat(253)}/n`]) {
      it(`admits the label key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 20)}...` : key)}`, () => allowed(create(withSelector({ [key]: 'v' }))));
    }
    const badKeys: [string, RegExp][] = [
      ['bad key', /the name part must consist of alphanumeric characters/],
      ['', /the name part is empty/],
      ['-x', /the name part must consist of/],
      ['x.', /the name part must consist of/],
      ['x'.repeat(64), /the name part has 64 characters, at most 63/],
      ['/name', /the prefix before '\/' is empty/],
      ['Example.com/x', /the prefix "Example\.com" is not a DNS subdomain/],
      ['a/b/c', /more than one '\/'/],
      ['example.com/', /the name part is empty/],
      [`${'p'.repeat(254)}/n`, /at most 253/],
    ];
    for (const [key, reason] of badKeys) {
      it(`denies the label key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 20)}...` : key)} naming the field and the fix`, () => {
        const v = create(cache([{ images: ['a:1'] }, { images: ['b:1'], nodeSelector: { ok: 'v', [key]: 'v' } }]));
        denied(new RegExp(`^spec\\.cacheSpec\\[1\\]\\.nodeSelector: invalid label key ${escape(JSON.stringify(key))}: .*${reason.source}.*; fix: use \\[prefix/\\]name`))(v);
      });
    }
    it('gives the message of the brief for "bad key"', () =>
      denied(/^spec\.cacheSpec\[0\]\.nodeSelector: invalid label key "bad key": .*; fix: /)(create(withSelector({ 'bad key': 'x' }))));
    for (const value of ['', 'v', 'amd64', 'A-b_c.9', 'x'.repeat(63)]) {
      it(`admits the label value ${JSON.stringify(value.length > 20 ? 'x*63' : value)}`, () => allowed(create(withSelector({ tier: value }))));
    }
    const badValues: [string, RegExp][] = [
      ['bad value', /a label value must consist of/],
      ['-v', /a label value must consist of/],
      ['v_', /a label value must consist of/],
      ['x'.repeat(64), /it has 64 characters, at most 63/],
      ['a/b', /a label value must consist of/],
    ];
    for (const [value, reason] of badValues) {
      it(`denies the label value ${JSON.stringify(value.length > 20 ? 'x*64' : value)} naming the key`, () =>
        denied(new RegExp(`^spec\\.cacheSpec\\[0\\]\\.nodeSelector\\["tier"\\]: invalid label value ${escape(JSON.stringify(value))}: .*${reason.source}.*; fix: `))(
          create(withSelector({ tier: value })),
        ));
    }
    it('checks images before the selector of the same list', () =>
      denied(/invalid image reference "Bad"/)(create(cache([{ images: ['Bad'], nodeSelector: { 'bad key': 'v' } }]))));
    it('on UPDATE, does not re-check a selector equal to the stored one (it cannot change; old objects stay editable)', () => {
      const legacy = cache([{ images: ['a:1'], nodeSelector: { 'bad key': 'v' } }]);
      allowed(update(legacy, cache([{ images: ['a:1', 'b:1'], nodeSelector: { 'bad key': 'v' } }])));
    });
    it('on UPDATE, checks a changed selector before the mismatch rule', () =>
      denied(/^spec\.cacheSpec\[0\]\.nodeSelector: invalid label key "bad key"/)(update(cache([{ images: ['a:1'] }]), cache([{ images: ['a:1'], nodeSelector: { 'bad key': 'v' } }]))));
    it('on UPDATE, a valid changed selector is still the original mismatch', () =>
      denied(WebhookMessage.MismatchNodeSelector)(update(cache([{ images: ['a:1'] }]), cache([{ images: ['a:1'], nodeSelector: { good: 'v' } }]))));
  });

  describe('spec.imagePullSecrets', () => {
    const withSecrets = (imagePullSecrets: unknown): unknown => ({ ...(cache([{ images: ['a:1'] }]) as object), spec: { cacheSpec: [{ images: ['a:1'] }], imagePullSecrets } });
    it('admits Secret names', () => allowed(create(withSecrets([{ name: 'regcred' }, { name: 'my.registry-1' }]))));
    it('admits an empty list', () => allowed(create(withSecrets([]))));
    it('denies a value that is not a list, naming the field and the fix', () =>
      denied(/^spec\.imagePullSecrets: must be a list, not an object; fix: give a list of Secret references, e\.g\. imagePullSecrets: \[\{name: regcred\}\]/)(
        create(withSecrets({ name: 'regcred' })),
      ));
    it('denies a string instead of the list', () => denied(/^spec\.imagePullSecrets: must be a list, not a string \("regcred"\)/)(create(withSecrets('regcred'))));
    it('denies an entry that is not an object', () => denied(/^spec\.imagePullSecrets\[1\]: must be an object, not a string/)(create(withSecrets([{ name: 'a' }, 'b']))));
    for (const entry of [{}, { name: '' }, { name: null }, { other: 'x' }]) {
      it(`denies the entry ${JSON.stringify(entry)} (no name)`, () =>
        denied(/^spec\.imagePullSecrets\[1\]\.name: missing; fix: name a Secret in the ImageCache's namespace/)(create(withSecrets([{ name: 'ok' }, entry]))));
    }
    it('denies a name that is not a string', () => denied(/^spec\.imagePullSecrets\[0\]\.name: must be a string, not a number/)(create(withSecrets([{ name: 7 }]))));
    for (const name of ['Bad_Name', 'UPPER', '-x', 'x-', 'a..b', 'a b', 'x'.repeat(254)]) {
      it(`denies the Secret name ${JSON.stringify(name.length > 20 ? 'x*254' : name)} naming the field and the fix`, () =>
        denied(new RegExp(`^spec\\.imagePullSecrets\\[0\\]\\.name: invalid Secret name ${escape(JSON.stringify(name))}: .*; fix: use the Secret's name`))(
          create(withSecrets([{ name }])),
        ));
    }
    it('checks the lists before the Secrets', () =>
      denied(WebhookMessage.NoImages)(create({ spec: { cacheSpec: [{ images: [] }], imagePullSecrets: [{ name: 'Bad' }] } })));
    it('on UPDATE with an unchanged spec, admits an object stored with a bad name (annotations, deletion)', () => {
      const legacy = withSecrets([{ name: 'Bad_Name' }]);
      const annotated = { ...(legacy as object), metadata: { name: 'c', namespace: 'ns', annotations: { [Annotation.Purge]: '' } } };
      allowed(update(legacy, annotated));
    });
    it('on UPDATE that changes the spec, asks for the name to be fixed in the same edit', () =>
      denied(/^spec\.imagePullSecrets\[0\]\.name: invalid Secret name "Bad_Name"/)(
        update(withSecrets([{ name: 'Bad_Name' }]), { spec: { cacheSpec: [{ images: ['a:1', 'b:1'] }], imagePullSecrets: [{ name: 'Bad_Name' }] } }),
      ));
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
