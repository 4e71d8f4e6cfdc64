// Certificates for the webhook: a self-signed CA and a serving certificate it signs, and the facts the
// rotation planner needs about existing ones. Pure apart from CPU: keys come from node:crypto (native,
// asynchronous), certificates are assembled and signed with node-forge, and inspected with
// node:crypto's X509Certificate. No files, no network.

import { createPrivateKey, generateKeyPair, randomBytes, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);

export const CA_ORGANIZATION = 'kubefledged.io';
/** Backdating of notBefore, so a peer whose clock is a little behind accepts a fresh certificate. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CertificateFacts {
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  subject: string;
  dnsNames: string[];
  ipAddresses: string[];
  fingerprint256: string;
}

export interface CaOptions {
  commonName: string;
  now: Date;
  validityMs: number;
}

export interface ServingOptions {
  ca: KeyPairPem;
  dnsNames: string[];
  ipAddresses: string[];
  now: Date;
  validityMs: number;
}

/** A new self-signed CA (RSA 2048, SHA-256). */
export async function generateCertificateAuthority(options: CaOptions): Promise<KeyPairPem> {
  const { publicKey, privateKey } = await newRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = newSerialNumber();
  setValidity(cert, options.now, new Date(options.now.getTime() + options.validityMs));
  const subject = [
    { name: 'commonName', value: options.commonName },
    { name: 'organizationName', value: CA_ORGANIZATION },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { certPem: toPem(cert), keyPem: privateKey };
}

/**
 * A serving certificate signed by `ca` for the given DNS names and IP addresses (SANs), valid from now
 * (backdated by CLOCK_SKEW_MS) for validityMs, but never beyond the CA's own expiry.
 */
export async function issueServingCertificate(options: ServingOptions): Promise<KeyPairPem> {
  if (options.dnsNames.length === 0 && options.ipAddresses.length === 0) {
    throw new Error('a serving certificate needs at least one DNS name or IP address');
  }
  for (const ip of options.ipAddresses) {
    if (isIP(ip) === 0) throw new Error(`"${ip}" is not an IP address`);
  }
  const caCert = forge.pki.certificateFromPem(options.ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(options.ca.keyPem);
  const { publicKey, privateKey } = await newRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = newSerialNumber();
  const wantedEnd = options.now.getTime() + options.validityMs;
  setValidity(cert, options.now, new Date(Math.min(wantedEnd, caCert.validity.notAfter.getTime())));
  const commonName = options.dnsNames[0] ?? options.ipAddresses[0] ?? 'kubefledged-webhook-server';
  cert.setSubject([
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: CA_ORGANIZATION },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...options.dnsNames.map((value) => ({ type: 2, value })),
        ...options.ipAddresses.map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: toPem(cert), keyPem: privateKey };
}

/** Facts about one PEM certificate; undefined when it does not parse. */
export function inspectCertificate(certPem: string): CertificateFacts | undefined {
  try {
    const x = new X509Certificate(certPem);
    const dnsNames: string[] = [];
    const ipAddresses: string[] = [];
    for (const part of (x.subjectAltName ?? '').split(',')) {
      const entry = part.trim();
      if (entry.startsWith('DNS:')) dnsNames.push(entry.slice(4));
      else if (entry.startsWith('IP Address:')) ipAddresses.push(entry.slice('IP Address:'.length));
    }
    return {
      notBefore: new Date(x.validFrom),
      notAfter: new Date(x.validTo),
      isCA: x.ca,
      subject: x.subject,
      dnsNames,
      ipAddresses,
      fingerprint256: x.fingerprint256,
    };
  } catch {
    return undefined;
  }
}

/** The PEM CERTIFICATE blocks of a bundle, in order, each with "\n" line ends and a final "\n". */
export function splitPemBundle(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.map((pem) => `${pem.replace(/\r\n/g, '\n')}\n`) ?? [];
}

/** True when `certPem` was issued and signed by `caPem`. */
export function isSignedBy(certPem: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** True when the private key belongs to the certificate. */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/**
 * Fraction of the validity period left at `now` (0 when expired, 1 when not yet started). The period
 * starts CLOCK_SKEW_MS after notBefore (the backdating of certificates made here), so that a short
 * validity (e.g. 60 s in tests) is not mistaken for an old certificate.
 */
export function remainingValidityFraction(facts: CertificateFacts, now: Date): number {
  const span = facts.notAfter.getTime() - facts.notBefore.getTime();
  const total = span > CLOCK_SKEW_MS ? span - CLOCK_SKEW_MS : span;
  if (total <= 0) return 0;
  const left = facts.notAfter.getTime() - now.getTime();
  return Math.min(1, Math.max(0, left / total));
}

// ---------------------------------------------------------------------------------------------------

async function newRsaKeyPair(): Promise<{ publicKey: string; privateKey: string }> {
  return generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** 16 random bytes; the first in 0x40..0x7f so the DER integer is positive and minimally encoded (Go's x509 insists). */
function newSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes.toString('hex');
}

/** PEM with "\n" line ends (forge writes "\r\n"), so bundles compare and concatenate byte-exactly. */
function toPem(cert: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}

function setValidity(cert: forge.pki.Certificate, now: Date, notAfter: Date): void {
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  cert.validity.notAfter = notAfter;
}
