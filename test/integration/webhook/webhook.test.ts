// The webhook behind the real kube-apiserver: the server (src/cmd/webhook-server.ts, as a child process
// on 127.0.0.1) registers a ValidatingWebhookConfiguration by URL, scoped by namespaceSelector to this
// test's namespace only, with the CA of its self-managed TLS Secret. kubectl create/edit/patch go
// through it. Everything created here is deleted in after(). Proves: bad objects refused with the
// message naming the field (the stored object left intact), edits and annotations admitted while the
// cache is Processing, objects stored before a rule existed still annotatable and editable.

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { WebhookMessage } from '../../../src/api/constants.js';
import { generateCertificateAuthority, splitPemBundle } from '../../../src/webhook/tls-certificates.js';
import { buildValidatingWebhookConfiguration } from '../../../src/webhook/webhook-configuration.js';
import { ROOT, adminKubeConfig, createNamespace, deleteNamespace, eventually, kubeconfigPath, kubectl, uniqueName } from '../../support/cluster.js';
import { freePort, httpsGet, servedFingerprint, startWebhookProcess, type WebhookProcess } from './webhook-process.js';

const execFileAsync = promisify(execFile);
const DENIED = 'admission webhook "validate-image-cache.kubefledged.io" denied the request: ';

interface Ic {
  metadata: { name: string; generation?: number; resourceVersion?: string; annotations?: Record<string, string>; labels?: Record<string, string>; finalizers?: string[] };
  spec: { cacheSpec: { images: string[]; nodeSelector?: Record<string, string> }[]; imagePullSecrets?: { name?: string }[] };
  status?: { status?: string };
}

/** The text of a kubectl or client-node failure (client-node keeps the server's answer in `body`). */
function errorText(err: unknown): string {
  const e = err as { message?: string; body?: unknown };
  let body = e.body;
  for (let i = 0; i < 2 && typeof body === 'string'; i++) {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      break;
    }
  }
  const status = body as { message?: unknown } | undefined;
  const detail = typeof status?.message === 'string' ? status.message : JSON.stringify(body ?? '');
  return `${e.message ?? String(err)} ${detail}`;
}
const RETRYABLE = /has been modified|Operation cannot be fulfilled|the object has been modified/;

function imageCache(name: string, namespace: string, cacheSpec: unknown[], imagePullSecrets?: unknown[]): string {
  const spec = imagePullSecrets === undefined ? { cacheSpec } : { cacheSpec, imagePullSecrets };
  return JSON.stringify({ apiVersion: 'kubefledged.io/v1alpha2', kind: 'ImageCache', metadata: { name, namespace }, spec });
}

async function expectDenied(action: Promise<unknown>, message: string | RegExp): Promise<void> {
  let error: Error | undefined;
  try {
    await action;
  } catch (err) {
    error = err as Error;
  }
  expect(error, 'the request was admitted').to.not.equal(undefined);
  if (typeof message === 'string') expect(error!.message).to.include(`${DENIED}${message}`);
  else expect(error!.message).to.match(message);
}

