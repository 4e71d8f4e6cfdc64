// Serving certificate from files (--cert-file/--key-file, e.g. a cert-manager Secret mounted as a
// volume): loaded at start, checked every period, handed over when the pair changes. A half-written
// update (new certificate, old key) is skipped until both files match.

import { readFile } from 'node:fs/promises';
import type { Logger } from '../operator/logger.js';
import type { ServingCertificate } from './admission-server.js';
import { keyMatchesCertificate } from './tls-certificates.js';

export class CertificateFileSource {
  private timer: NodeJS.Timeout | undefined;
  private current: ServingCertificate | undefined;

  constructor(
    private readonly certFile: string,
    private readonly keyFile: string,
    private readonly periodMs: number,
    private readonly logger: Logger,
    private readonly onChange: (certificate: ServingCertificate) => void,
  ) {}

  /** Reads and checks the pair; throws a message naming the flag at fault. */
  async load(): Promise<ServingCertificate> {
    const cert = await readFile(this.certFile, 'utf8').catch((err: Error) => {
      throw new Error(`cannot read -cert-file ${this.certFile}: ${err.message}`);
    });
    const key = await readFile(this.keyFile, 'utf8').catch((err: Error) => {
      throw new Error(`cannot read -key-file ${this.keyFile}: ${err.message}`);
    });
    if (!keyMatchesCertificate(cert, key)) {
      throw new Error(`-key-file ${this.keyFile} is not the private key of -cert-file ${this.certFile} (or one of them is not PEM)`);
    }
    this.current = { cert, key };
    return this.current;
  }

  start(): void {
    const tick = async (): Promise<void> => {
      try {
        const previous = this.current;
        const next = await this.load();
        if (previous === undefined || previous.cert !== next.cert || previous.key !== next.key) {
          this.logger.info('Certificate files changed; reloading', { certFile: this.certFile });
          this.onChange(next);
        }
      } catch (err) {
        this.logger.warn('Certificate files not reloaded; keeping the current certificate', { error: (err as Error).message });
      }
      if (this.timer !== undefined) this.timer = setTimeout(() => void tick(), this.periodMs);
    };
    this.timer = setTimeout(() => void tick(), this.periodMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
