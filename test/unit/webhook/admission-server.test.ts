import { expect } from 'chai';
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { AdmissionServer } from '../../../src/webhook/admission-server.js';
import { WebhookMessage } from '../../../src/api/constants.js';
import { WebhookMetrics } from '../../../src/webhook/webhook-metrics.js';
import { createLogger } from '../../../src/operator/logger.js';
import { servedFingerprint as peerFingerprint } from './tls-probe.js';
import { generateCertificateAuthority, issueServingCertificate, type KeyPairPem } from '../../../src/webhook/tls-certificates.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(port: number, ca: string, path: string, options: { method?: string; body?: string; contentType?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'POST',
        ca,
        agent: false,
        headers: options.body !== undefined ? { 'Content-Type': options.contentType ?? 'application/json' } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const review = (apiVersion: string, operation: string, object: unknown, oldObject?: unknown) =>
  JSON.stringify({ apiVersion, kind: 'AdmissionReview', request: { uid: `uid-${apiVersion}`, operation, object, oldObject, name: 'c', namespace: 'ns' } });
const ic = (images: string[]) => ({ metadata: { name: 'c' }, spec: { cacheSpec: [{ images }] } });

describe('webhook/admission-server (HTTPS, in-process)', function () {
  this.timeout(30_000);
  let ca: KeyPairPem;
  let serving: KeyPairPem;
  let server: AdmissionServer;
  let metrics: WebhookMetrics;
  let port: number;

  before(async () => {
    const now = new Date();
    ca = await generateCertificateAuthority({ commonName: 'test', now, validityMs: 3600_000 });
    serving = await issueServingCertificate({ ca, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], now, validityMs: 3600_000 });
    metrics = new WebhookMetrics();
    server = new AdmissionServer({
      port: 0,
      host: '127.0.0.1',
      certificate: { cert: serving.certPem, key: serving.keyPem },
      logger: createLogger('error', 'test'),
      metrics,
    });
    expect(server.isReady()).to.equal(false);
    port = await server.start();
  });

  after(async () => {
    await server.stop();
  });

  it('allows a valid ImageCache (admission v1), copying the uid', async () => {
    const reply = await call(port, ca.certPem, '/validate-image-cache?timeout=5s', { body: review('admission.k8s.io/v1', 'CREATE', ic(['nginx:1.27'])) });
    expect(reply.status).to.equal(200);
    expect(reply.headers['content-type']).to.equal('application/json');
    expect(JSON.parse(reply.body)).to.deep.equal({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'uid-admission.k8s.io/v1', allowed: true },
    });
  });

  it('denies with the message, answering a v1beta1 request in v1beta1', async () => {
    const reply = await call(port, ca.certPem, '/validate-image-cache', { body: review('admission.k8s.io/v1beta1', 'CREATE', ic([])) });
    expect(reply.status).to.equal(200);
    expect(JSON.parse(reply.body)).to.deep.equal({
      apiVersion: 'admission.k8s.io/v1beta1',
      kind: 'AdmissionReview',
      response: { uid: 'uid-admission.k8s.io/v1beta1', allowed: false, status: { message: WebhookMessage.NoImages } },
    });
  });

  it('accepts application/json with a charset', async () => {
    const reply = await call(port, ca.certPem, '/validate-image-cache', {
      body: review('admission.k8s.io/v1', 'CREATE', ic(['a'])),
      contentType: 'application/json; charset=utf-8',
    });
    expect(reply.status).to.equal(200);
  });

  it('answers /mutate-image-cache with an allow (parity)', async () => {
    const reply = await call(port, ca.certPem, '/mutate-image-cache', { body: review('admission.k8s.io/v1', 'CREATE', ic([])) });
    expect(JSON.parse(reply.body).response).to.deep.equal({ uid: 'uid-admission.k8s.io/v1', allowed: true });
  });

  const errors: [string, string, { method?: string; body?: string; contentType?: string }, number, RegExp][] = [
    ['a wrong content type', '/validate-image-cache', { body: '{}', contentType: 'text/plain' }, 415, /send application\/json/],
    ['an unsupported kind', '/validate-image-cache', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod' }) }, 400, /unsupported kind/],
    ['a body that is not JSON', '/validate-image-cache', { body: 'nope' }, 400, /not JSON/],
    ['GET on the admission path', '/validate-image-cache', { method: 'GET' }, 405, /use POST/],
    ['an unknown path', '/nope', { method: 'GET' }, 404, /no route \/nope/],
  ];
  for (const [what, path, options, status, pattern] of errors) {
    it(`answers ${status} for ${what}`, async () => {
      const reply = await call(port, ca.certPem, path, options);
      expect(reply.status).to.equal(status);
      expect(reply.body).to.match(pattern);
    });
  }

  it('answers 413 for a body over the limit', async () => {
    const small = new AdmissionServer({
      port: 0,
      host: '127.0.0.1',
      certificate: { cert: serving.certPem, key: serving.keyPem },
      logger: createLogger('error', 'test'),
      metrics: new WebhookMetrics(),
      maxBodyBytes: 1000,
    });
    const p = await small.start();
    try {
      const reply = await call(p, ca.certPem, '/validate-image-cache', { body: review('admission.k8s.io/v1', 'CREATE', ic(['a'.repeat(2000)])) });
      expect(reply.status).to.equal(413);
    } finally {
      await small.stop();
    }
  });

  it('serves /healthz, /readyz and /metrics with counters by verdict', async () => {
    expect((await call(port, ca.certPem, '/healthz', { method: 'GET' })).body).to.equal('ok');
    expect((await call(port, ca.certPem, '/readyz', { method: 'GET' })).status).to.equal(200);
    const text = (await call(port, ca.certPem, '/metrics', { method: 'GET' })).body;
    expect(text).to.match(/kubefledged_webhook_admission_requests_total\{path="\/validate-image-cache",operation="CREATE",verdict="allowed"\} [1-9]/);
    expect(text).to.match(/kubefledged_webhook_admission_requests_total\{path="\/validate-image-cache",operation="CREATE",verdict="denied"\} 1/);
    expect(text).to.match(/kubefledged_webhook_admission_requests_total\{path="\/validate-image-cache",operation="unknown",verdict="error"\} [1-9]/);
    expect(text).to.match(/kubefledged_webhook_admission_duration_seconds_bucket/);
    expect(text).to.match(/kubefledged_webhook_certificate_expiry_timestamp_seconds \d+/);
  });

  it('swaps the certificate for new connections without a restart', async () => {
    const before = await peerFingerprint(port, ca.certPem);
    expect(before).to.equal(new X509Certificate(serving.certPem).fingerprint256);
    const ca2 = await generateCertificateAuthority({ commonName: 'test2', now: new Date(), validityMs: 3600_000 });
    const serving2 = await issueServingCertificate({ ca: ca2, dnsNames: [], ipAddresses: ['127.0.0.1'], now: new Date(), validityMs: 3600_000 });
    server.updateCertificate({ cert: serving2.certPem, key: serving2.keyPem });
    expect(await peerFingerprint(port, ca2.certPem)).to.equal(new X509Certificate(serving2.certPem).fingerprint256);
    // The old CA no longer verifies the server.
    await peerFingerprint(port, ca.certPem).then(
      () => expect.fail('old CA still accepted'),
      (err: Error) => expect(err.message).to.match(/certificate|verify|self.signed|issuer/i),
    );
    const reply = await call(port, ca2.certPem, '/validate-image-cache', { body: review('admission.k8s.io/v1', 'CREATE', ic(['x'])) });
    expect(reply.status).to.equal(200);
    server.updateCertificate({ cert: serving.certPem, key: serving.keyPem });
  });

  it('is not ready once stopping', async () => {
    const s = new AdmissionServer({ port: 0, host: '127.0.0.1', certificate: { cert: serving.certPem, key: serving.keyPem }, logger: createLogger('error', 'test'), metrics: new WebhookMetrics() });
    await s.start();
    expect(s.isReady()).to.equal(true);
    const stopping = s.stop();
    expect(s.isReady()).to.equal(false);
    await stopping;
  });
});
