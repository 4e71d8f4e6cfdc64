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
    it('denies non-string images naming the field', () => denied(/^spec\.cacheSpec\[0\]\.images\[1\]: not a string/)(create(cache([{ images: ['a', 42] }]))));
    it('denies malformed objects without throwing', () => {
      denied(/^request\.object: missing/)(create(undefined));
      denied(/^spec: missing/)(create({ metadata: {} }));
      denied(/^spec\.cacheSpec: missing or not a list/)(create({ spec: { cacheSpec: 'x' } }));
      denied(/^spec\.cacheSpec\[0\]: not an object/)(create({ spec: { cacheSpec: [null] } }));
      denied(/^spec\.cacheSpec\[0\]\.images: not a list/)(create({ spec: { cacheSpec: [{ images: 'nginx' }] } }));
      denied(/nodeSelector: not a map/)(create({ spec: { cacheSpec: [{ images: ['a'], nodeSelector: ['x'] }] } }));
      denied(/nodeSelector\["k"\]: value is not a string/)(create({ spec: { cacheSpec: [{ images: ['a'], nodeSelector: { k: 1 } }] } }));
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

    describe('while the old object is Processing (spec §4.6)', () => {
      const processing = cache([{ images: ['a:1'] }], { status: 'Processing' });
      const msg = WebhookMessage.UnderProcessing;
      it('denies a spec change', () => denied(msg)(update(processing, cache([{ images: ['a:1', 'b:1'] }], { status: 'Processing' }))));
      it('denies adding the refresh annotation', () =>
        denied(msg)(update(processing, cache([{ images: ['a:1'] }], { status: 'Processing', annotations: { [Annotation.Refresh]: '' } }))));
      it('denies adding the purge annotation', () =>
        denied(msg)(update(processing, cache([{ images: ['a:1'] }], { status: 'Processing', annotations: { [Annotation.Purge]: '' } }))));
      it('denies even an otherwise invalid edit with the Processing message first', () => denied(msg)(update(processing, cache([]))));
      it('allows the controller removing an annotation', () => {
        const annotated = cache([{ images: ['a:1'] }], { status: 'Processing', annotations: { [Annotation.Refresh]: '' } });
        allowed(update(annotated, processing));
      });
      it('allows a changed value of an annotation already present', () => {
        const a = cache([{ images: ['a:1'] }], { status: 'Processing', annotations: { [Annotation.Purge]: '' } });
        const b = cache([{ images: ['a:1'] }], { status: 'Processing', annotations: { [Annotation.Purge]: 'now' } });
        allowed(update(a, b));
      });
      it('allows label and unrelated annotation edits', () =>
        allowed(update(processing, cache([{ images: ['a:1'] }], { status: 'Processing', annotations: { note: 'x' } }))));
      for (const status of ['Succeeded', 'Failed', 'Aborted', 'NoImagesPulledOrDeleted', 'Unknown']) {
        it(`allows a new operation when the status is ${status}`, () => {
          const old = cache([{ images: ['a:1'] }], { status });
          allowed(update(old, cache([{ images: ['a:1'] }], { status, annotations: { [Annotation.Refresh]: '' } })));
          allowed(update(old, cache([{ images: ['a:1', 'b:2'] }], { status })));
        });
      }
      it('uses the old status, not the new one', () => {
        const old = cache([{ images: ['a:1'] }], { status: 'Succeeded' });
        allowed(update(old, cache([{ images: ['a:2'] }], { status: 'Processing' })));
      });
    });
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
