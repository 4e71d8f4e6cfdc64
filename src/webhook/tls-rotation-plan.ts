// What the TLS Secret should hold now: keep it, or write new material (created, rotated, repaired).
// Pure apart from key generation (CPU): the caller reads and writes the Secret.
//
// Secret layout (type kubernetes.io/tls):
//   ca.crt   every CA a client must trust, newest first (the caBundle of the webhook configuration)
//   ca.key   private key of the newest CA (the one new serving certificates are signed with)
//   tls.crt  serving certificate, signed by one of the CAs in ca.crt
//   tls.key  its private key
// plus the annotation kubefledged.io/ca-added-at (RFC 3339): when the newest CA entered ca.crt.
//
// Rotation, two-phase for the CA so that the API server always trusts the certificate being served:
//  - serving certificate: renewed when less than `renewBeforeFraction` of its validity is left, when it
//    lacks a wanted SAN (the new one carries the union of old and wanted SANs, so replicas agree), or
//    when it or its issuer has expired;
//  - CA: when less than `renewBeforeFraction` of the newest CA's validity is left, a new CA is added in
//    front of ca.crt (the old one stays); the serving certificate moves to the new CA only once the new
//    CA has been in ca.crt for `caPropagationMs` (time for the caBundle reconciler of every replica to
//    publish it). Expired CAs that signed nothing in use are dropped from ca.crt.

import {
  generateCertificateAuthority,
  inspectCertificate,
  isSignedBy,
  issueServingCertificate,
  keyMatchesCertificate,
  remainingValidityFraction,
  splitPemBundle,
  type CertificateFacts,
} from './tls-certificates.js';