describe('webhook behind the real kube-apiserver', function () {
  this.timeout(300_000);
  const processes: WebhookProcess[] = [];
  const secrets: string[] = [];
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let custom: k8s.CustomObjectsApi;
  let admission: k8s.AdmissionregistrationV1Api;
  let ns = '';
  let vwcName = '';
  let secretName = '';
  let webhook: WebhookProcess;
  let tmp = '';

  const get = async (name: string): Promise<Ic> => JSON.parse(await kubectl(['get', 'imagecache', name, '-n', ns, '-o', 'json'])) as Ic;
  const caBundleOfSecret = async (name = secretName): Promise<string> => {
    const s = await core.readNamespacedSecret({ name, namespace: ns });
    return Buffer.from(s.data!['ca.crt']!, 'base64').toString();
  };
  const caBundleOfVwc = async (): Promise<string> => {
    const v = await admission.readValidatingWebhookConfiguration({ name: vwcName });
    return v.webhooks![0]!.clientConfig.caBundle ?? '';
  };
  // Nothing here waits for a cache to be idle: no rule depends on status.status any more. A write
  // conflict (a controller elsewhere writing the same object) is retried.
  const retryingConflicts = async <T>(action: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await action();
      } catch (err) {
        if (attempt >= 10 || !RETRYABLE.test(errorText(err))) throw err;
      }
    }
  };
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
  const ref = (name: string) => ({ group: 'kubefledged.io', version: 'v1alpha2', plural: 'imagecaches', namespace: ns, name });
  const setStatus = async (name: string, status: string): Promise<void> => {
    await custom.patchNamespacedCustomObjectStatus(
      {
        ...ref(name),
        body: { status: { status, reason: 'ImageCacheCreate', message: 'Images are being pulled on to the nodes. Please view the status after some time', startTime: new Date().toISOString() } },
      },
      mergePatch,
    );
  };
  /** True once the webhook refuses an invalid create in this namespace (an admitted probe is deleted again). */
  const webhookDenies = async (probe: string): Promise<boolean> => {
    if (webhook.child.exitCode !== null) throw new Error(`webhook exited: ${webhook.output()}`);
    try {
      await kubectl(['create', '-f', '-'], imageCache(probe, ns, [{ images: [] }]));
      await kubectl(['delete', 'imagecache', probe, '-n', ns, '--wait=false']);
      return false;
    } catch (err) {
      return (err as Error).message.includes(DENIED);
    }
  };
  /** The object is stored exactly as before: same generation, same spec. */
  const intact = async (before: Ic): Promise<void> => {
    const now = await get(before.metadata.name);
    expect(now.metadata.generation).to.equal(before.metadata.generation);
    expect(now.spec).to.deep.equal(before.spec);
  };
  const absent = async (name: string): Promise<void> => {
    const list = JSON.parse(await kubectl(['get', 'imagecaches', '-n', ns, '-o', 'json'])) as { items: Ic[] };
    expect(list.items.map((i) => i.metadata.name)).to.not.include(name);
  };

  /** kubectl edit with an "editor" that applies a sed expression to the file. */
  const kubectlEdit = async (name: string, sedExpression: string): Promise<void> => {
    const editor = path.join(tmp, `editor-${Date.now()}.sh`);
    await writeFile(editor, `#!/bin/sh\nsed -i '${sedExpression}' "$1"\n`);
    await chmod(editor, 0o755);
    try {
      // TMPDIR: kubectl keeps a copy of a refused edit there (removed with tmp)
      await execFileAsync('kubectl', ['--kubeconfig', kubeconfigPath(), 'edit', 'imagecache', name, '-n', ns], { env: { ...process.env, EDITOR: editor, KUBE_EDITOR: editor, TMPDIR: tmp } });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`kubectl edit failed: ${e.stderr ?? e.message}`, { cause: err });
    }
  };

  before(async () => {
    kc = adminKubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    tmp = await mkdtemp(path.join(tmpdir(), 'kf-webhook-it-'));
    await kubectl(['apply', '-f', path.join(ROOT, 'crds', 'imagecaches.kubefledged.io.yaml')]);
    await kubectl(['wait', '--for', 'condition=established', '--timeout=60s', 'crd/imagecaches.kubefledged.io']);
    ns = await createNamespace(core, 'kf-webhook-it');
    vwcName = uniqueName('kf-webhook-it');
    secretName = `${vwcName}-tls`;
    secrets.push(secretName);
    const port = await freePort();
    webhook = await startWebhookProcess(
      [
        `--tls-secret-namespace=${ns}`,
        `--tls-secret-name=${secretName}`,
        `--webhook-config-name=${vwcName}`,
        `--webhook-url=https://127.0.0.1:${port}/validate-image-cache`,
        `--namespace-selector=kubernetes.io/metadata.name=${ns}`,
        '--ca-bundle-sync-period=500ms',
      ],
      port,
    );
    processes.push(webhook);
    await eventually('the webhook to be registered and answering the API server', () => webhookDenies('probe'), 60_000, 300);
  });

  after(async () => {
    for (const p of processes) await p.stop();
    try {
      await admission.deleteValidatingWebhookConfiguration({ name: vwcName });
    } catch {
      // already gone
    }
    for (const name of secrets) {
      try {
        await core.deleteNamespacedSecret({ name, namespace: ns });
      } catch {
        // already gone
      }
    }
    if (ns !== '') await deleteNamespace(core, ns);
    if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  });

  it('keeps the CA and serving certificate in a kubernetes.io/tls Secret and the caBundle equal to its ca.crt', async () => {
    const s = await core.readNamespacedSecret({ name: secretName, namespace: ns });
    expect(s.type).to.equal('kubernetes.io/tls');
    expect(Object.keys(s.data!)).to.include.members(['ca.crt', 'tls.crt', 'tls.key', 'ca.key']);
    expect(await caBundleOfVwc()).to.equal(Buffer.from(await caBundleOfSecret()).toString('base64'));
    const vwc = await admission.readValidatingWebhookConfiguration({ name: vwcName });
    const w = vwc.webhooks![0]!;
    expect(w.rules![0]!.resources).to.deep.equal(['imagecaches']);
    expect(w.namespaceSelector).to.deep.equal({ matchLabels: { 'kubernetes.io/metadata.name': ns } });
    const ready = await httpsGet(webhook.port, '/readyz', await caBundleOfSecret());
    expect(ready).to.deep.equal({ status: 200, body: 'ok' });
  });

  describe('kubectl create', () => {
    it('denies an empty image list with the original message', () =>
      expectDenied(kubectl(['create', '-f', '-'], imageCache('empty', ns, [{ images: [] }])), WebhookMessage.NoImages));
    it('denies a duplicate image with the original message', () =>
      expectDenied(kubectl(['create', '-f', '-'], imageCache('dup', ns, [{ images: ['nginx:1.27', 'nginx:1.27'] }])), 'Duplicate image names within image list: nginx:1.27'));
    it('denies an invalid image reference naming the field and the image', () =>
      expectDenied(
        kubectl(['create', '-f', '-'], imageCache('bad', ns, [{ images: ['nginx:1.27'] }, { images: ['Foo Bar'] }])),
        `spec.cacheSpec[1].images[0]: invalid image reference "Foo Bar": it contains whitespace`,
      ));
    it('denies a shell injection attempt', () =>
      expectDenied(kubectl(['create', '-f', '-'], imageCache('inject', ns, [{ images: ['nginx;reboot'] }])), /invalid image reference "nginx;reboot": it contains the shell metacharacter ";"/));
    it('denies an empty cacheSpec', () =>
      expectDenied(kubectl(['create', '-f', '-'], imageCache('none', ns, [])), 'spec.cacheSpec: no image lists specified'));
    it('admits a valid ImageCache', async () => {
      await kubectl(['create', '-f', '-'], imageCache('good', ns, [{ images: ['nginx:1.27', 'docker.io/library/redis@sha256:' + 'a'.repeat(64)] }, { images: ['busybox'], nodeSelector: { tier: 'backend' } }]));
      expect((await get('good')).spec.cacheSpec).to.have.length(2);
    });
  });

  describe('kubectl edit / patch of an existing ImageCache', () => {
    let original: Ic;
    before(async () => {
      await kubectl(['create', '-f', '-'], imageCache('edited', ns, [{ images: ['nginx:1.27'] }, { images: ['redis:7'], nodeSelector: { tier: 'backend' } }]));
      original = await get('edited');
    });


    it('kubectl edit changing a node selector is denied and the object stays intact', async () => {
      await expectDenied(retryingConflicts(() => kubectlEdit('edited', 's/tier: backend/tier: frontend/')), WebhookMessage.MismatchNodeSelector);
      await intact(original);
    });
    it('kubectl edit putting in an invalid image is denied and the object stays intact', async () => {
      await expectDenied(retryingConflicts(() => kubectlEdit('edited', 's/nginx:1.27/Bad Image/')), 'spec.cacheSpec[0].images[0]: invalid image reference "Bad Image"');
      await intact(original);
    });
    it('kubectl patch adding an image list is denied and the object stays intact', async () => {
      await expectDenied(
        retryingConflicts(() => kubectl(['patch', 'imagecache', 'edited', '-n', ns, '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/spec/cacheSpec/-', value: { images: ['x:1'] } }])])),
        WebhookMessage.MismatchImageLists,
      );
      await intact(original);
    });
    it('kubectl patch emptying a list is denied', async () => {
      await expectDenied(retryingConflicts(() => kubectl(['patch', 'imagecache', 'edited', '-n', ns, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/cacheSpec/0/images', value: [] }])])), WebhookMessage.NoImages);
      await intact(original);
    });
    it('kubectl edit adding an image is admitted', async () => {
      await retryingConflicts(() => kubectlEdit('edited', 's/- nginx:1.27/- nginx:1.27\\n    - nginx:1.26/'));
      const now = await get('edited');
      expect(now.spec.cacheSpec[0]!.images).to.deep.equal(['nginx:1.27', 'nginx:1.26']);
    });
  });

  describe('while the cache is Processing: nothing is refused for timing', () => {
    before(async () => {
      await kubectl(['create', '-f', '-'], imageCache('busy', ns, [{ images: ['nginx:1.27'] }]));
    });
    const patchSpec = (ops: unknown[]) => async (): Promise<Ic> => (await custom.patchNamespacedCustomObject({ ...ref('busy'), body: ops }, jsonPatch)) as Ic;
    const annotate = (key: string, value: string | null) => async (): Promise<Ic> =>
      (await custom.patchNamespacedCustomObject({ ...ref('busy'), body: { metadata: { annotations: { [key]: value } } } }, mergePatch)) as Ic;
    /**
     * Writes status Processing through the status subresource, then `action`, which must be admitted
     * while the stored status is still Processing (the answer carries the stored status). If something
     * else rewrote the status in between, the round is repeated.
     */
    const admittedWhileProcessing = async (action: () => Promise<Ic>): Promise<Ic> => {
      for (let round = 1; round <= 10; round++) {
        await setStatus('busy', 'Processing');
        const admitted = await retryingConflicts(action);
        if (admitted.status?.status === 'Processing') return admitted;
      }
      return expect.fail('the status never stayed Processing across one update (10 rounds)');
    };

    it('admits a spec edit, and the status written through /status stays Processing', async () => {
      const admitted = await admittedWhileProcessing(patchSpec([{ op: 'add', path: '/spec/cacheSpec/0/images/-', value: 'redis:7' }]));
      expect(admitted.spec.cacheSpec[0]!.images).to.deep.equal(['nginx:1.27', 'redis:7']);
      const stored = await get('busy');
      expect(stored.spec.cacheSpec[0]!.images).to.deep.equal(['nginx:1.27', 'redis:7']);
      expect(stored.status?.status).to.equal('Processing');
    });
    it('admits the refresh annotation', async () => {
      const admitted = await admittedWhileProcessing(annotate('kubefledged.io/refresh-imagecache', ''));
      expect(admitted.metadata.annotations).to.have.property('kubefledged.io/refresh-imagecache', '');
    });
    it('admits the purge annotation beside it (the controller decides: purge wins over refresh)', async () => {
      const admitted = await admittedWhileProcessing(annotate('kubefledged.io/purge-imagecache', ''));
      expect(admitted.metadata.annotations).to.include({ 'kubefledged.io/refresh-imagecache': '', 'kubefledged.io/purge-imagecache': '' });
    });
    it('admits kubectl edit and kubectl annotate too', async () => {
      await setStatus('busy', 'Processing');
      await kubectlEdit('busy', 's/- redis:7/- redis:7\\n    - busybox:1.36/');
      await kubectl(['annotate', 'imagecache', 'busy', '-n', ns, '--overwrite', 'kubefledged.io/refresh-imagecache=again']);
      const stored = await get('busy');
      expect(stored.spec.cacheSpec[0]!.images).to.deep.equal(['nginx:1.27', 'redis:7', 'busybox:1.36']);
      expect(stored.metadata.annotations).to.have.property('kubefledged.io/refresh-imagecache', 'again');
      expect(stored.status?.status).to.equal('Processing');
    });
    it('still refuses an edit that breaks a rule, with that rule and not a timing message', async () => {
      await setStatus('busy', 'Processing');
      const before = await get('busy');
      await expectDenied(
        kubectl(['patch', 'imagecache', 'busy', '-n', ns, '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/spec/cacheSpec/-', value: { images: ['x:1'] } }])]),
        WebhookMessage.MismatchImageLists,
      );
      await intact(before);
    });
  });

  describe('nodeSelector labels and imagePullSecrets', () => {
    let stored: Ic;
    before(async () => {
      await kubectl(['create', '-f', '-'], imageCache('secrets', ns, [{ images: ['nginx:1.27'], nodeSelector: { 'kubernetes.io/arch': 'amd64' } }], [{ name: 'regcred' }]));
      stored = await get('secrets');
      expect(stored.spec.imagePullSecrets).to.deep.equal([{ name: 'regcred' }]);
    });

    it('kubectl create with a bad label key is refused naming the field, and nothing is stored', async () => {
      await expectDenied(
        kubectl(['create', '-f', '-'], imageCache('bad-key', ns, [{ images: ['nginx:1.27'] }, { images: ['redis:7'], nodeSelector: { 'bad key': 'x' } }])),
        /denied the request: spec\.cacheSpec\[1\]\.nodeSelector: invalid label key "bad key": .*; fix: use \[prefix\/\]name/,
      );
      await absent('bad-key');
    });
    it('kubectl create with a bad label value is refused naming the key', async () => {
      await expectDenied(
        kubectl(['create', '-f', '-'], imageCache('bad-value', ns, [{ images: ['nginx:1.27'], nodeSelector: { tier: 'back end' } }])),
        /denied the request: spec\.cacheSpec\[0\]\.nodeSelector\["tier"\]: invalid label value "back end": .*; fix: /,
      );
      await absent('bad-value');
    });
    it('kubectl create with a bad pull Secret name is refused naming the field, and nothing is stored', async () => {
      await expectDenied(
        kubectl(['create', '-f', '-'], imageCache('bad-secret', ns, [{ images: ['nginx:1.27'] }], [{ name: 'regcred' }, { name: 'Reg_Cred' }])),
        /denied the request: spec\.imagePullSecrets\[1\]\.name: invalid Secret name "Reg_Cred": .*; fix: use the Secret's name/,
      );
      await absent('bad-secret');
    });
    it('kubectl create with a pull Secret entry without a name is refused', async () => {
      await expectDenied(
        kubectl(['create', '-f', '-'], imageCache('no-name', ns, [{ images: ['nginx:1.27'] }], [{}])),
        /denied the request: spec\.imagePullSecrets\[0\]\.name: missing; fix: name a Secret in the ImageCache's namespace/,
      );
      await absent('no-name');
    });
    it('kubectl edit putting in a bad pull Secret name is refused and the stored object is unchanged', async () => {
      await expectDenied(retryingConflicts(() => kubectlEdit('secrets', 's/name: regcred/name: Reg_Cred/')), /spec\.imagePullSecrets\[0\]\.name: invalid Secret name "Reg_Cred"/);
      await intact(stored);
    });
    it('kubectl patch putting a bad key into the selector is refused with the label message and the stored object is unchanged', async () => {
      await expectDenied(
        kubectl(['patch', 'imagecache', 'secrets', '-n', ns, '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/spec/cacheSpec/0/nodeSelector/bad key', value: 'x' }])]),
        /spec\.cacheSpec\[0\]\.nodeSelector: invalid label key "bad key"/,
      );
      await intact(stored);
    });
    it('kubectl patch making imagePullSecrets a list of strings is refused by the API server (CRD schema) before the webhook', async () => {
      await expectDenied(
        kubectl(['patch', 'imagecache', 'secrets', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { imagePullSecrets: ['regcred'] } })]),
        /spec\.imagePullSecrets\[0\]: Invalid value: "string"/,
      );
      await intact(stored);
    });

    describe('an object stored before the rules (webhook bypassed while it was created)', () => {
      const selectNamespace = async (name: string): Promise<void> => {
        await kubectl(['patch', 'validatingwebhookconfiguration', vwcName, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/webhooks/0/namespaceSelector', value: { matchLabels: { 'kubernetes.io/metadata.name': name } } }])]);
      };
      let legacy: Ic;
      before(async () => {
        await selectNamespace(`${ns}-nobody`);
        await eventually('the legacy object stored without the webhook', async () => {
          try {
            await kubectl(['create', '-f', '-'], imageCache('legacy', ns, [{ images: ['nginx:1.27'], nodeSelector: { 'bad key': 'x' } }], [{ name: 'Reg_Cred' }]));
            return true;
          } catch {
            return false;
          }
        }, 30_000, 200);
        await selectNamespace(ns);
        await eventually('the webhook judging this namespace again', () => webhookDenies('probe-again'), 30_000, 200);
        legacy = await get('legacy');
      });

      it('stays annotatable, labellable and its finalizers editable (unchanged spec)', async () => {
        await kubectl(['annotate', 'imagecache', 'legacy', '-n', ns, 'kubefledged.io/purge-imagecache=']);
        await kubectl(['label', 'imagecache', 'legacy', '-n', ns, 'team=a']);
        await kubectl(['patch', 'imagecache', 'legacy', '-n', ns, '--type=merge', '-p', JSON.stringify({ metadata: { finalizers: ['example.com/hold'] } })]);
        await kubectl(['patch', 'imagecache', 'legacy', '-n', ns, '--type=merge', '-p', JSON.stringify({ metadata: { finalizers: null } })]);
        const now = await get('legacy');
        expect(now.metadata.annotations).to.have.property('kubefledged.io/purge-imagecache');
        expect(now.metadata.labels).to.include({ team: 'a' });
        expect(now.spec).to.deep.equal(legacy.spec);
      });
      it('an edit that adds an image must fix the Secret name, and may keep the selector (it cannot change anyway)', async () => {
        await expectDenied(
          kubectl(['patch', 'imagecache', 'legacy', '-n', ns, '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/spec/cacheSpec/0/images/-', value: 'redis:7' }])]),
          /spec\.imagePullSecrets\[0\]\.name: invalid Secret name "Reg_Cred"/,
        );
        await intact(legacy);
        await kubectl(['patch', 'imagecache', 'legacy', '-n', ns, '--type=json', '-p', JSON.stringify([
          { op: 'add', path: '/spec/cacheSpec/0/images/-', value: 'redis:7' },
          { op: 'replace', path: '/spec/imagePullSecrets/0/name', value: 'reg-cred' },
        ])]);
        const now = await get('legacy');
        expect(now.spec).to.deep.equal({ cacheSpec: [{ images: ['nginx:1.27', 'redis:7'], nodeSelector: { 'bad key': 'x' } }], imagePullSecrets: [{ name: 'reg-cred' }] });
      });
      it('is deletable', async () => {
        await kubectl(['delete', 'imagecache', 'legacy', '-n', ns]);
        await absent('legacy');
      });
    });
  });

  describe('after the operation has finished', () => {
    it('admits the refresh annotation', async () => {
      await kubectl(['create', '-f', '-'], imageCache('done', ns, [{ images: ['nginx:1.27'] }]));
      await setStatus('done', 'Succeeded');
      await kubectl(['annotate', 'imagecache', 'done', '-n', ns, '--overwrite', 'kubefledged.io/refresh-imagecache=']);
      expect((await get('done')).metadata.annotations).to.have.property('kubefledged.io/refresh-imagecache', '');
    });
  });

  describe('caBundle upkeep', () => {
    it('repairs a caBundle blanked by hand within seconds', async () => {
      const want = Buffer.from(await caBundleOfSecret()).toString('base64');
      await kubectl(['patch', 'validatingwebhookconfiguration', vwcName, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/webhooks/0/clientConfig/caBundle', value: '' }])]);
      const started = Date.now();
      expect(await caBundleOfVwc()).to.not.equal(want);
      await eventually('caBundle repaired', async () => (await caBundleOfVwc()) === want, 15_000, 100);
      const repairMs = Date.now() - started;
      console.log(`      caBundle repaired ${repairMs} ms after it was blanked`);
      await eventually('the webhook answering again', () => webhookDenies('after-repair'), 15_000, 200);
    });

    it('repairs a kubectl apply that restores a stale caBundle (the helm upgrade case)', async () => {
      const stale = await generateCertificateAuthority({ commonName: 'stale', now: new Date(), validityMs: 3600_000 });
      const manifest = buildValidatingWebhookConfiguration({
        name: vwcName,
        url: `https://127.0.0.1:${webhook.port}/validate-image-cache`,
        caBundle: stale.certPem,
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
      });
      await kubectl(['apply', '-f', '-'], JSON.stringify(manifest));
      expect(await caBundleOfVwc()).to.equal(Buffer.from(stale.certPem).toString('base64'));
      const want = Buffer.from(await caBundleOfSecret()).toString('base64');
      await eventually('caBundle repaired after apply', async () => (await caBundleOfVwc()) === want, 15_000, 100);
    });
  });

  describe('replicas', () => {
    const replicas: WebhookProcess[] = [];
    const name = `${uniqueName('kf-webhook-it')}-shared`;
    after(async () => {
      for (const r of replicas) await r.stop();
    });

    it('two replicas starting together share one CA and one serving certificate, and both pick up its renewal without a restart', async () => {
      secrets.push(name);
      const args = [`--tls-secret-namespace=${ns}`, `--tls-secret-name=${name}`, '--reconcile-ca-bundle=false', '--extra-san=127.0.0.1', '--ca-bundle-sync-period=500ms', '--certificate-validity=15s', '--ca-validity=1h'];
      const started = await Promise.all([startWebhookProcess(args), startWebhookProcess(args)]);
      replicas.push(...started);
      processes.push(...started);
      const ca = await eventually('the shared Secret', async () => {
        try {
          return await caBundleOfSecret(name);
        } catch {
          return undefined;
        }
      }, 60_000);
      expect(splitPemBundle(ca)).to.have.length(1);
      const fingerprints = await eventually('both replicas serving', async () => {
        const f = await Promise.all(started.map((r) => servedFingerprint(r.port, ca)));
        return f;
      }, 60_000, 300);
      expect(fingerprints[0]).to.equal(fingerprints[1]);
      // Renewal: with 15 s validity the certificate is renewed when less than 5 s are left.
      const renewed = await eventually('a renewed certificate served by both', async () => {
        const f = await Promise.all(started.map((r) => servedFingerprint(r.port, ca)));
        return f[0] !== fingerprints[0] && f[0] === f[1] ? f[0] : undefined;
      }, 90_000, 500);
      expect(renewed).to.not.equal(fingerprints[0]);
      expect(await caBundleOfSecret(name)).to.equal(ca);
      for (const r of started) expect(r.child.exitCode).to.equal(null);
    });
  });

  describe('webhook down', () => {
    it('status subresource writes still succeed; spec writes are refused (failurePolicy Fail)', async () => {
      await kubectl(['create', '-f', '-'], imageCache('status-writes', ns, [{ images: ['nginx:1.27'] }]));
      expect(await webhook.stop()).to.equal(0);
      // The controller's StatusWriter merge-patches /status through client-node.
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      await custom.patchNamespacedCustomObjectStatus(
        {
          group: 'kubefledged.io',
          version: 'v1alpha2',
          plural: 'imagecaches',
          namespace: ns,
          name: 'status-writes',
          body: { status: { status: 'Processing', reason: 'ImageCacheCreate', message: 'm', startTime: new Date().toISOString() } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await kubectl(['patch', 'imagecache', 'status-writes', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { status: 'Succeeded' } })]);
      expect(JSON.parse(await kubectl(['get', 'imagecache', 'status-writes', '-n', ns, '-o', 'json'])).status.status).to.equal('Succeeded');
      await expectDenied(kubectl(['create', '-f', '-'], imageCache('while-down', ns, [{ images: ['nginx:1.27'] }])), /failed calling webhook "validate-image-cache.kubefledged.io"/);
    });
  });
});
