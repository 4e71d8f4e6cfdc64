import { expect } from 'chai';
import {
  CLOCK_SKEW_MS,
  generateCertificateAuthority,
  inspectCertificate,
  isSignedBy,
  issueServingCertificate,
  keyMatchesCertificate,
  remainingValidityFraction,
  splitPemBundle,
} from '../../../src/webhook/tls-certificates.js';
import { planTlsMaterial, type TlsMaterial, type TlsPolicy } from '../../../src/webhook/tls-rotation-plan.js';

const DAY = 24 * 3600 * 1000;
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (days: number): Date => new Date(T0.getTime() + days * DAY);

const policy: TlsPolicy = {
  caCommonName: 'kubefledged-webhook-server-ca',
  caValidityMs: 300 * DAY,
  servingValidityMs: 30 * DAY,
  renewBeforeFraction: 1 / 3,
  caPropagationMs: 60_000,
  dnsNames: ['svc', 'svc.ns', 'svc.ns.svc'],
  ipAddresses: ['127.0.0.1'],
};

function written(plan: Awaited<ReturnType<typeof planTlsMaterial>>): TlsMaterial {
  expect(plan.action).to.equal('write');
  return plan.material;
}

describe('webhook/tls-certificates', function () {
  this.timeout(30_000);

  it('makes a CA and a serving certificate that Go-style clients accept (SANs, usages, chain)', async () => {
    const ca = await generateCertificateAuthority({ commonName: 'test-ca', now: T0, validityMs: 10 * DAY });
    const serving = await issueServingCertificate({ ca, dnsNames: ['a.b.svc'], ipAddresses: ['127.0.0.1', '::1'], now: T0, validityMs: 5 * DAY });
    const caFacts = inspectCertificate(ca.certPem)!;
    const facts = inspectCertificate(serving.certPem)!;
    expect(caFacts.isCA).to.equal(true);
    expect(facts.isCA).to.equal(false);
    expect(facts.dnsNames).to.deep.equal(['a.b.svc']);
    expect(facts.ipAddresses).to.deep.equal(['127.0.0.1', '0:0:0:0:0:0:0:1']);
    expect(isSignedBy(serving.certPem, ca.certPem)).to.equal(true);
    expect(isSignedBy(ca.certPem, serving.certPem)).to.equal(false);
    expect(keyMatchesCertificate(serving.certPem, serving.keyPem)).to.equal(true);
    expect(keyMatchesCertificate(serving.certPem, ca.keyPem)).to.equal(false);
    expect(facts.notBefore.getTime()).to.be.lessThan(T0.getTime()); // backdated for clock skew
    expect(facts.notAfter.getTime()).to.equal(at(5).getTime());
  });

  it('caps a serving certificate at the expiry of its CA', async () => {
    const ca = await generateCertificateAuthority({ commonName: 'c', now: T0, validityMs: 2 * DAY });
    const serving = await issueServingCertificate({ ca, dnsNames: ['x'], ipAddresses: [], now: T0, validityMs: 30 * DAY });
    expect(inspectCertificate(serving.certPem)!.notAfter.getTime()).to.equal(at(2).getTime());
  });

  it('refuses a serving certificate without names or with a bad IP', async () => {
    const ca = await generateCertificateAuthority({ commonName: 'c', now: T0, validityMs: DAY });
    await issueServingCertificate({ ca, dnsNames: [], ipAddresses: [], now: T0, validityMs: DAY }).then(
      () => expect.fail('accepted'),
      (err: Error) => expect(err.message).to.match(/at least one DNS name or IP/),
    );
    await issueServingCertificate({ ca, dnsNames: ['x'], ipAddresses: ['1.2.3'], now: T0, validityMs: DAY }).then(
      () => expect.fail('accepted'),
      (err: Error) => expect(err.message).to.match(/not an IP address/),
    );
  });

  it('answers undefined/false for garbage instead of throwing', () => {
    expect(inspectCertificate('garbage')).to.equal(undefined);
    expect(isSignedBy('x', 'y')).to.equal(false);
    expect(keyMatchesCertificate('x', 'y')).to.equal(false);
    expect(splitPemBundle('nothing here')).to.deep.equal([]);
  });

  it('computes the remaining validity fraction, not counting the clock-skew backdating', () => {
    const facts = { notBefore: new Date(at(0).getTime() - CLOCK_SKEW_MS), notAfter: at(30) } as Parameters<typeof remainingValidityFraction>[0];
    expect(remainingValidityFraction(facts, at(0))).to.equal(1);
    expect(remainingValidityFraction(facts, at(20))).to.be.closeTo(1 / 3, 1e-9);
    expect(remainingValidityFraction(facts, at(40))).to.equal(0);
    expect(remainingValidityFraction(facts, at(-5))).to.equal(1);
  });

  it('does not see a fresh short-lived certificate as due for renewal (60 s validity)', async () => {
    const ca = await generateCertificateAuthority({ commonName: 'c', now: T0, validityMs: 3600_000 });
    const serving = await issueServingCertificate({ ca, dnsNames: ['x'], ipAddresses: [], now: T0, validityMs: 60_000 });
    const facts = inspectCertificate(serving.certPem)!;
    expect(remainingValidityFraction(facts, T0)).to.equal(1);
    expect(remainingValidityFraction(facts, new Date(T0.getTime() + 45_000))).to.be.closeTo(0.25, 1e-9);
  });
});

