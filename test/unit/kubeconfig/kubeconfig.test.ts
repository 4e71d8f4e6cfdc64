import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadKubeConfig, normaliseMasterUrl } from '../../../src/kube/kubeconfig.js';

function kubeconfigYaml(name: string, server: string, current = name): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: ${server}
users:
- name: ${name}-user
  user:
    token: t-${name}
contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: ${name}-user
current-context: ${current}
`;
}

describe('kube/kubeconfig', () => {
  let dir: string;
  let home: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-kubeconfig-'));
    home = path.join(dir, 'home');
    fs.mkdirSync(home);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function write(file: string, text: string): string {
    const p = path.join(dir, file);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
  }

  it('--kubeconfig wins over in-cluster, KUBECONFIG and ~/.kube/config', () => {
    const flag = write('flag.yaml', kubeconfigYaml('flag', 'https://flag:6443'));
    write('home/.kube/config', kubeconfigYaml('home', 'https://home:6443'));
    const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443', KUBECONFIG: write('env.yaml', kubeconfigYaml('env', 'https://env:6443')) };
    const kc = loadKubeConfig({ kubeconfig: flag, master: '' }, { env, homeDir: home });
    expect(kc.getCurrentCluster()?.server).to.equal('https://flag:6443');
  });

  it('a missing --kubeconfig file is a clear error', () => {
    expect(() => loadKubeConfig({ kubeconfig: path.join(dir, 'nope') }, { env: {}, homeDir: home })).to.throw(
      /--kubeconfig .*nope does not exist\. Pass --kubeconfig=<file>, set KUBECONFIG/,
    );
  });

  it('an unparsable file names the file', () => {
    const bad = write('bad.yaml', 'clusters: [ {');
    expect(() => loadKubeConfig({ kubeconfig: bad }, { env: {} })).to.throw(/cannot load --kubeconfig .*bad\.yaml/);
  });

  it('in a pod: the service account (token, CA, server from KUBERNETES_SERVICE_HOST/PORT)', () => {
    write('sa/var/run/secrets/kubernetes.io/serviceaccount/token', 'tok');
    write('sa/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', 'ca');
    write('sa/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'kube-fledged');
    const kc = loadKubeConfig(
      {},
      { env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, homeDir: home, inClusterPathPrefix: path.join(dir, 'sa') },
    );
    expect(kc.getCurrentCluster()?.server).to.equal('https://10.96.0.1:443');
  });

  it('in a pod: IPv6 service host and plain-http port', () => {
    write('sa/var/run/secrets/kubernetes.io/serviceaccount/token', 'tok');
    const kc = loadKubeConfig(
      {},
      { env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '8080' }, inClusterPathPrefix: path.join(dir, 'sa') },
    );
    expect(kc.getCurrentCluster()?.server).to.equal('http://[fd00::1]:8080');
  });

  it('in a pod without KUBERNETES_SERVICE_PORT: a clear error', () => {
    expect(() => loadKubeConfig({}, { env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' } })).to.throw(
      /KUBERNETES_SERVICE_PORT is not/,
    );
  });

  it('in a pod without a token: a clear error', () => {
    expect(() =>
      loadKubeConfig({}, { env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, inClusterPathPrefix: dir }),
    ).to.throw(/service account token .* is missing/);
  });

  it('KUBECONFIG: a list of files, the first definition and current-context win, missing later files are skipped', () => {
    const a = write('a.yaml', kubeconfigYaml('a', 'https://a:6443'));
    const b = write('b.yaml', kubeconfigYaml('a', 'https://other:6443')); // redefines "a": ignored
    const c = write('c.yaml', kubeconfigYaml('c', 'https://c:6443'));
    const kc = loadKubeConfig({}, { env: { KUBECONFIG: [a, b, path.join(dir, 'missing'), c].join(path.delimiter) }, homeDir: home });
    expect(kc.getCurrentContext()).to.equal('a');
    expect(kc.getCurrentCluster()?.server).to.equal('https://a:6443');
    expect(kc.clusters.map((x) => x.name).sort()).to.deep.equal(['a', 'c']);
  });

  it('~/.kube/config when nothing else is set', () => {
    write('home/.kube/config', kubeconfigYaml('home', 'https://home:6443'));
    expect(loadKubeConfig({}, { env: {}, homeDir: home }).getCurrentCluster()?.server).to.equal('https://home:6443');
  });

  it('nothing found: the error says what was tried and how to fix it', () => {
    expect(() => loadKubeConfig({ kubeconfig: '', master: '' }, { env: {}, homeDir: home })).to.throw(
      /no Kubernetes configuration found: --kubeconfig is empty, KUBERNETES_SERVICE_HOST and KUBECONFIG are unset, and .*\.kube\/config does not exist/,
    );
  });

  it('a config without current-context is refused', () => {
    const f = write('nocurrent.yaml', kubeconfigYaml('x', 'https://x:6443', '""'));
    expect(() => loadKubeConfig({ kubeconfig: f }, { env: {} })).to.throw(/no usable current context/);
  });

  describe('--master', () => {
    it('overrides the server of the current cluster only', () => {
      const f = write('two.yaml', kubeconfigYaml('one', 'https://one:6443'));
      const kc = loadKubeConfig({ kubeconfig: f, master: 'https://override:8443/' }, { env: {} });
      expect(kc.getCurrentCluster()?.server).to.equal('https://override:8443');
      expect(kc.getCurrentUser()?.token).to.equal('t-one');
    });

    it('alone (no kubeconfig anywhere) gives a client of that server', () => {
      const kc = loadKubeConfig({ master: '127.0.0.1:8080' }, { env: {}, homeDir: home });
      expect(kc.getCurrentCluster()?.server).to.equal('https://127.0.0.1:8080');
    });

    it('normalises and validates the URL', () => {
      expect(normaliseMasterUrl('10.0.0.1:6443')).to.equal('https://10.0.0.1:6443');
      expect(normaliseMasterUrl('http://localhost:8080')).to.equal('http://localhost:8080');
      expect(() => normaliseMasterUrl('ftp://x')).to.throw(/--master "ftp:\/\/x": the scheme must be https or http/);
      expect(() => normaliseMasterUrl('https://')).to.throw(/invalid --master/);
    });
  });
});
