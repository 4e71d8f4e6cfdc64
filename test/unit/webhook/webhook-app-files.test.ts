// The server in --cert-file/--key-file mode (cert-manager or any mounted Secret): serves with the
// files, picks up a new pair without a restart, ignores a half-written pair.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createLogger } from '../../../src/operator/logger.js';
import { generateCertificateAuthority, issueServingCertificate, type KeyPairPem } from '../../../src/webhook/tls-certificates.js';
import { parseWebhookConfig, type WebhookConfig } from '../../../src/webhook/webhook-config.js';
import { startWebhook, type RunningWebhook } from '../../../src/webhook/webhook-app.js';
import { WebhookMetrics } from '../../../src/webhook/webhook-metrics.js';
import { servedFingerprint as fingerprint } from './tls-probe.js';

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('webhook/webhook-app in files mode', function () {
  this.timeout(30_000);
  let dir: string;
  let ca: KeyPairPem;
  let running: RunningWebhook | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kf-webhook-files-'));
    ca = await generateCertificateAuthority({ commonName: 'files-ca', now: new Date(), validityMs: 3600_000 });
  });
  after(async () => {
    await running?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const pair = () => issueServingCertificate({ ca, dnsNames: [], ipAddresses: ['127.0.0.1'], now: new Date(), validityMs: 3600_000 });

  it('serves the files and reloads them when they change', async () => {
    const first = await pair();
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    await writeFile(certFile, first.certPem);
    await writeFile(keyFile, first.keyPem);
    const parsed = parseWebhookConfig([`--cert-file=${certFile}`, `--key-file=${keyFile}`, '--port=0', '--host=127.0.0.1', '--file-sync-period=100ms'], {});
    const config = (parsed as { config: WebhookConfig }).config;
    running = await startWebhook(config, { logger: createLogger('error', 'test'), metrics: new WebhookMetrics() });
    expect(await fingerprint(running.port, ca.certPem)).to.equal(new X509Certificate(first.certPem).fingerprint256);

    // Half-written update: new certificate, old key -> ignored.
    const second = await pair();
    await writeFile(certFile, second.certPem);
    await new Promise((r) => setTimeout(r, 300));
    expect(await fingerprint(running.port, ca.certPem)).to.equal(new X509Certificate(first.certPem).fingerprint256);

    // Key arrives -> the new pair is served.
    await writeFile(keyFile, second.keyPem);
    const want = new X509Certificate(second.certPem).fingerprint256;
    await until('the new certificate', async () => (await fingerprint(running!.port, ca.certPem)) === want);
  });

  it('fails to start with a message naming the flag when a file is missing or the pair does not match', async () => {
    const logger = createLogger('error', 'test');
    const missing = (parseWebhookConfig(['--cert-file=/nonexistent/c', '--key-file=/nonexistent/k', '--port=0'], {}) as { config: WebhookConfig }).config;
    await startWebhook(missing, { logger, metrics: new WebhookMetrics() }).then(
      () => expect.fail('started'),
      (err: Error) => expect(err.message).to.match(/cannot read -cert-file \/nonexistent\/c/),
    );
    const a = await pair();
    const b = await pair();
    await writeFile(join(dir, 'a.crt'), a.certPem);
    await writeFile(join(dir, 'b.key'), b.keyPem);
    const mismatch = (parseWebhookConfig([`--cert-file=${join(dir, 'a.crt')}`, `--key-file=${join(dir, 'b.key')}`, '--port=0'], {}) as { config: WebhookConfig }).config;
    await startWebhook(mismatch, { logger, metrics: new WebhookMetrics() }).then(
      () => expect.fail('started'),
      (err: Error) => expect(err.message).to.match(/is not the private key of -cert-file/),
    );
  });
});
