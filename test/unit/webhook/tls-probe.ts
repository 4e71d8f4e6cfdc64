// Test helper: which certificate does a TLS server on 127.0.0.1 present, verified against a CA?

import { connect } from 'node:tls';

/** SHA-256 fingerprint of the certificate served on 127.0.0.1:<port>; rejects when `ca` does not verify it. */
export function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert) resolve(cert.fingerprint256);
      else reject(new Error('no certificate'));
    });
    socket.on('error', reject);
  });
}
