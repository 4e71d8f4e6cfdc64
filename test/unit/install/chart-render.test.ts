// The chart renders what the original's users expect (names, values keys, flags) plus the fixes and
// additions of this implementation; every value changes what it says it changes.
import { expect } from 'chai';
import { parseControllerConfig } from '../../../src/config/controller-config.js';
import { parseWebhookConfig } from '../../../src/webhook/webhook-config.js';
import { container, one, podSpec, render, type K8sObject } from './support/chart.js';

const DEFAULT_CONTROLLER_ARGS = [
  '--stderrthreshold=INFO',
  '--image-pull-deadline-duration=5m',
  '--image-cache-refresh-frequency=15m',
  '--image-pull-policy=IfNotPresent',
  '--image-delete-job-host-network=false',
  '--job-retention-policy=delete',
  '--max-images-per-job=50',
  '--workers=4',
  '--node-watch=true',
  '--watch-thread=never',
  '--leader-elect=true',
  '--leader-elect-resource-name=kube-fledged-controller',
  '--leader-elect-lease-duration=15s',
  '--leader-elect-renew-deadline=10s',
  '--leader-elect-retry-period=2s',
  '--metrics-bind-address=:8080',
];

function names(objects: K8sObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
}

function envOf(deployment: K8sObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of container(deployment).env ?? []) out[e.name] = e.value ?? JSON.stringify(e.valueFrom);
  return out;
}

