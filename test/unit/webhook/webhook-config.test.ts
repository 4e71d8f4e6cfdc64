import { expect } from 'chai';
import { FlagError } from '../../../src/config/flag-parser.js';
import { parseWebhookConfig, serviceDnsNames, webhookHelp, WEBHOOK_FLAGS, type WebhookConfig } from '../../../src/webhook/webhook-config.js';

function parse(argv: string[], env: Record<string, string> = {}): WebhookConfig {
  const result = parseWebhookConfig(argv, env);
  if ('help' in result) throw new Error('unexpected help');
  return result.config;
}

function flagError(argv: string[], flag: string | undefined, pattern: RegExp, env: Record<string, string> = {}): void {
  try {
    parseWebhookConfig(argv, env);
  } catch (err) {
    expect(err).to.be.instanceOf(FlagError);
    expect((err as FlagError).flag).to.equal(flag);
    expect((err as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`accepted ${argv.join(' ')}`);
}

describe('webhook/webhook-config (flags)', () => {
  it('has the original defaults: port 443, self-managed TLS in kube-fledged, stderrthreshold ERROR', () => {
    const c = parse([]);
    expect(c.port).to.equal(443);
    expect(c.tlsMode).to.equal('managed');
    expect(c.tlsSecretNamespace).to.equal('kube-fledged');
    expect(c.tlsSecretName).to.equal('kubefledged-webhook-server-tls');
    expect(c.webhookConfigName).to.equal('kubefledged-webhook-server');
    expect(c.serviceName).to.equal('kubefledged-webhook-server');
    expect(c.dnsNames).to.deep.equal(serviceDnsNames('kubefledged-webhook-server', 'kube-fledged'));
    expect(c.dnsNames).to.include('kubefledged-webhook-server.kube-fledged.svc');
    expect(c.ipAddresses).to.deep.equal([]);
    expect(c.reconcileCaBundle).to.equal(true);
    expect(c.caBundleSyncPeriodMs).to.equal(2000);
    expect(c.logLevel).to.equal('error');
    expect(c.failurePolicy).to.equal('Fail');
    expect(c.timeoutSeconds).to.equal(5);
  });

  it('accepts the original manifest args (Go flag syntax, single and double dash)', () => {
    const c = parse(['--stderrthreshold=INFO', '--cert-file=/var/run/secrets/webhook-server/tls.crt', '-key-file', '/k', '-port=443']);
    expect(c.tlsMode).to.equal('files');
    expect(c.certFile).to.equal('/var/run/secrets/webhook-server/tls.crt');
    expect(c.keyFile).to.equal('/k');
    expect(c.reconcileCaBundle).to.equal(false);
    expect(c.logLevel).to.equal('info');
  });

  it('reads KUBEFLEDGED_NAMESPACE, WEBHOOK_SERVER_SERVICE and VALIDATING_WEBHOOK_CONFIG (the original init container\'s env)', () => {
    const c = parse([], { KUBEFLEDGED_NAMESPACE: 'kf', WEBHOOK_SERVER_SERVICE: 'svc', VALIDATING_WEBHOOK_CONFIG: 'vwc' });
    expect(c.tlsSecretNamespace).to.equal('kf');
    expect(c.serviceName).to.equal('svc');
    expect(c.webhookConfigName).to.equal('vwc');
    expect(c.dnsNames).to.deep.equal(['svc', 'svc.kf', 'svc.kf.svc', 'svc.kf.svc.cluster.local']);
    expect(parse(['--webhook-config-name=x'], { VALIDATING_WEBHOOK_CONFIG: 'vwc' }).webhookConfigName).to.equal('x');
  });

  it('puts the --webhook-url host and --extra-san values into the certificate names', () => {
    const c = parse([
      '--webhook-url=https://127.0.0.1:8443/validate-image-cache',
      '--namespace-selector=kubernetes.io/metadata.name=t1',
      '--extra-san=webhook.example.com',
      '--extra-san=::1',
      '--unregister-on-exit',
    ]);
    expect(c.ipAddresses).to.deep.equal(['::1', '127.0.0.1']);
    expect(c.dnsNames).to.include('webhook.example.com');
    expect(c.namespaceSelector).to.deep.equal({ matchLabels: { 'kubernetes.io/metadata.name': 't1' } });
    expect(c.unregisterOnExit).to.equal(true);
  });

  const bad: [string[], string | undefined, RegExp][] = [
    [['--port=abc'], 'port', /invalid value "abc" for flag -port/],
    [['--port=70000'], 'port', /must be <= 65535/],
    [['--cert-file=/c'], 'key-file', /-key-file is required when -cert-file is given/],
    [['--key-file=/k'], 'cert-file', /-cert-file is required/],
    [['--cert-file=/c', '--key-file=/k', '--manage-tls'], 'manage-tls', /not with -cert-file/],
    [['--manage-tls=false'], 'manage-tls', /needs -cert-file and -key-file/],
    [['--cert-file=/c', '--key-file=/k', '--init-server'], 'init-server', /self-managed TLS Secret/],
    [['--stderrthreshold=LOUD'], 'stderrthreshold', /must be one of INFO, WARNING, ERROR, FATAL/],
    [['--webhook-url=http://127.0.0.1/x'], 'webhook-url', /https/],
    [['--webhook-url=not a url'], 'webhook-url', /not a URL/],
    [['--namespace-selector=a=b'], 'namespace-selector', /only applies with -webhook-url/],
    [['--webhook-url=https://x/y', '--namespace-selector=a!=b'], 'namespace-selector', /not of the form key=value/],
    [['--tls-secret-name=Bad_Name'], 'tls-secret-name', /DNS subdomain/],
    [['--ca-bundle-sync-period=10ms'], 'ca-bundle-sync-period', /at least 100ms/],
    [['--certificate-validity=10000h', '--ca-validity=100h'], 'certificate-validity', /must not exceed -ca-validity/],
    [['--extra-san=a b'], 'extra-san', /DNS name or an IP/],
    [['--nope'], 'nope', /flag provided but not defined: -nope/],
    [['extra'], undefined, /unexpected argument "extra"/],
  ];
  for (const [argv, flag, pattern] of bad) {
    it(`rejects ${argv.join(' ')} naming ${flag ?? 'the argument'}`, () => flagError(argv, flag, pattern));
  }
  it('rejects a bad namespace from the environment naming the flag', () =>
    flagError([], 'tls-secret-namespace', /invalid value "Bad NS"/, { KUBEFLEDGED_NAMESPACE: 'Bad NS' }));

  it('prints help listing every flag with its default, and the environment', () => {
    const result = parseWebhookConfig(['--help'], {});
    expect(result).to.have.property('help');
    const help = webhookHelp();
    for (const name of Object.keys(WEBHOOK_FLAGS)) expect(help).to.include(`  -${name} `);
    expect(help).to.match(/-port int\n.*\(default 443\)/);
    expect(help).to.include('KUBEFLEDGED_NAMESPACE');
  });
});
