import { expect } from 'chai';
import { Buffer } from 'node:buffer';
import { createLogger } from '../../../src/operator/logger.js';
import { CaBundleReconciler, planCaBundlePatch } from '../../../src/webhook/ca-bundle-reconciler.js';
import { ManagedTls } from '../../../src/webhook/managed-tls.js';
import { isSignedBy, splitPemBundle } from '../../../src/webhook/tls-certificates.js';
import { planTlsMaterial, type TlsPolicy } from '../../../src/webhook/tls-rotation-plan.js';
import { MANAGED_BY_LABEL, TlsSecretStore, materialOf } from '../../../src/webhook/tls-secret-store.js';
import { buildValidatingWebhookConfiguration } from '../../../src/webhook/webhook-configuration.js';
import { ensureWebhookConfiguration, removeWebhookConfiguration } from '../../../src/webhook/webhook-registration.js';
import { WebhookMetrics } from '../../../src/webhook/webhook-metrics.js';
import { FakeSecrets, FakeWebhookConfigurations } from './fake-kube-api.js';

const logger = createLogger('error', 'test');
const policy: TlsPolicy = {
  caCommonName: 'ca',
  caValidityMs: 3650 * 86400_000,
  servingValidityMs: 365 * 86400_000,
  renewBeforeFraction: 1 / 3,
  caPropagationMs: 300_000,
  dnsNames: ['svc.ns.svc'],
  ipAddresses: ['127.0.0.1'],
};
const ref = { namespace: 'ns', name: 'tls' };
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('webhook/tls-secret-store', function () {
  this.timeout(30_000);

  it('creates the Secret (type kubernetes.io/tls, ca.crt, ca.key, managed-by label) when absent, then keeps it', async () => {
    const fake = new FakeSecrets();
    const store = new TlsSecretStore(fake.api(), ref, logger);
    const first = await store.ensure(policy);
    expect(first.written).to.equal(true);
    const secret = fake.store.get('ns/tls')!;
    expect(secret.type).to.equal('kubernetes.io/tls');
    expect(Object.keys(secret.data!).sort()).to.deep.equal(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    expect(secret.metadata!.labels![MANAGED_BY_LABEL]).to.equal('kubefledged-webhook-server');
    expect(materialOf(secret)).to.deep.equal(first.material);
    const second = await store.ensure(policy);
    expect(second.written).to.equal(false);
    expect(second.material).to.deep.equal(first.material);
    expect(fake.calls).to.deep.equal(['read', 'create', 'read']);
  });

  it('uses the winner\'s Secret when another replica creates it first (409 on create)', async () => {
    const fake = new FakeSecrets();
    const winner = await planTlsMaterial(undefined, policy, new Date());
    fake.beforeWrite = (kind) => {
      if (kind !== 'create') return;
      fake.beforeWrite = undefined;
      fake.put({
        metadata: { name: 'tls', namespace: 'ns', labels: { [MANAGED_BY_LABEL]: 'kubefledged-webhook-server' }, annotations: { 'kubefledged.io/ca-added-at': winner.material.caAddedAt! } },
        type: 'kubernetes.io/tls',
        data: { 'ca.crt': b64(winner.material.caBundle), 'ca.key': b64(winner.material.caKey), 'tls.crt': b64(winner.material.cert), 'tls.key': b64(winner.material.key) },
      });
    };
    const ensured = await new TlsSecretStore(fake.api(), ref, logger).ensure(policy);
    expect(ensured.written).to.equal(false);
    expect(ensured.material.caBundle).to.equal(winner.material.caBundle);
    expect(ensured.material.cert).to.equal(winner.material.cert);
    expect(fake.calls).to.deep.equal(['read', 'create', 'read']);
  });

  it('re-reads and re-plans when a rotation loses a conflict (409 on replace)', async () => {
    const fake = new FakeSecrets();
    const store = new TlsSecretStore(fake.api(), ref, logger);
    await store.ensure(policy);
    // This replica wants a new SAN; just before its write lands, another writer changes the Secret.
    const wider = { ...policy, dnsNames: ['svc.ns.svc', 'extra.example'] };
    fake.beforeWrite = (kind) => {
      if (kind !== 'replace') return;
      fake.beforeWrite = undefined;
      const cur = fake.store.get('ns/tls')!;
      fake.put({ ...cur, metadata: { ...cur.metadata, annotations: { ...cur.metadata!.annotations, touched: 'yes' } } });
    };
    const ensured = await store.ensure(wider);
    expect(ensured.written).to.equal(true);
    expect(fake.calls.filter((c) => c === 'replace')).to.have.length(2);
    expect(fake.store.get('ns/tls')!.metadata!.annotations!.touched).to.equal('yes');
  });

  it('refuses to take over a foreign Secret without usable material, naming the fix', async () => {
    const fake = new FakeSecrets();
    fake.put({ metadata: { name: 'tls', namespace: 'ns' }, type: 'Opaque', data: { password: b64('x') } });
    await new TlsSecretStore(fake.api(), ref, logger).ensure(policy).then(
      () => expect.fail('took over'),
      (err: Error) => expect(err.message).to.match(/not managed by the webhook.*delete it or choose another --tls-secret-name/),
    );
  });

  it('fills a blank Secret an installer created for it (Helm relabels managed-by)', async () => {
    const fake = new FakeSecrets();
    fake.put({ metadata: { name: 'tls', namespace: 'ns', labels: { 'app.kubernetes.io/managed-by': 'Helm' } }, type: 'kubernetes.io/tls' });
    const ensured = await new TlsSecretStore(fake.api(), ref, logger).ensure(policy);
    expect(ensured.written).to.equal(true);
    expect(isSignedBy(ensured.material.cert, splitPemBundle(ensured.material.caBundle)[0]!)).to.equal(true);
  });

  it('repairs a managed Secret whose data was blanked', async () => {
    const fake = new FakeSecrets();
    const store = new TlsSecretStore(fake.api(), ref, logger);
    await store.ensure(policy);
    const cur = fake.store.get('ns/tls')!;
    fake.put({ ...cur, data: { 'tls.crt': '' } });
    const ensured = await store.ensure(policy);
    expect(ensured.written).to.equal(true);
    expect(isSignedBy(ensured.material.cert, splitPemBundle(ensured.material.caBundle)[0]!)).to.equal(true);
  });
});

describe('webhook/ca-bundle-reconciler', () => {
  const vwc = (caBundles: (string | undefined)[]) => ({
    metadata: { name: 'cfg' },
    webhooks: caBundles.map((caBundle, i) => ({
      name: `w${i}.kubefledged.io`,
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      clientConfig: caBundle === undefined ? { url: 'https://x' } : { url: 'https://x', caBundle },
    })),
  });

  it('plans nothing when every caBundle matches', () => {
    expect(planCaBundlePatch(vwc(['AAA', 'AAA']), 'AAA')).to.deep.equal([]);
  });

  it('plans guarded replacements for the webhooks that differ, and an add where it is missing', () => {
    expect(planCaBundlePatch(vwc(['AAA', 'old', undefined]), 'AAA')).to.deep.equal([
      { op: 'test', path: '/webhooks/1/name', value: 'w1.kubefledged.io' },
      { op: 'test', path: '/webhooks/1/clientConfig/caBundle', value: 'old' },
      { op: 'add', path: '/webhooks/1/clientConfig/caBundle', value: 'AAA' },
      { op: 'test', path: '/webhooks/2/name', value: 'w2.kubefledged.io' },
      { op: 'add', path: '/webhooks/2/clientConfig/caBundle', value: 'AAA' },
    ]);
  });

  it('patches a blanked caBundle, reports in-sync after, absent when deleted, conflict on 422', async () => {
    const fake = new FakeWebhookConfigurations();
    const metrics = new WebhookMetrics();
    const reconciler = new CaBundleReconciler(fake.api(), 'cfg', logger, metrics);
    expect(await reconciler.sync('PEM')).to.equal('absent');
    fake.store.set('cfg', vwc(['', 'x']) as never);
    expect(await reconciler.sync('PEM')).to.equal('patched');
    expect(fake.store.get('cfg')!.webhooks!.map((w) => w.clientConfig.caBundle)).to.deep.equal([b64('PEM'), b64('PEM')]);
    expect(await reconciler.sync('PEM')).to.equal('in-sync');
    expect(await metrics.render()).to.match(/kubefledged_webhook_ca_bundle_repairs_total 1/);
    fake.store.get('cfg')!.webhooks![0]!.clientConfig.caBundle = '';
    fake.failPatchWith = 422;
    expect(await reconciler.sync('PEM')).to.equal('conflict');
  });
});

describe('webhook/webhook-registration', () => {
  it('creates, leaves alone, updates on change (keeping the caBundle), and deletes', async () => {
    const fake = new FakeWebhookConfigurations();
    const desired = buildValidatingWebhookConfiguration({ name: 'cfg', url: 'https://127.0.0.1:1/validate-image-cache', caBundle: 'CA' });
    await ensureWebhookConfiguration(fake.api(), desired, logger);
    await ensureWebhookConfiguration(fake.api(), desired, logger);
    expect(fake.calls).to.deep.equal(['read', 'create', 'read']);
    const moved = buildValidatingWebhookConfiguration({ name: 'cfg', url: 'https://127.0.0.1:2/validate-image-cache' });
    await ensureWebhookConfiguration(fake.api(), moved, logger);
    const stored = fake.store.get('cfg')!.webhooks![0]!;
    expect(stored.clientConfig.url).to.equal('https://127.0.0.1:2/validate-image-cache');
    expect(stored.clientConfig.caBundle).to.equal(b64('CA'));
    await removeWebhookConfiguration(fake.api(), 'cfg', logger);
    await removeWebhookConfiguration(fake.api(), 'cfg', logger);
    expect(fake.store.size).to.equal(0);
  });
});

describe('webhook/managed-tls', function () {
  this.timeout(30_000);

  it('hands over a certificate rotated by another replica and repairs the caBundle', async () => {
    const secrets = new FakeSecrets();
    const configs = new FakeWebhookConfigurations();
    configs.store.set('cfg', buildValidatingWebhookConfiguration({ name: 'cfg', url: 'https://127.0.0.1:1/x' }));
    const handed: string[] = [];
    const managed = new ManagedTls({
      store: new TlsSecretStore(secrets.api(), ref, logger),
      policy,
      reconciler: new CaBundleReconciler(configs.api(), 'cfg', logger),
      periodMs: 10,
      logger,
      onCertificate: (c) => handed.push(c.cert),
    });
    const material = await managed.init();
    await managed.syncOnce();
    expect(handed).to.deep.equal([]); // init's certificate is the server's first one
    expect(configs.store.get('cfg')!.webhooks![0]!.clientConfig.caBundle).to.equal(b64(material.caBundle));

    // Another replica rewrites the Secret with a wider certificate.
    await new TlsSecretStore(secrets.api(), ref, logger).ensure({ ...policy, dnsNames: ['svc.ns.svc', 'other'] });
    await managed.syncOnce();
    expect(handed).to.have.length(1);
    expect(handed[0]).to.equal(managed.current()!.cert);
    expect(handed[0]).to.not.equal(material.cert);

    // Someone blanks the caBundle; the loop repairs it.
    configs.store.get('cfg')!.webhooks![0]!.clientConfig.caBundle = '';
    managed.start();
    await new Promise((r) => setTimeout(r, 200));
    await managed.stop();
    expect(configs.store.get('cfg')!.webhooks![0]!.clientConfig.caBundle).to.equal(b64(material.caBundle));
  });
});