describe('install: chart rendering', function () {
  this.timeout(60_000);

  it('renders the default install: controller and webhook server with RBAC, Services, PDBs, TLS Secret and webhook configuration', async () => {
    const { objects } = await render();
    expect(names(objects)).to.deep.equal(
      [
        'ClusterRole/kube-fledged-controller',
        'ClusterRole/kube-fledged-webhook-server',
        'ClusterRoleBinding/kube-fledged-controller',
        'ClusterRoleBinding/kube-fledged-webhook-server',
        'Deployment/kube-fledged-controller',
        'Deployment/kube-fledged-webhook-server',
        'Lease/kube-fledged-controller',
        'PodDisruptionBudget/kube-fledged-controller',
        'PodDisruptionBudget/kube-fledged-webhook-server',
        'Role/kube-fledged-controller',
        'Role/kube-fledged-webhook-server',
        'RoleBinding/kube-fledged-controller',
        'RoleBinding/kube-fledged-webhook-server',
        'Secret/kube-fledged-webhook-server-cert',
        'Service/kube-fledged-controller-metrics',
        'Service/kube-fledged-webhook-server',
        'ServiceAccount/kube-fledged-controller',
        'ServiceAccount/kube-fledged-webhook-server',
        'ValidatingWebhookConfiguration/kube-fledged-webhook-server',
      ].sort(),
    );
    for (const o of objects) {
      expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).to.include({ app: 'kubefledged', 'app.kubernetes.io/name': 'kube-fledged' });
      if (!['ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration'].includes(o.kind)) {
        expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).to.equal('kube-fledged');
      }
    }
  });

  it('names objects <release>-kube-fledged-* for another release name and honours fullnameOverride', async () => {
    const a = await render({}, 'cache');
    expect(one(a.objects, 'Deployment', '-controller').metadata.name).to.equal('cache-kube-fledged-controller');
    const b = await render({ fullnameOverride: 'kf' }, 'cache');
    expect(one(b.objects, 'Deployment', '-controller').metadata.name).to.equal('kf-controller');
    expect(one(b.objects, 'ValidatingWebhookConfiguration').metadata.name).to.equal('kf-webhook-server');
  });

  it('passes the original flags from args.* and the flags of this implementation, which the controller accepts', async () => {
    const { objects } = await render();
    const c = container(one(objects, 'Deployment', '-controller'));
    expect(c.command).to.deep.equal(['/opt/bin/kubefledged-controller']);
    expect(c.args).to.deep.equal(DEFAULT_CONTROLLER_ARGS);
    expect(c.image).to.equal('docker.io/kubefledgedts/kube-fledged:v0.11.0');
    const parsed = parseControllerConfig(c.args!, { KUBEFLEDGED_NAMESPACE: 'kube-fledged' });
    expect(parsed).to.have.property('config');
  });

  it('starts the webhook server with self-managed TLS in the chart Secret, for its Service and webhook configuration', async () => {
    const { objects } = await render({ webhookServer: { tls: { certificateValidity: '720h', caValidity: '8760h' } } });
    const c = container(one(objects, 'Deployment', '-webhook-server'));
    expect(c.command).to.deep.equal(['/opt/bin/kubefledged-webhook-server']);
    expect(c.args).to.deep.equal([
      '--stderrthreshold=INFO',
      '--port=8443',
      '--tls-secret-name=kube-fledged-webhook-server-cert',
      '--service-name=kube-fledged-webhook-server',
      '--webhook-config-name=kube-fledged-webhook-server',
      '--certificate-validity=720h',
      '--ca-validity=8760h',
    ]);
    const parsed = parseWebhookConfig(c.args!, { KUBEFLEDGED_NAMESPACE: 'kube-fledged' });
    if (!('config' in parsed)) throw new Error('expected a config');
    expect(parsed.config).to.deep.include({
      tlsMode: 'managed',
      port: 8443,
      tlsSecretName: 'kube-fledged-webhook-server-cert',
      tlsSecretNamespace: 'kube-fledged',
      webhookConfigName: 'kube-fledged-webhook-server',
      reconcileCaBundle: true,
      certificateValidityMs: 720 * 3600_000,
      logLevel: 'info',
    });
    expect(parsed.config.dnsNames).to.include('kube-fledged-webhook-server.kube-fledged.svc');
    expect(envOf(one(objects, 'Deployment', '-webhook-server'))).to.deep.equal({
      KUBEFLEDGED_NAMESPACE: JSON.stringify({ fieldRef: { fieldPath: 'metadata.namespace' } }),
    });
  });

  it('starts the webhook server on the mounted certificate files with cert-manager, which it accepts', async () => {
    const { objects } = await render({
      webhookServer: { certManager: { enabled: true } },
      args: { webhookServerCertFile: '/certs/server.crt', webhookServerKeyFile: '/certs/server.key', webhookServerPort: 9443 },
      webhookService: { targetPort: 9443 },
    });
    const d = one(objects, 'Deployment', '-webhook-server');
    const c = container(d);
    expect(c.args).to.deep.equal(['--stderrthreshold=INFO', '--port=9443', '--cert-file=/certs/server.crt', '--key-file=/certs/server.key']);
    const parsed = parseWebhookConfig(c.args!, {});
    expect(parsed).to.have.nested.property('config.tlsMode', 'files');
    expect(c.volumeMounts).to.deep.include({ name: 'certkey-volume', mountPath: '/certs', readOnly: true });
    expect(podSpec(d).volumes).to.deep.include({
      name: 'certkey-volume',
      secret: { secretName: 'kube-fledged-webhook-server-cert', items: [{ key: 'tls.crt', path: 'server.crt' }, { key: 'tls.key', path: 'server.key' }] },
    });
  });

  it('renders every optional controller flag when its value is set, each accepted by the controller', async () => {
    const { objects } = await render({
      args: {
        controllerLogLevel: 'WARNING',
        controllerImagePullDeadlineDuration: '30m',
        controllerImageCacheRefreshFrequency: '0s',
        controllerImagePullPolicy: 'Always',
        controllerServiceAccountName: 'puller',
        controllerImageDeleteJobHostNetwork: true,
        controllerJobPriorityClassName: 'low',
        controllerJobRetentionPolicy: 'retain',
        controllerCRISocketPath: '/run/k3s/containerd/containerd.sock',
        controllerJobsMaxSurge: 20,
        controllerMaxImagesPerJob: 10,
        controllerWorkers: 2,
        controllerNodeWatch: false,
        controllerWatchThread: 'always',
      },
      controller: { leaderElection: { enabled: false }, metricsPort: 9090 },
    });
    const c = container(one(objects, 'Deployment', '-controller'));
    expect(c.args).to.deep.equal([
      '--stderrthreshold=WARNING',
      '--image-pull-deadline-duration=30m',
      '--image-cache-refresh-frequency=0s',
      '--image-pull-policy=Always',
      '--service-account-name=puller',
      '--image-delete-job-host-network=true',
      '--job-priority-class-name=low',
      '--job-retention-policy=retain',
      '--cri-socket-path=/run/k3s/containerd/containerd.sock',
      '--jobs-max-surge=20',
      '--max-images-per-job=10',
      '--workers=2',
      '--node-watch=false',
      '--watch-thread=always',
      '--leader-elect=false',
      '--metrics-bind-address=:9090',
    ]);
    const parsed = parseControllerConfig(c.args!, {});
    if (!('config' in parsed)) throw new Error('expected a config');
    expect(parsed.config).to.include({
      imagePullDeadlineMs: 30 * 60_000,
      imageCacheRefreshFrequencyMs: 0,
      imagePullPolicy: 'Always',
      serviceAccountName: 'puller',
      imageDeleteJobHostNetwork: true,
      jobRetentionPolicy: 'retain',
      jobsMaxSurge: 20,
      watchThread: 'always',
      leaderElect: false,
      metricsBindAddress: ':9090',
    });
    expect(c.ports).to.deep.equal([{ name: 'metrics', containerPort: 9090, protocol: 'TCP' }]);
    expect(objects.filter((o) => (o.kind === 'Role' || o.kind === 'Lease') && o.metadata.name.endsWith('-controller'))).to.have.length(0);
  });

  it('omits the retention policy flag when the value is empty (the controller defaults to delete)', async () => {
    const { objects } = await render({ args: { controllerJobRetentionPolicy: '' } });
    const args = container(one(objects, 'Deployment', '-controller')).args!;
    expect(args.some((a) => a.startsWith('--job-retention-policy'))).to.equal(false);
  });

  it('changes exactly one controller flag for helm upgrade --set args.controllerImageCacheRefreshFrequency=5m', async () => {
    const before = container(one((await render()).objects, 'Deployment', '-controller')).args!;
    const after = container(one((await render({ args: { controllerImageCacheRefreshFrequency: '5m' } })).objects, 'Deployment', '-controller')).args!;
    const changed = after.filter((a, i) => a !== before[i]);
    expect(changed).to.deep.equal(['--image-cache-refresh-frequency=5m']);
  });

  it('sets the controller environment of the original: namespace from the pod, cri-client and busybox images', async () => {
    const { objects } = await render({ image: { tag: 'v9.9.9', busyboxImageRepository: 'mirror/busybox', busyboxImageVersion: '1.36' } });
    const d = one(objects, 'Deployment', '-controller');
    expect(envOf(d)).to.deep.equal({
      KUBEFLEDGED_NAMESPACE: JSON.stringify({ fieldRef: { fieldPath: 'metadata.namespace' } }),
      POD_NAME: JSON.stringify({ fieldRef: { fieldPath: 'metadata.name' } }),
      KUBEFLEDGED_CRI_CLIENT_IMAGE: 'docker.io/kubefledgedts/kube-fledged:v9.9.9',
      BUSYBOX_IMAGE: 'mirror/busybox:1.36',
    });
    expect(container(d).image).to.equal('docker.io/kubefledgedts/kube-fledged:v9.9.9');
    expect(container(one(objects, 'Deployment', '-webhook-server')).image).to.equal('docker.io/kubefledgedts/kube-fledged:v9.9.9');
  });

  it('renders hostNetwork and priorityClassName as valid pod spec fields (#192) on both Deployments', async () => {
    const { objects } = await render({
      controller: { hostNetwork: true, priorityClassName: 'system-cluster-critical' },
      webhookServer: { hostNetwork: true, priorityClassName: 'high' },
      controllerReplicaCount: 2,
    });
    const c = podSpec(one(objects, 'Deployment', '-controller'));
    expect(c).to.include({ hostNetwork: true, priorityClassName: 'system-cluster-critical', dnsPolicy: 'ClusterFirstWithHostNet' });
    const w = podSpec(one(objects, 'Deployment', '-webhook-server'));
    expect(w).to.include({ hostNetwork: true, priorityClassName: 'high', dnsPolicy: 'ClusterFirstWithHostNet' });
  });

  it('uses controllerReplicaCount and webhookServerReplicaCount', async () => {
    const { objects } = await render({ controllerReplicaCount: 2, webhookServerReplicaCount: 3 });
    expect(one(objects, 'Deployment', '-controller')).to.have.nested.property('spec.replicas', 2);
    expect(one(objects, 'Deployment', '-webhook-server')).to.have.nested.property('spec.replicas', 3);
  });

  it('applies imagePullSecrets, nodeSelector, tolerations, affinity and the pull policy to both Deployments', async () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }] } } };
    const { objects } = await render({
      imagePullSecrets: [{ name: 'regcred' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }],
      affinity,
      image: { pullPolicy: 'IfNotPresent' },
    });
    for (const suffix of ['-controller', '-webhook-server']) {
      const spec = podSpec(one(objects, 'Deployment', suffix));
      expect(spec.imagePullSecrets).to.deep.equal([{ name: 'regcred' }]);
      expect(spec.nodeSelector).to.deep.equal({ 'kubernetes.io/os': 'linux' });
      expect(spec.tolerations).to.deep.equal([{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }]);
      expect(spec.affinity).to.deep.equal(affinity);
      expect(spec.containers[0]).to.have.property('imagePullPolicy', 'IfNotPresent');
    }
  });

  it('gives each container its own resources unless the top-level resources replaces both', async () => {
    const d = await render();
    expect(container(one(d.objects, 'Deployment', '-controller')).resources).to.deep.equal({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(container(one(d.objects, 'Deployment', '-webhook-server')).resources).to.deep.equal({ requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } });
    const top = { requests: { cpu: '1', memory: '1Gi' } };
    const o = await render({ resources: top });
    expect(container(one(o.objects, 'Deployment', '-controller')).resources).to.deep.equal(top);
    expect(container(one(o.objects, 'Deployment', '-webhook-server')).resources).to.deep.equal(top);
  });

  it('probes the controller on /healthz and /readyz of its metrics port, the webhook server over HTTPS', async () => {
    const { objects } = await render();
    const c = container(one(objects, 'Deployment', '-controller'));
    expect(c.livenessProbe).to.deep.include({ httpGet: { path: '/healthz', port: 'metrics' } });
    expect(c.readinessProbe).to.deep.include({ httpGet: { path: '/readyz', port: 'metrics' } });
    const w = container(one(objects, 'Deployment', '-webhook-server'));
    expect(w.livenessProbe).to.deep.include({ httpGet: { scheme: 'HTTPS', path: '/healthz', port: 'webhook-server' } });
    expect(w.readinessProbe).to.deep.include({ httpGet: { scheme: 'HTTPS', path: '/readyz', port: 'webhook-server' } });
    expect(w.ports).to.deep.equal([{ name: 'webhook-server', containerPort: 8443, protocol: 'TCP' }]);
  });

  it('renders the ValidatingWebhookConfiguration of the original (spec §4.4) without a caBundle, on imagecaches only', async () => {
    const { objects } = await render({ webhookServer: { namespaceSelector: { matchLabels: { team: 'a' } } } });
    const vwc = one(objects, 'ValidatingWebhookConfiguration') as unknown as { webhooks: Record<string, unknown>[] };
    expect(vwc.webhooks).to.have.length(1);
    const hook = vwc.webhooks[0]!;
    expect(hook).to.deep.include({
      name: 'validate-image-cache.kubefledged.io',
      failurePolicy: 'Fail',
      sideEffects: 'None',
      timeoutSeconds: 5,
      namespaceSelector: { matchLabels: { team: 'a' } },
      clientConfig: { service: { namespace: 'kube-fledged', name: 'kube-fledged-webhook-server', path: '/validate-image-cache', port: 3443 } },
      rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['kubefledged.io'], apiVersions: ['v1alpha2'], resources: ['imagecaches'], scope: 'Namespaced' }],
    });
    expect(hook.admissionReviewVersions).to.include.members(['v1', 'v1beta1']);
    expect(JSON.stringify(vwc)).not.to.contain('caBundle');
  });

  it('routes the webhook Service (port 3443) to the server port, and names it webhookService.name when set', async () => {
    const { objects } = await render({ webhookService: { name: 'kf-hook', port: 4443 } });
    const svc = one(objects, 'Service', 'kf-hook') as unknown as { spec: { ports: unknown[] } };
    expect(svc.spec.ports).to.deep.equal([{ name: 'webhook-server', port: 4443, targetPort: 'webhook-server', protocol: 'TCP' }]);
    const vwc = one(objects, 'ValidatingWebhookConfiguration');
    expect(vwc).to.have.nested.property('webhooks[0].clientConfig.service.name', 'kf-hook');
    expect(vwc).to.have.nested.property('webhooks[0].clientConfig.service.port', 4443);
  });

  it('owns the leader election Lease without a spec, so that uninstall removes it and upgrades keep its holder', async () => {
    const { objects } = await render();
    const lease = one(objects, 'Lease', '-controller');
    expect(lease.metadata.namespace).to.equal('kube-fledged');
    expect(lease).not.to.have.property('spec');
    const args = container(one(objects, 'Deployment', '-controller')).args!;
    expect(args).to.include(`--leader-elect-resource-name=${lease.metadata.name}`);
  });

  it('keeps the webhook TLS Secret empty and marked for the webhook server to fill', async () => {
    const { objects } = await render();
    const secret = one(objects, 'Secret', '-webhook-server-cert');
    expect(secret).to.include({ type: 'Opaque' });
    expect(secret).not.to.have.property('data');
    expect(secret).not.to.have.property('stringData');
    expect(secret.metadata.labels).to.include({ 'app.kubernetes.io/managed-by': 'kubefledged-webhook-server' });
  });

  it('installs no webhook object at all with webhookServer.enable=false', async () => {
    const { objects } = await render({ webhookServer: { enable: false } });
    const webhook = objects.filter((o) => o.metadata.labels?.kubefledged === 'kubefledged-webhook-server');
    expect(webhook.map((o) => o.kind)).to.deep.equal([]);
    expect(objects.map((o) => o.kind)).not.to.include('ValidatingWebhookConfiguration');
  });

  it('with webhookServer.certManager.enabled: a self-signed Issuer, a Certificate, CA injection and the certificate mounted', async () => {
    const { objects } = await render({ webhookServer: { certManager: { enabled: true } } });
    const issuer = one(objects, 'Issuer', '-webhook-server-selfsigned') as unknown as { spec: unknown };
    expect(issuer.spec).to.deep.equal({ selfSigned: {} });
    const cert = one(objects, 'Certificate', '-webhook-server-cert') as unknown as { spec: Record<string, unknown> };
    expect(cert.spec).to.deep.include({
      secretName: 'kube-fledged-webhook-server-cert',
      issuerRef: { name: 'kube-fledged-webhook-server-selfsigned', kind: 'Issuer' },
      dnsNames: [
        'kube-fledged-webhook-server',
        'kube-fledged-webhook-server.kube-fledged',
        'kube-fledged-webhook-server.kube-fledged.svc',
        'kube-fledged-webhook-server.kube-fledged.svc.cluster.local',
      ],
    });
    const vwc = one(objects, 'ValidatingWebhookConfiguration');
    expect(vwc.metadata.annotations).to.deep.equal({ 'cert-manager.io/inject-ca-from': 'kube-fledged/kube-fledged-webhook-server-cert' });
    // cert-manager owns the Secret; the webhook server needs no API access at all.
    expect(objects.filter((o) => o.kind === 'Secret')).to.have.length(0);
    expect(objects.filter((o) => /Role/.test(o.kind) && o.metadata.name.endsWith('-webhook-server'))).to.have.length(0);
    const d = one(objects, 'Deployment', '-webhook-server');
    expect(podSpec(d).automountServiceAccountToken).to.equal(false);
    expect(container(d).volumeMounts).to.deep.include({ name: 'certkey-volume', mountPath: '/var/run/secrets/webhook-server', readOnly: true });
    expect(podSpec(d).volumes).to.deep.include({
      name: 'certkey-volume',
      secret: { secretName: 'kube-fledged-webhook-server-cert', items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] },
    });
  });

  it('uses the given cert-manager issuer instead of creating one', async () => {
    const { objects } = await render({ webhookServer: { certManager: { enabled: true, issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' } } } });
    expect(objects.filter((o) => o.kind === 'Issuer')).to.have.length(0);
    expect(one(objects, 'Certificate')).to.have.nested.property('spec.issuerRef.name', 'corp-ca');
  });

  it('renders a ServiceMonitor on the metrics Service when asked', async () => {
    const { objects } = await render({ metrics: { serviceMonitor: { enabled: true, labels: { release: 'prom' } } } });
    const sm = one(objects, 'ServiceMonitor') as unknown as { metadata: { labels: Record<string, string> }; spec: { selector: { matchLabels: Record<string, string> }; endpoints: unknown[] } };
    expect(sm.metadata.labels).to.include({ release: 'prom' });
    const svc = one(objects, 'Service', '-controller-metrics');
    expect(svc.metadata.labels).to.include(sm.spec.selector.matchLabels);
    expect(sm.spec.endpoints).to.deep.equal([{ port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
  });

  for (const plainManifestSelectors of [false, true]) {
    it(`selects its own pods from Services, PDBs and Deployments (plainManifestSelectors=${plainManifestSelectors})`, async () => {
      const { objects } = await render({ plainManifestSelectors });
      for (const component of ['controller', 'webhook-server']) {
        const d = one(objects, 'Deployment', `-${component}`) as unknown as {
          spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } };
        };
        const podLabels = d.spec.template.metadata.labels;
        expect(podLabels).to.include(d.spec.selector.matchLabels);
        const otherPods = one(objects, 'Deployment', component === 'controller' ? '-webhook-server' : '-controller') as unknown as typeof d;
        expect(otherPods.spec.template.metadata.labels).not.to.include(d.spec.selector.matchLabels);
        const selectors = objects
          .filter((o) => o.metadata.labels?.kubefledged === `kubefledged-${component}` && (o.kind === 'Service' || o.kind === 'PodDisruptionBudget'))
          .map((o) => (o.kind === 'Service' ? (o as unknown as { spec: { selector: Record<string, string> } }).spec.selector : (o as unknown as { spec: { selector: { matchLabels: Record<string, string> } } }).spec.selector.matchLabels));
        expect(selectors).to.have.length(2);
        for (const s of selectors) expect(podLabels).to.include(s);
      }
      if (plainManifestSelectors) {
        expect(one(objects, 'Deployment', '-controller')).to.have.deep.nested.property('spec.selector.matchLabels', { app: 'kubefledged', kubefledged: 'kubefledged-controller' });
      }
    });
  }

  describe('refuses bad values with a message naming the value', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['a duration that is not a Go duration', { args: { controllerImageCacheRefreshFrequency: '5min' } }, /controllerImageCacheRefreshFrequency/],
      ['a misspelt args key', { args: { controllerImageCacheRefreshFreqency: '5m' } }, /controllerImageCacheRefreshFreqency/],
      ['an unknown image pull policy', { args: { controllerImagePullPolicy: 'Sometimes' } }, /controllerImagePullPolicy/],
      ['an unknown retention policy', { args: { controllerJobRetentionPolicy: 'keep' } }, /controllerJobRetentionPolicy/],
      ['a negative replica count', { controllerReplicaCount: -1 }, /controllerReplicaCount/],
      ['a webhook port out of range', { args: { webhookServerPort: 70000 } }, /webhookServerPort/],
      ['a Service target port other than the server port', { webhookService: { targetPort: 443 } }, /webhookService.targetPort \(443\) must equal args.webhookServerPort \(8443\)/],
      ['a ServiceMonitor without the metrics Service', { metrics: { service: { enabled: false }, serviceMonitor: { enabled: true } } }, /metrics.service.enabled=true/],
      ['cert-manager without the webhook', { webhookServer: { enable: false, certManager: { enabled: true } } }, /webhookServer.enable=true/],
      [
        'certificate files in two directories with cert-manager',
        { webhookServer: { certManager: { enabled: true } }, args: { webhookServerCertFile: '/a/tls.crt', webhookServerKeyFile: '/b/tls.key' } },
        /args.webhookServerCertFile \(\/a\/tls.crt\) and args.webhookServerKeyFile \(\/b\/tls.key\) must be in the same directory/,
      ],
      ['an unknown TLS setting', { webhookServer: { tls: { renewBefore: '720h' } } }, /renewBefore/],
    ];
    for (const [what, values, message] of cases) {
      it(what, async () => {
        let error: Error | undefined;
        try {
          await render(values);
        } catch (err) {
          error = err as Error;
        }
        expect(error, 'helm template should have failed').to.be.instanceOf(Error);
        expect(error!.message).to.match(message);
      });
    }
  });
});
