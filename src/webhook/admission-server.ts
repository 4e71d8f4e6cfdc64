// The HTTPS admission server: routes, body limits, AdmissionReview in/out, metrics, and certificate
// reload without restart (tls.Server#setSecureContext).
//
//   POST /validate-image-cache  ImageCache rules (validation-rules.ts), answered in the request's version
//   POST /mutate-image-cache    allows everything (kept for parity with the original's route)
//   GET  /healthz               ok while the process serves
//   GET  /readyz                ok once a certificate is loaded and the server listens; 503 while stopping
//   GET  /metrics               Prometheus text

import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { HEALTHZ_PATH, METRICS_PATH, MUTATE_PATH, READYZ_PATH, VALIDATE_PATH } from './admission-paths.js';
import { decodeAdmissionReview, encodeAdmissionResponse } from './admission-review.js';
import { validateImageCacheAdmission, type AdmissionVerdict, type ImageCacheAdmissionInput } from './validation-rules.js';
import type { WebhookMetrics, AdmissionOutcome } from './webhook-metrics.js';
import type { Logger } from '../operator/logger.js';

/** Twice the largest object etcd stores (object + oldObject), plus envelope. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface ServingCertificate {
  /** PEM serving certificate (chain allowed). */
  cert: string;
  /** PEM private key. */
  key: string;
}

export interface AdmissionServerOptions {
  port: number;
  /** Listen address; all interfaces when absent (as the original). */
  host?: string;
  certificate: ServingCertificate;
  logger: Logger;
  metrics: WebhookMetrics;
  /** The rules; validateImageCacheAdmission unless a test substitutes them. */
  validate?: (input: ImageCacheAdmissionInput) => AdmissionVerdict;
  maxBodyBytes?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class AdmissionServer {
  private readonly server: Server;
  private readonly validate: (input: ImageCacheAdmissionInput) => AdmissionVerdict;
  private readonly maxBodyBytes: number;
  private listening = false;
  private stopping = false;
  private currentCert: string;

  constructor(private readonly options: AdmissionServerOptions) {
    this.validate = options.validate ?? validateImageCacheAdmission;
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    this.currentCert = options.certificate.cert;
    this.server = createServer({ cert: options.certificate.cert, key: options.certificate.key, minVersion: 'TLSv1.2' }, (req, res) => {
      void this.handle(req, res);
    });
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
    this.server.keepAliveTimeout = 65_000;
    this.recordExpiry(options.certificate.cert);
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
    const port = this.port();
    // The original's log line (typo included) is what users grep for.
    // the original's text (sic) stays in the line for those who grep for it
    this.options.logger.info(`Webhook server listening on ${this.options.host ?? ''}:${port}`, { port, legacyMessage: `Wehook server listening on ${this.options.host ?? ''}:${port}` });
    return port;
  }

  port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  isReady(): boolean {
    return this.listening && !this.stopping;
  }

  /** Swaps the serving certificate for new connections; open connections keep theirs. */
  updateCertificate(certificate: ServingCertificate): void {
    if (certificate.cert === this.currentCert) return;
    this.server.setSecureContext({ cert: certificate.cert, key: certificate.key, minVersion: 'TLSv1.2' });
    this.currentCert = certificate.cert;
    this.recordExpiry(certificate.cert);
    this.options.logger.info('Serving certificate reloaded', { notAfter: expiryOf(certificate.cert)?.toISOString() });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    this.listening = false;
  }

  private recordExpiry(cert: string): void {
    const notAfter = expiryOf(cert);
    if (notAfter !== undefined) this.options.metrics.setCertificateExpiry(notAfter);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    try {
      switch (path) {
        case VALIDATE_PATH:
        case MUTATE_PATH:
          await this.admit(path, req, res);
          return;
        case HEALTHZ_PATH:
          sendText(res, 200, 'ok');
          return;
        case READYZ_PATH:
          if (this.isReady()) sendText(res, 200, 'ok');
          else sendText(res, 503, 'not ready');
          return;
        case METRICS_PATH:
          res.writeHead(200, { 'Content-Type': this.options.metrics.contentType() });
          res.end(await this.options.metrics.render());
          return;
        default:
          sendText(res, 404, `no route ${path}; routes: ${VALIDATE_PATH}, ${MUTATE_PATH}, /healthz, /readyz, /metrics`);
      }
    } catch (err) {
      this.options.logger.error('Request failed', { path, error: (err as Error).message });
      if (!res.headersSent) sendText(res, 500, 'internal error');
      else res.destroy();
    }
  }

  private async admit(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    let operation = 'unknown';
    const finish = (outcome: AdmissionOutcome): void => this.options.metrics.observeRequest(path, operation, outcome, elapsed());
    try {
      if (req.method !== 'POST') throw new HttpError(405, `use POST for ${path}`);
      const contentType = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
      if (contentType !== 'application/json') {
        throw new HttpError(415, `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')} is not supported; send application/json`);
      }
      const body = await readBody(req, this.maxBodyBytes);
      const decoded = decodeAdmissionReview(body);
      if (!decoded.ok) throw new HttpError(decoded.error.httpStatus, decoded.error.message);
      const { apiVersion, request } = decoded.review;
      operation = request.operation;
      const verdict: AdmissionVerdict =
        path === MUTATE_PATH
          ? { allowed: true }
          : this.validate({ operation: request.operation, object: request.object, oldObject: request.oldObject });
      const answer = encodeAdmissionResponse(apiVersion, request.uid, verdict);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer));
      finish(verdict.allowed ? 'allowed' : 'denied');
      const context = { uid: request.uid, operation, namespace: request.namespace, name: request.name, apiVersion, path };
      if (path === VALIDATE_PATH) {
        if (verdict.allowed) this.options.logger.info('Image cache creation/update validated successfully', context);
        else this.options.logger.info('Image cache creation/update denied', { ...context, denial: verdict.message });
      }
    } catch (err) {
      finish('error');
      if (err instanceof HttpError) {
        this.options.logger.warn('Admission request rejected', { path, status: err.status, error: err.message });
        sendText(res, err.status, err.message);
        return;
      }
      throw err;
    }
  }
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw new HttpError(413, `request body of ${declared} bytes exceeds ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new HttpError(413, `request body exceeds ${limit} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function expiryOf(certPem: string): Date | undefined {
  try {
    return new Date(new X509Certificate(certPem).validTo);
  } catch {
    return undefined;
  }
}
