import { expect } from 'chai';
import { dns1123SubdomainError, labelKeyError, labelValueError } from '../../../src/webhook/kubernetes-names.js';

describe('webhook/kubernetes-names (apimachinery IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain)', () => {
  it('accepts label keys with and without a prefix', () => {
    for (const key of ['a', 'Z', '9', 'tier', 'A.b_c-D', 'x'.repeat(63), 'kubernetes.io/hostname', 'a.b-c.d/E_f', `${'a'.repeat(253)}/x`, '1.2.3/x']) {
      expect(labelKeyError(key), key).to.equal(undefined);
    }
  });
  it('rejects bad label keys with the reason', () => {
    const cases: [string, RegExp][] = [
      ['', /name part is empty/],
      ['a b', /name part must consist/],
      ['_a', /name part must consist/],
      ['a.', /name part must consist/],
      ['x'.repeat(64), /64 characters, at most 63/],
      ['/a', /prefix before '\/' is empty/],
      ['a/', /name part is empty/],
      ['a/b/c', /more than one '\/'/],
      ['A.io/x', /prefix "A\.io" is not a DNS subdomain: a lowercase RFC 1123 subdomain/],
      ['a_b.io/x', /not a DNS subdomain/],
      ['-a.io/x', /not a DNS subdomain/],
      ['a..io/x', /not a DNS subdomain/],
      [`${'a'.repeat(254)}/x`, /254 characters, at most 253/],
      ['ü', /name part must consist/],
    ];
    for (const [key, reason] of cases) expect(labelKeyError(key), key).to.match(reason);
  });
  it('accepts label values, the empty one included', () => {
    for (const value of ['', 'a', 'A-b_c.d', 'x'.repeat(63), '1']) expect(labelValueError(value), value).to.equal(undefined);
  });
  it('rejects bad label values', () => {
    for (const value of ['-a', 'a-', '.a', 'a b', 'a/b', 'x'.repeat(64), 'a:b']) expect(labelValueError(value), value).to.be.a('string');
    expect(labelValueError('x'.repeat(64))).to.match(/64 characters, at most 63/);
  });
  it('checks DNS-1123 subdomains (Secret names)', () => {
    for (const name of ['a', 'regcred', 'my-registry.example', '0-9', 'a'.repeat(253)]) expect(dns1123SubdomainError(name), name).to.equal(undefined);
    for (const name of ['', 'A', 'a_b', '-a', 'a-', 'a..b', '.a', 'a.', 'a b', 'a'.repeat(254)]) expect(dns1123SubdomainError(name), name).to.be.a('string');
    expect(dns1123SubdomainError('')).to.equal('it is empty');
  });
});
