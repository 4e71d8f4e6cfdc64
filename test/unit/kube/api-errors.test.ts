import { expect } from 'chai';
import { ApiException } from '@kubernetes/client-node';
import { apiErrorLogFields, apiErrorText, classifyApiError, describeApiError, parseRetryAfter } from '../../../src/kube/api-errors.js';

const status = (code: number, reason: string, message: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

describe('kube/api-errors', () => {
  it('an ApiException is described by the API\'s own code, reason and message (no JSON in JSON)', () => {
    const err = new ApiException(403, 'Unknown API Status Code!', status(403, 'Forbidden', 'jobs.batch is forbidden: User "x" cannot create'), {});
    expect(describeApiError(err)).to.deep.equal({ code: 403, reason: 'Forbidden', message: 'jobs.batch is forbidden: User "x" cannot create' });
    expect(apiErrorText(err)).to.equal('403 Forbidden: jobs.batch is forbidden: User "x" cannot create');
    const fields = apiErrorLogFields(err);
    expect(fields).to.deep.equal({ error: '403 Forbidden: jobs.batch is forbidden: User "x" cannot create', code: 403, reason: 'Forbidden', apiMessage: 'jobs.batch is forbidden: User "x" cannot create' });
    expect(JSON.stringify(fields)).not.to.contain('Unknown API Status Code');
  });

  it('an ApiException without a Status body keeps its message line', () => {
    const err = new ApiException(502, 'Unknown API Status Code!', '', {});
    expect(describeApiError(err)).to.deep.equal({ code: 502, message: 'Unknown API Status Code!' });
  });

  it('a network failure is described by its errno, found on the error or its cause', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    const err = Object.assign(new Error('request to https://127.0.0.1:6443/api failed'), { type: 'system', cause });
    expect(describeApiError(err)).to.include({ errno: 'ECONNREFUSED' });
    expect(apiErrorText(err)).to.match(/^ECONNREFUSED: /);
    expect(apiErrorLogFields(err)).not.to.have.property('stack');
    expect(apiErrorLogFields(new Error('a bug'))).to.have.property('stack');
  });

  describe('classification', () => {
    it('429 is transient and carries its Retry-After', () => {
      expect(classifyApiError(new ApiException(429, 'x', status(429, 'TooManyRequests', 'storage is (re)initializing'), { 'retry-after': '1' })))
        .to.deep.equal({ kind: 'transient', retryAfterMs: 1000 });
      expect(classifyApiError(new ApiException(429, 'x', '', {}))).to.deep.equal({ kind: 'transient', retryAfterMs: undefined });
    });
    it('5xx (but 501) is transient; a watch error with statusCode too', () => {
      for (const code of [500, 502, 503, 504]) expect(classifyApiError(new ApiException(code, 'x', '', {})).kind).to.equal('transient');
      expect(classifyApiError(new ApiException(501, 'x', '', {})).kind).to.equal('other');
      expect(classifyApiError(Object.assign(new Error('Service Unavailable'), { statusCode: 503 })).kind).to.equal('transient');
    });
    it('refused, reset, timed out and hung-up connections are transient', () => {
      for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']) {
        expect(classifyApiError(Object.assign(new Error(code), { code })).kind, code).to.equal('transient');
      }
      expect(classifyApiError(new Error('socket hang up')).kind).to.equal('transient');
      expect(classifyApiError(Object.assign(new Error('network timeout at: https://x'), { type: 'request-timeout' })).kind).to.equal('transient');
    });
    it('401 and 403 are permission errors; 404, 409, 422 and plain errors are for the caller', () => {
      expect(classifyApiError(new ApiException(401, 'x', '', {}))).to.deep.equal({ kind: 'permission', code: 401 });
      expect(classifyApiError(new ApiException(403, 'x', '', {}))).to.deep.equal({ kind: 'permission', code: 403 });
      for (const code of [400, 404, 409, 410, 413, 422]) expect(classifyApiError(new ApiException(code, 'x', '', {})).kind).to.equal('other');
      expect(classifyApiError(new Error('TypeError: x is undefined')).kind).to.equal('other');
      expect(classifyApiError(Object.assign(new Error('aborted'), { name: 'AbortError' })).kind).to.equal('other');
    });
  });

  it('Retry-After: delta-seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).to.equal(3000);
    expect(parseRetryAfter(' 0 ')).to.equal(0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).to.equal(5000);
    expect(parseRetryAfter('soon')).to.equal(undefined);
    expect(parseRetryAfter(undefined)).to.equal(undefined);
  });
});
