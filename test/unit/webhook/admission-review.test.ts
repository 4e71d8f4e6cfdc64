import { expect } from 'chai';
import { decodeAdmissionReview, encodeAdmissionResponse } from '../../../src/webhook/admission-review.js';

const review = (apiVersion: string, request: unknown = { uid: 'u-1', operation: 'CREATE', object: {} }) =>
  JSON.stringify({ apiVersion, kind: 'AdmissionReview', request });

describe('webhook/admission-review', () => {
  for (const version of ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']) {
    it(`decodes ${version}`, () => {
      const result = decodeAdmissionReview(review(version));
      expect(result.ok).to.equal(true);
      if (result.ok) {
        expect(result.review.apiVersion).to.equal(version);
        expect(result.review.request.uid).to.equal('u-1');
        expect(result.review.request.operation).to.equal('CREATE');
      }
    });
  }

  const bad: [string, string, RegExp][] = [
    ['not JSON', '{', /not JSON/],
    ['a JSON array', '[]', /not a JSON object/],
    ['JSON null', 'null', /not a JSON object/],
    ['another kind', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'Pod' }), /unsupported kind/],
    ['another version', review('admission.k8s.io/v2'), /unsupported kind .*expected AdmissionReview in admission.k8s.io\/v1 or admission.k8s.io\/v1beta1/],
    ['no request', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), /no request/],
    ['no uid', review('admission.k8s.io/v1', { operation: 'CREATE' }), /no uid/],
    ['empty uid', review('admission.k8s.io/v1', { uid: '', operation: 'CREATE' }), /no uid/],
    ['no operation', review('admission.k8s.io/v1', { uid: 'x' }), /no operation/],
  ];
  for (const [what, body, pattern] of bad) {
    it(`answers 400 for ${what}`, () => {
      const result = decodeAdmissionReview(body);
      expect(result.ok).to.equal(false);
      if (!result.ok) {
        expect(result.error.httpStatus).to.equal(400);
        expect(result.error.message).to.match(pattern);
      }
    });
  }

  it('encodes an allow in the request version with the uid', () => {
    expect(encodeAdmissionResponse('admission.k8s.io/v1beta1', 'abc', { allowed: true })).to.deep.equal({
      apiVersion: 'admission.k8s.io/v1beta1',
      kind: 'AdmissionReview',
      response: { uid: 'abc', allowed: true },
    });
  });

  it('encodes a denial with status.message and no code (the API server then reports 403 and the message, as for the original)', () => {
    expect(encodeAdmissionResponse('admission.k8s.io/v1', 'abc', { allowed: false, message: 'No images specified within image list' })).to.deep.equal({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'abc', allowed: false, status: { message: 'No images specified within image list' } },
    });
  });
});
