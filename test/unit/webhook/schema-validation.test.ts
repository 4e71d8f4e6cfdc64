// The webhook's structural check is the CRD's own openAPIV3Schema: the embedded copy must equal the
// CRD (crds/) minus status, and every ajv error must come back as "<field path>: <problem>; fix: <how>".
import { expect } from 'chai';
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { CRD_FILE, SCHEMA_MODULE, renderSchemaModule } from '../../../hack/gen-webhook-schema.js';
import { IMAGECACHE_WRITABLE_SCHEMA } from '../../../src/webhook/imagecache-schema.js';
import { schemaViolations } from '../../../src/webhook/schema-validation.js';

const messages = (object: unknown): string[] => schemaViolations(object).map((v) => v.message);
const valid = { apiVersion: 'kubefledged.io/v1alpha2', kind: 'ImageCache', metadata: { name: 'c' }, spec: { cacheSpec: [{ images: ['nginx:1.27'] }] } };

describe('webhook/schema-validation', () => {
  describe('one source of truth: the CRD', () => {
    it('embeds exactly the CRD openAPIV3Schema of v1alpha2 without status (run "make webhook-schema" after changing crds/)', () => {
      const crd = parse(fs.readFileSync(CRD_FILE, 'utf8')) as { spec: { versions: { name: string; schema: { openAPIV3Schema: { properties: Record<string, unknown> } } }[] } };
      const schema = structuredClone(crd.spec.versions.find((v) => v.name === 'v1alpha2')!.schema.openAPIV3Schema);
      expect(schema.properties).to.have.property('status');
      delete schema.properties.status;
      expect(IMAGECACHE_WRITABLE_SCHEMA).to.deep.equal(schema);
    });
    it('keeps the generated module byte for byte what the generator writes', () => {
      expect(fs.readFileSync(SCHEMA_MODULE, 'utf8') === renderSchemaModule(fs.readFileSync(CRD_FILE, 'utf8')), 'run "make webhook-schema"').to.equal(true);
    });
    it('follows a change of the CRD: the generator output carries a new field of the spec', () => {
      const crd = fs.readFileSync(CRD_FILE, 'utf8').replace('              imagePullSecrets:\n', '              tolerations:\n                type: array\n              imagePullSecrets:\n');
      expect(renderSchemaModule(crd)).to.include('"tolerations"');
    });
  });

  it('finds nothing wrong with a valid ImageCache, status or unknown fields included (the API server prunes those)', () => {
    expect(messages(valid)).to.deep.equal([]);
    expect(messages({ ...valid, status: { status: 42 }, spec: { ...valid.spec, extra: { any: 1 } } })).to.deep.equal([]);
  });

  const cases: [string, unknown, string][] = [
    ['a missing spec', { metadata: {} }, 'spec: missing; fix: an ImageCache needs spec.cacheSpec, e.g. spec: {cacheSpec: [{images: ["nginx:1.27"]}]}'],
    ['a spec of the wrong type', { spec: [] }, 'spec: must be an object, not a list; fix: an ImageCache needs spec.cacheSpec'],
    ['a missing cacheSpec', { spec: {} }, 'spec.cacheSpec: missing; fix: give a list of {images: [...], nodeSelector: {...}}'],
    ['a cacheSpec entry of the wrong type', { spec: { cacheSpec: [{ images: ['a'] }, 3] } }, 'spec.cacheSpec[1]: must be an object, not a number (3); fix: give {images: [...], nodeSelector: {...}}'],
    ['a number among the images', { spec: { cacheSpec: [{ images: ['a', true] }] } }, 'spec.cacheSpec[0].images[1]: must be a string, not a boolean (true); fix: give an image reference such as "nginx:1.27"'],
    ['a selector value that is a map', { spec: { cacheSpec: [{ images: ['a'], nodeSelector: { 'kubernetes.io/arch': { x: 1 } } }] } }, 'spec.cacheSpec[0].nodeSelector["kubernetes.io/arch"]: must be a string, not an object; fix: give a string value'],
    ['a selector that is a string', { spec: { cacheSpec: [{ images: ['a'], nodeSelector: 'tier=a' }] } }, 'spec.cacheSpec[0].nodeSelector: must be a map, not a string ("tier=a"); fix: give label: value pairs'],
    ['pull secrets as a map', { spec: { cacheSpec: [{ images: ['a'] }], imagePullSecrets: { name: 'x' } } }, 'spec.imagePullSecrets: must be a list, not an object; fix: give a list of Secret references'],
    ['a pull secret entry that is a string', { spec: { cacheSpec: [{ images: ['a'] }], imagePullSecrets: ['regcred'] } }, 'spec.imagePullSecrets[0]: must be an object, not a string ("regcred"); fix: give {name: '],
    ['a pull secret name that is a number', { spec: { cacheSpec: [{ images: ['a'] }], imagePullSecrets: [{ name: 1 }] } }, 'spec.imagePullSecrets[0].name: must be a string, not a number (1); fix: '],
    ['metadata of the wrong type', { metadata: 'x', spec: { cacheSpec: [] } }, 'metadata: must be an object, not a string ("x"); fix: see kubectl explain imagecache.metadata'],
    ['a long value', { spec: { cacheSpec: [{ images: 'x'.repeat(100) }] } }, `spec.cacheSpec[0].images: must be a list, not a string ("${'x'.repeat(56)}...)`],
  ];
  for (const [what, object, message] of cases) {
    it(`names the field and the fix for ${what}`, () => {
      const got = messages(object);
      expect(got.length, JSON.stringify(got)).to.be.greaterThan(0);
      expect(got[0]!.startsWith(message), `${got[0]}\n want prefix ${message}`).to.equal(true);
    });
  }

  it('reports every violation, in document order for lists', () => {
    const got = schemaViolations({ spec: { cacheSpec: [{ images: 1 }, {}, { images: [2] }] } }).map((v) => [v.path, v.keyword]);
    expect(got).to.deep.equal([
      ['spec.cacheSpec[0].images', 'type'],
      ['spec.cacheSpec[1].images', 'required'],
      ['spec.cacheSpec[2].images[0]', 'type'],
    ]);
  });

  it('treats null fields as absent, as the API server prunes them', () => {
    expect(messages({ spec: { cacheSpec: [{ images: ['a'], nodeSelector: null }], imagePullSecrets: null } })).to.deep.equal([]);
    expect(schemaViolations({ spec: { cacheSpec: [{ images: null }] } }).map((v) => [v.pattern, v.keyword])).to.deep.equal([['spec.cacheSpec[*].images', 'required']]);
    expect(messages({ spec: { cacheSpec: [null] } })[0]).to.match(/^spec\.cacheSpec\[0\]: must be an object, not null/);
  });

  it('escapes map keys that hold "/" and "~" (JSON pointer) back to the label as written', () => {
    const got = schemaViolations({ spec: { cacheSpec: [{ images: ['a'], nodeSelector: { 'a/b~c': 1 } }] } });
    expect(got[0]!.path).to.equal('spec.cacheSpec[0].nodeSelector["a/b~c"]');
    expect(got[0]!.value).to.equal(1);
  });

  it('never throws on hostile input', () => {
    for (const object of [undefined, null, 1, 'x', [], { spec: { cacheSpec: [[]] } }, { ['__proto__']: { spec: 1 } }, JSON.parse('{"__proto__":{"x":1},"spec":{"cacheSpec":[{"images":["a"]}]}}')]) {
      expect(() => schemaViolations(object)).to.not.throw();
    }
    expect(messages(undefined)[0]).to.match(/^request\.object: must be an object, not /);
  });
});
