// The user docs cover what they promise: every chart value, every flag and environment variable of the
// controller and the webhook server, the original README's commands verbatim, and links that resolve.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { CONTROLLER_ENV, CONTROLLER_FLAGS } from '../../../src/config/controller-config.js';
import { WEBHOOK_ENV, WEBHOOK_FLAGS } from '../../../src/webhook/webhook-config.js';
import { CHART_DIR, ROOT } from '../../../hack/chart/helm-binary.js';

const DOCS = ['install.md', 'usage.md', 'flags.md', 'helm-parameters.md', 'design.md', 'operator.md', 'observability.md', 'private-images.md'];
const read = (name: string): string => fs.readFileSync(path.join(ROOT, 'docs', name), 'utf8');

/** Dotted paths of the leaves of a values tree; an empty map or any list is a leaf. */
function leafKeys(value: unknown, prefix = ''): string[] {
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

/** The section of flags.md about one program (from its heading to the next "## "). */
function section(doc: string, heading: string): string {
  const start = doc.indexOf(`## ${heading}`);
  expect(start, `section "## ${heading}"`).to.be.greaterThan(-1);
  const end = doc.indexOf('\n## ', start + 3);
  return doc.slice(start, end === -1 ? undefined : end);
}

describe('install: user docs', () => {
  it('documents every chart value in docs/helm-parameters.md', () => {
    const doc = read('helm-parameters.md');
    const values = parse(fs.readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    // maps documented as a whole (their defaults are listed in the row)
    const wholeMaps = /^(controller\.resources|webhookServer\.resources|podSecurityContext|securityContext|ingress)\./;
    const keys = leafKeys(values).filter((k) => !wholeMaps.test(k));
    const missing = keys.filter((k) => !doc.includes(`\`${k}\``));
    expect(missing, 'values keys missing from docs/helm-parameters.md').to.deep.equal([]);
    for (const k of ['controller.resources', 'webhookServer.resources', 'podSecurityContext', 'securityContext', 'ingress.enabled']) {
      expect(doc).to.contain(`\`${k}\``);
    }
  });

  it('documents every controller and webhook server flag and environment variable in docs/flags.md', () => {
    const doc = read('flags.md');
    const controller = section(doc, 'kubefledged-controller');
    const webhook = section(doc, 'kubefledged-webhook-server');
    expect(Object.keys(CONTROLLER_FLAGS).filter((f) => !controller.includes(`\`--${f}\``))).to.deep.equal([]);
    expect(Object.keys(CONTROLLER_ENV).filter((e) => !controller.includes(`\`${e}\``))).to.deep.equal([]);
    expect(Object.keys(WEBHOOK_FLAGS).filter((f) => !webhook.includes(`\`--${f}\``))).to.deep.equal([]);
    expect(Object.keys(WEBHOOK_ENV).filter((e) => !webhook.includes(`\`${e}\``))).to.deep.equal([]);
  });

  it('gives the original README commands verbatim in docs/usage.md (spec §1.8)', () => {
    const doc = read('usage.md');
    for (const cmd of [
      'kubectl create -f deploy/kubefledged-imagecache.yaml',
      'kubectl get imagecaches imagecache1 -n kube-fledged -o json',
      'kubectl edit imagecaches imagecache1 -n kube-fledged',
      'kubectl annotate imagecaches imagecache1 -n kube-fledged kubefledged.io/refresh-imagecache=',
      'kubectl annotate imagecaches imagecache1 -n kube-fledged kubefledged.io/purge-imagecache=',
      'kubectl delete imagecaches imagecache1 -n kube-fledged',
    ]) {
      expect(doc).to.contain(cmd);
    }
  });

  it('shows the three install paths, with helm install --verify', () => {
    const doc = read('install.md');
    for (const s of ['make deploy-using-yaml', 'make remove-kubefledged', 'helm install --verify --keyring', 'make chart-package', 'make deploy-using-operator', 'make remove-kubefledged-and-operator', 'npm run build', 'make release']) {
      expect(doc).to.contain(s);
    }
  });

  it('links only to files that exist', () => {
    for (const name of DOCS) {
      for (const m of read(name).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        expect(fs.existsSync(path.join(ROOT, 'docs', target)), `${name} links to ${target}`).to.equal(true);
      }
    }
  });
});
