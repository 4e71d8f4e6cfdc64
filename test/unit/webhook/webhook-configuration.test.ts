import { expect } from 'chai';
import { buildValidatingWebhookConfiguration, parseEqualitySelector, WEBHOOK_NAME } from '../../../src/webhook/webhook-configuration.js';

const CA = '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n';

describe('webhook/webhook-configuration', () => {
  it('builds the spec §4.4 shape with a service reference', () => {
    const vwc = buildValidatingWebhookConfiguration({ caBundle: CA, service: { namespace: 'kube-fledged', name: 'kubefledged-webhook-server' } });
    expect(vwc.metadata?.name).to.equal('kubefledged-webhook-server');
    expect(vwc.metadata?.labels).to.deep.equal({ app: 'kubefledged', kubefledged: 'kubefledged-webhook-server' });
    expect(vwc.webhooks).to.have.length(1);
    const w = vwc.webhooks![0]!;
    expect(w.name).to.equal(WEBHOOK_NAME).and.equal('validate-image-cache.kubefledged.io');
    expect(w.admissionReviewVersions).to.deep.equal(['v1', 'v1beta1']);
    expect(w.sideEffects).to.equal('None');
    expect(w.failurePolicy).to.equal('Fail');
    expect(w.timeoutSeconds).to.equal(5);
    expect(w.rules).to.deep.equal([
      { operations: ['CREATE', 'UPDATE'], apiGroups: ['kubefledged.io'], apiVersions: ['v1alpha2'], resources: ['imagecaches'], scope: 'Namespaced' },
    ]);
    expect(w.rules![0]!.resources).to.not.include('imagecaches/status');
    expect(w.clientConfig.service).to.deep.equal({ namespace: 'kube-fledged', name: 'kubefledged-webhook-server', path: '/validate-image-cache', port: 3443 });
    expect(Buffer.from(w.clientConfig.caBundle!, 'base64').toString()).to.equal(CA);
    expect(w.namespaceSelector).to.equal(undefined);
  });

  it('builds a URL registration with a namespace selector, policy and timeout', () => {
    const vwc = buildValidatingWebhookConfiguration({
      name: 'test-vwc',
      url: 'https://127.0.0.1:8443/validate-image-cache',
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ns1' } },
      failurePolicy: 'Ignore',
      timeoutSeconds: 2,
    });
    const w = vwc.webhooks![0]!;
    expect(vwc.metadata?.name).to.equal('test-vwc');
    expect(w.clientConfig).to.deep.equal({ url: 'https://127.0.0.1:8443/validate-image-cache' });
    expect(w.namespaceSelector).to.deep.equal({ matchLabels: { 'kubernetes.io/metadata.name': 'ns1' } });
    expect(w.failurePolicy).to.equal('Ignore');
    expect(w.timeoutSeconds).to.equal(2);
  });

  it('rejects contradictory or bad options', () => {
    expect(() => buildValidatingWebhookConfiguration({})).to.throw(/exactly one of service and url/);
    expect(() => buildValidatingWebhookConfiguration({ url: 'https://x', service: { namespace: 'a', name: 'b' } })).to.throw(/exactly one/);
    expect(() => buildValidatingWebhookConfiguration({ url: 'http://127.0.0.1/x' })).to.throw(/must start with https/);
    expect(() => buildValidatingWebhookConfiguration({ url: 'https://x', timeoutSeconds: 31 })).to.throw(/1 to 30/);
    expect(() => buildValidatingWebhookConfiguration({ url: 'https://x', timeoutSeconds: 0 })).to.throw(/1 to 30/);
  });

  it('parses equality selectors', () => {
    expect(parseEqualitySelector('a=b, c==d,kubernetes.io/metadata.name=x-y')).to.deep.equal({
      matchLabels: { a: 'b', c: 'd', 'kubernetes.io/metadata.name': 'x-y' },
    });
    expect(parseEqualitySelector('')).to.deep.equal({ matchLabels: {} });
    expect(() => parseEqualitySelector('a!=b')).to.throw(/"a!=b" is not of the form key=value/);
    expect(() => parseEqualitySelector('a in (b)')).to.throw(/not of the form/);
  });
});