describe('webhook/tls-rotation-plan', function () {
  this.timeout(60_000);
  let fresh: TlsMaterial;
  let other: TlsMaterial;

  before(async () => {
    fresh = written(await planTlsMaterial(undefined, policy, T0));
    other = written(await planTlsMaterial(undefined, policy, T0));
  });

  it('creates CA and serving certificate when there is no Secret', () => {
    const cas = splitPemBundle(fresh.caBundle);
    expect(cas).to.have.length(1);
    expect(isSignedBy(fresh.cert, cas[0]!)).to.equal(true);
    expect(keyMatchesCertificate(cas[0]!, fresh.caKey)).to.equal(true);
    expect(inspectCertificate(fresh.cert)!.dnsNames).to.deep.equal(policy.dnsNames);
    expect(inspectCertificate(fresh.cert)!.ipAddresses).to.deep.equal(['127.0.0.1']);
    expect(fresh.caAddedAt).to.equal(T0.toISOString());
  });

  it('keeps valid material untouched', async () => {
    const plan = await planTlsMaterial(fresh, policy, at(5));
    expect(plan).to.deep.equal({ action: 'keep', material: fresh });
  });

  for (const [what, broken, reason] of [
    ['an incomplete Secret', { caBundle: '', caKey: 'k', cert: 'c', key: 'k' }, /incomplete/],
    ['a CA key that does not match', { caKey: 'PLACEHOLDER' }, /ca\.key does not match/],
    ['a serving key that does not match', { key: 'PLACEHOLDER' }, /tls\.key does not match/],
    ['an unparsable serving certificate', { cert: 'garbage' }, /tls\.crt does not parse/],
    ['a serving certificate from a foreign CA', { cert: 'FOREIGN' }, /not signed by any CA/],
    ['a non-CA in ca.crt', { caBundle: 'LEAF' }, /not a CA/],
  ] as const) {
    it(`regenerates ${what}`, async () => {
      const patch: Partial<TlsMaterial> = { ...broken };
      if (patch.caKey === 'PLACEHOLDER') patch.caKey = other.caKey;
      if (patch.key === 'PLACEHOLDER') patch.key = other.key;
      if (patch.cert === 'FOREIGN') {
        patch.cert = other.cert;
        patch.key = other.key;
      }
      if (patch.caBundle === 'LEAF') patch.caBundle = fresh.cert;
      const plan = await planTlsMaterial({ ...fresh, ...patch }, policy, at(1));
      expect(plan.action).to.equal('write');
      if (plan.action === 'write') {
        expect(plan.reasons.join(';')).to.match(reason);
        expect(isSignedBy(plan.material.cert, splitPemBundle(plan.material.caBundle)[0]!)).to.equal(true);
      }
    });
  }

  it('renews the serving certificate when less than a third of its validity is left, keeping the CA', async () => {
    expect((await planTlsMaterial(fresh, policy, at(19))).action).to.equal('keep');
    const renewed = written(await planTlsMaterial(fresh, policy, at(21)));
    expect(renewed.caBundle).to.equal(fresh.caBundle);
    expect(renewed.caKey).to.equal(fresh.caKey);
    expect(renewed.cert).to.not.equal(fresh.cert);
    expect(inspectCertificate(renewed.cert)!.notAfter.getTime()).to.equal(at(51).getTime());
  });

  it('reissues for a newly wanted SAN, keeping the old ones (replicas agree)', async () => {
    const wider = written(await planTlsMaterial(fresh, { ...policy, dnsNames: ['other.example'], ipAddresses: ['10.0.0.1'] }, at(1)));
    const facts = inspectCertificate(wider.cert)!;
    expect(facts.dnsNames).to.include.members([...policy.dnsNames, 'other.example']);
    expect(facts.ipAddresses).to.include.members(['127.0.0.1', '10.0.0.1']);
    expect(wider.caBundle).to.equal(fresh.caBundle);
    expect((await planTlsMaterial(wider, policy, at(2))).action).to.equal('keep');
  });

  it('reissues immediately when the serving certificate has expired', async () => {
    const plan = await planTlsMaterial(fresh, { ...policy, renewBeforeFraction: 0 }, at(31));
    expect(plan.action).to.equal('write');
    if (plan.action === 'write') expect(plan.reasons.join(';')).to.match(/expired/);
  });

  it('rotates the CA in two phases: publish the new CA, then move the serving certificate after the propagation delay', async () => {
    // Keep the serving certificate young so only the CA ages: at day 199 it has expired and is reissued
    // (renewBeforeFraction 0 leaves the CA, 101/300 days left, alone).
    const day200 = written(await planTlsMaterial(fresh, { ...policy, renewBeforeFraction: 0 }, at(199)));
    const caBefore = splitPemBundle(day200.caBundle);
    expect(caBefore).to.have.length(1);

    // Day 201: the CA has < 1/3 of 300 days left -> a new CA is added in front; serving cert unchanged.
    const phase1 = written(await planTlsMaterial(day200, policy, at(201)));
    const bundle1 = splitPemBundle(phase1.caBundle);
    expect(bundle1).to.have.length(2);
    expect(bundle1[1]).to.equal(caBefore[0]);
    expect(phase1.cert).to.equal(day200.cert);
    expect(isSignedBy(phase1.cert, bundle1[1]!)).to.equal(true);
    expect(keyMatchesCertificate(bundle1[0]!, phase1.caKey)).to.equal(true);
    expect(phase1.caAddedAt).to.equal(at(201).toISOString());

    // Within the propagation delay: nothing to do.
    expect((await planTlsMaterial(phase1, policy, new Date(at(201).getTime() + 30_000))).action).to.equal('keep');

    // After it: the serving certificate moves to the new CA; the old CA stays trusted.
    const phase2 = written(await planTlsMaterial(phase1, policy, new Date(at(201).getTime() + 61_000)));
    const bundle2 = splitPemBundle(phase2.caBundle);
    expect(bundle2).to.deep.equal(bundle1);
    expect(isSignedBy(phase2.cert, bundle2[0]!)).to.equal(true);

    // Once the old CA has expired it is dropped.
    const late = written(await planTlsMaterial(phase2, { ...policy, renewBeforeFraction: 0 }, at(301)));
    expect(splitPemBundle(late.caBundle)).to.deep.equal([bundle2[0]]);
  });
});
