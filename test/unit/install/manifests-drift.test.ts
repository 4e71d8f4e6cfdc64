// One source of truth: deploy/ is the chart's rendering (make manifests) and both CRD copies are the
// CRD of crds/ byte for byte (make sync-crds). Any hand edit of deploy/ or of a copy fails here.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import {
  CRD_COPIES,
  CRD_SOURCE,
  STATIC_FILES,
  driftedFiles,
  manifestFileName,
  plainManifests,
  renderChart,
} from '../../../hack/chart/render-manifests.js';
import { ROOT } from '../../../hack/chart/helm-binary.js';
import { helm, parseObjects } from './support/chart.js';

const DEPLOY = path.join(ROOT, 'deploy');

/** The file names of the original kube-fledged deploy/ folder (spec §5.2). */
const ORIGINAL_FILES = [
  'kubefledged-namespace.yaml',
  'kubefledged-crd.yaml',
  'kubefledged-serviceaccount-controller.yaml',
  'kubefledged-clusterrole-controller.yaml',
  'kubefledged-clusterrolebinding-controller.yaml',
  'kubefledged-deployment-controller.yaml',
  'kubefledged-serviceaccount-webhook-server.yaml',
  'kubefledged-clusterrole-webhook-server.yaml',
  'kubefledged-clusterrolebinding-webhook-server.yaml',
  'kubefledged-deployment-webhook-server.yaml',
  'kubefledged-service-webhook-server.yaml',
  'kubefledged-validatingwebhook.yaml',
  'kubefledged-imagecache.yaml',
];

describe('install: one source of truth for deploy/ and the CRD', function () {
  this.timeout(60_000);
  let rendered: Map<string, string>;

  before(() => {
    rendered = plainManifests(renderChart(helm()));
  });

  it('keeps both CRD copies identical to crds/imagecaches.kubefledged.io.yaml', () => {
    const source = fs.readFileSync(CRD_SOURCE, 'utf8');
    for (const copy of CRD_COPIES) {
      expect(fs.readFileSync(copy, 'utf8') === source, `${path.relative(ROOT, copy)} differs from crds/: run "make sync-crds"`).to.equal(true);
    }
  });

  it('keeps every deploy/ manifest equal to the chart rendering (run "make manifests" after changing the chart)', () => {
    expect(driftedFiles(DEPLOY, rendered), 'drifted files').to.deep.equal([]);
  });

  it('has no file in deploy/ that the chart does not render, besides the CRD copy and the sample', () => {
    const expected = new Set([...rendered.keys(), ...STATIC_FILES]);
    const entries = fs.readdirSync(DEPLOY, { withFileTypes: true });
    const extra = entries.filter((d) => d.isFile() && !expected.has(d.name)).map((d) => d.name);
    expect(extra).to.deep.equal([]);
    // the one folder: the operator's files (test/unit/kfoperator checks them)
    expect(entries.filter((d) => !d.isFile()).map((d) => d.name)).to.deep.equal(['kubefledged-operator']);
  });

  it('keeps the original file names, with the original object names in namespace kube-fledged', () => {
    const present = fs.readdirSync(DEPLOY);
    expect(present).to.include.members(ORIGINAL_FILES);
    const byFile: Record<string, [string, string]> = {
      'kubefledged-clusterrole-controller.yaml': ['ClusterRole', 'kubefledged-controller'],
      'kubefledged-deployment-controller.yaml': ['Deployment', 'kubefledged-controller'],
      'kubefledged-serviceaccount-controller.yaml': ['ServiceAccount', 'kubefledged-controller'],
      'kubefledged-deployment-webhook-server.yaml': ['Deployment', 'kubefledged-webhook-server'],
      'kubefledged-service-webhook-server.yaml': ['Service', 'kubefledged-webhook-server'],
      'kubefledged-validatingwebhook.yaml': ['ValidatingWebhookConfiguration', 'kubefledged-webhook-server'],
      'kubefledged-namespace.yaml': ['Namespace', 'kube-fledged'],
    };
    for (const [file, [kind, name]] of Object.entries(byFile)) {
      const o = parse(fs.readFileSync(path.join(DEPLOY, file), 'utf8')) as { kind: string; metadata: { name: string; namespace?: string } };
      expect([o.kind, o.metadata.name], file).to.deep.equal([kind, name]);
      if (kind === 'Deployment' || kind === 'Service' || kind === 'ServiceAccount') expect(o.metadata.namespace, file).to.equal('kube-fledged');
    }
  });

  it('selects pods with the original labels app=kubefledged,kubefledged=kubefledged-<component> and carries no Helm label', () => {
    for (const [file, content] of rendered) {
      if (file === 'kubefledged-crd.yaml') continue;
      expect(content, file).not.to.match(/helm\.sh\/chart|managed-by: Helm/);
    }
    const d = parse(rendered.get('kubefledged-deployment-controller.yaml')!) as { spec: { selector: { matchLabels: unknown } } };
    expect(d.spec.selector.matchLabels).to.deep.equal({ app: 'kubefledged', kubefledged: 'kubefledged-controller' });
  });

  it('ships the sample ImageCache of the original (spec §1.7)', () => {
    const [sample] = parseObjects(fs.readFileSync(path.join(DEPLOY, 'kubefledged-imagecache.yaml'), 'utf8'));
    expect(sample).to.deep.equal({
      apiVersion: 'kubefledged.io/v1alpha2',
      kind: 'ImageCache',
      metadata: { name: 'imagecache1', namespace: 'kube-fledged', labels: { app: 'kubefledged', kubefledged: 'imagecache' } },
      spec: {
        cacheSpec: [
          { images: ['ghcr.io/jitesoft/nginx:1.23.1'] },
          { images: ['us.gcr.io/k8s-artifacts-prod/cassandra:v7', 'us.gcr.io/k8s-artifacts-prod/etcd:3.5.4-0'], nodeSelector: { tier: 'backend' } },
        ],
        imagePullSecrets: [{ name: 'myregistrykey' }],
      },
    });
  });

  it('detects drift: a changed chart value yields a different deploy/ file', () => {
    const changed = plainManifests(renderChart(helm(), { set: ['args.controllerImageCacheRefreshFrequency=5m'] }));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-drift-'));
    try {
      for (const [name, content] of rendered) fs.writeFileSync(path.join(tmp, name), content);
      expect(driftedFiles(tmp, changed)).to.deep.equal(['kubefledged-deployment-controller.yaml']);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('names files after kind and component, the webhook configuration as in the original', () => {
    expect(manifestFileName('ClusterRoleBinding', 'webhook-server')).to.equal('kubefledged-clusterrolebinding-webhook-server.yaml');
    expect(manifestFileName('ValidatingWebhookConfiguration', 'webhook-server')).to.equal('kubefledged-validatingwebhook.yaml');
  });

  it('refuses a rendered object without the component label', () => {
    expect(() => plainManifests('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n')).to.throw(/ConfigMap x has no "kubefledged: kubefledged-<component>" label/);
  });
});