export const TLS_SECRET_KEYS = { caBundle: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key' } as const;
export const CA_ADDED_AT_ANNOTATION = 'kubefledged.io/ca-added-at';

export interface TlsMaterial {
  caBundle: string;
  caKey: string;
  cert: string;
  key: string;
  /** RFC 3339 time the newest CA entered the bundle. */
  caAddedAt?: string;
}

export interface TlsPolicy {
  caCommonName: string;
  caValidityMs: number;
  servingValidityMs: number;
  /** Renew when less than this fraction of the validity is left (default 1/3). */
  renewBeforeFraction: number;
  /** How long a new CA sits in ca.crt before the serving certificate switches to it. */
  caPropagationMs: number;
  dnsNames: string[];
  ipAddresses: string[];
}

export type TlsPlan = { action: 'keep'; material: TlsMaterial } | { action: 'write'; material: TlsMaterial; reasons: string[] };

export const DEFAULT_RENEW_BEFORE_FRACTION = 1 / 3;

/** Decides the Secret content for `now`. `current` is undefined when the Secret does not exist. */
export async function planTlsMaterial(current: Partial<TlsMaterial> | undefined, policy: TlsPolicy, now: Date): Promise<TlsPlan> {
  const checked = checkMaterial(current);
  if (!checked.ok) return { action: 'write', material: await freshMaterial(policy, now), reasons: [checked.reason] };

  const reasons: string[] = [];
  let { cas } = checked;
  let caKey = checked.material.caKey;
  let caAddedAt = checked.material.caAddedAt;
  let cert = checked.material.cert;
  let key = checked.material.key;
  let serving = checked.serving;
  let issuerIndex = checked.issuerIndex;

  const newest = cas[0]!;
  if (remainingValidityFraction(newest.facts, now) < policy.renewBeforeFraction) {
    const ca = await generateCertificateAuthority({ commonName: policy.caCommonName, now, validityMs: policy.caValidityMs });
    cas = [{ pem: ca.certPem, facts: inspectCertificate(ca.certPem)! }, ...cas];
    caKey = ca.keyPem;
    caAddedAt = now.toISOString();
    issuerIndex += 1;
    reasons.push(`CA expires ${newest.facts.notAfter.toISOString()}: new CA added to ca.crt`);
  }

  const issuer = cas[issuerIndex]!;
  const brokenNow = serving.notAfter <= now || issuer.facts.notAfter <= now;
  const missingSans =
    policy.dnsNames.filter((n) => !serving.dnsNames.includes(n)).length > 0 ||
    policy.ipAddresses.filter((ip) => !serving.ipAddresses.includes(ip)).length > 0;
  const aging = remainingValidityFraction(serving, now) < policy.renewBeforeFraction;
  const addedAt = caAddedAt !== undefined ? Date.parse(caAddedAt) : Number.NaN;
  const newCaPublished = Number.isNaN(addedAt) || now.getTime() - addedAt >= policy.caPropagationMs;
  const switchToNewCa = issuerIndex !== 0 && newCaPublished;
  if (brokenNow || missingSans || aging || switchToNewCa) {
    const dnsNames = union(serving.dnsNames, policy.dnsNames);
    const ipAddresses = union(serving.ipAddresses, policy.ipAddresses);
    const issued = await issueServingCertificate({
      ca: { certPem: cas[0]!.pem, keyPem: caKey },
      dnsNames,
      ipAddresses,
      now,
      validityMs: policy.servingValidityMs,
    });
    cert = issued.certPem;
    key = issued.keyPem;
    serving = inspectCertificate(cert)!;
    issuerIndex = 0;
    if (brokenNow) reasons.push('serving certificate or its CA has expired: reissued');
    if (missingSans) reasons.push(`serving certificate lacks wanted names: reissued for ${[...dnsNames, ...ipAddresses].join(', ')}`);
    if (aging) reasons.push(`serving certificate expires ${inspectCertificate(checked.material.cert)!.notAfter.toISOString()}: renewed`);
    if (switchToNewCa && !brokenNow && !aging && !missingSans) reasons.push('new CA published: serving certificate moved to it');
  }

  const kept = cas.filter((ca, i) => i === 0 || i === issuerIndex || ca.facts.notAfter > now);
  if (kept.length !== cas.length) reasons.push(`${cas.length - kept.length} expired CA(s) dropped from ca.crt`);

  const material: TlsMaterial = { caBundle: kept.map((ca) => ca.pem).join(''), caKey, cert, key };
  if (caAddedAt !== undefined) material.caAddedAt = caAddedAt;
  return reasons.length === 0 ? { action: 'keep', material: checked.material } : { action: 'write', material, reasons };
}

// ---------------------------------------------------------------------------------------------------

interface ParsedCa {
  pem: string;
  facts: CertificateFacts;
}

type CheckResult =
  | { ok: true; material: TlsMaterial; cas: ParsedCa[]; serving: CertificateFacts; issuerIndex: number }
  | { ok: false; reason: string };

function checkMaterial(current: Partial<TlsMaterial> | undefined): CheckResult {
  if (current === undefined) return { ok: false, reason: 'no TLS Secret yet: CA and serving certificate created' };
  const { caBundle, caKey, cert, key } = current;
  if (!caBundle || !caKey || !cert || !key) {
    return { ok: false, reason: 'TLS Secret incomplete (needs ca.crt, ca.key, tls.crt, tls.key): regenerated' };
  }
  const cas: ParsedCa[] = [];
  for (const pem of splitPemBundle(caBundle)) {
    const facts = inspectCertificate(pem);
    if (facts === undefined || !facts.isCA) return { ok: false, reason: 'ca.crt holds a certificate that is not a CA: regenerated' };
    cas.push({ pem, facts });
  }
  if (cas.length === 0) return { ok: false, reason: 'ca.crt holds no certificate: regenerated' };
  if (!keyMatchesCertificate(cas[0]!.pem, caKey)) return { ok: false, reason: 'ca.key does not match the first CA of ca.crt: regenerated' };
  const serving = inspectCertificate(cert);
  if (serving === undefined) return { ok: false, reason: 'tls.crt does not parse: regenerated' };
  if (!keyMatchesCertificate(cert, key)) return { ok: false, reason: 'tls.key does not match tls.crt: regenerated' };
  const issuerIndex = cas.findIndex((ca) => isSignedBy(cert, ca.pem));
  if (issuerIndex < 0) return { ok: false, reason: 'tls.crt is not signed by any CA in ca.crt: regenerated' };
  const material: TlsMaterial = { caBundle, caKey, cert, key };
  if (current.caAddedAt !== undefined) material.caAddedAt = current.caAddedAt;
  return { ok: true, material, cas, serving, issuerIndex };
}

async function freshMaterial(policy: TlsPolicy, now: Date): Promise<TlsMaterial> {
  const ca = await generateCertificateAuthority({ commonName: policy.caCommonName, now, validityMs: policy.caValidityMs });
  const serving = await issueServingCertificate({
    ca,
    dnsNames: policy.dnsNames,
    ipAddresses: policy.ipAddresses,
    now,
    validityMs: policy.servingValidityMs,
  });
  return { caBundle: ca.certPem, caKey: ca.keyPem, cert: serving.certPem, key: serving.keyPem, caAddedAt: now.toISOString() };
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}
