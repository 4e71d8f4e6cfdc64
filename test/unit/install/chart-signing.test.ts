// `make chart-package` signs the chart (helm package --sign, throwaway GPG key) and helm verifies it;
// a changed package or another key is refused. (helm install --verify runs in the e2e tests.)
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../../../hack/chart/helm-binary.js';
import { helm } from './support/chart.js';

const execFileAsync = promisify(execFile);

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(cmd, args, { cwd: ROOT, env: { ...process.env, ...env } });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
  }
}

async function fails(cmd: string, args: string[]): Promise<string> {
  try {
    await execFileAsync(cmd, args, { cwd: ROOT });
  } catch (err) {
    return (err as { stderr?: string }).stderr ?? '';
  }
  throw new Error(`${cmd} ${args.join(' ')} should have failed`);
}

describe('install: signed chart', function () {
  this.timeout(120_000);
  let dist: string;
  let tgz: string;

  before(async () => {
    dist = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-chart-dist-'));
    const { stdout } = await run('make', ['--no-print-directory', 'chart-package', `CHART_DIST=${dist}`, `HELM=${helm()}`]);
    tgz = stdout.trim().split('\n').at(-1)!;
  });

  after(() => {
    fs.rmSync(dist, { recursive: true, force: true });
  });

  it('packages kube-fledged-<version>.tgz with a .prov provenance file', () => {
    const version = /^version: *(\S+)$/m.exec(fs.readFileSync(path.join(ROOT, 'helm/kube-fledged/Chart.yaml'), 'utf8'))![1]!;
    expect(tgz).to.equal(path.join(dist, `kube-fledged-${version}.tgz`));
    expect(fs.existsSync(tgz)).to.equal(true);
    const prov = fs.readFileSync(`${tgz}.prov`, 'utf8');
    expect(prov).to.contain('-----BEGIN PGP SIGNED MESSAGE-----');
    expect(prov).to.contain('name: kube-fledged');
  });

  it('verifies with the public keyring of the signing key', async () => {
    const { stdout, stderr } = await run(helm(), ['verify', '--keyring', path.join(dist, 'pubring.gpg'), tgz]);
    expect(stdout + stderr).to.match(/Signed by: kube-fledged chart signing \(throwaway\)/);
    expect(stdout + stderr).to.match(/Chart Hash Verified: sha256:/);
  });

  it('make chart-verify accepts it too', async () => {
    await run('make', ['--no-print-directory', 'chart-verify', `CHART_DIST=${dist}`, `HELM=${helm()}`]);
  });

  it('refuses a package that changed after signing', async () => {
    const copy = path.join(dist, 'tampered');
    fs.mkdirSync(copy);
    const t = path.join(copy, path.basename(tgz));
    fs.copyFileSync(tgz, t);
    fs.copyFileSync(`${tgz}.prov`, `${t}.prov`);
    fs.appendFileSync(t, Buffer.from([0]));
    const err = await fails(helm(), ['verify', '--keyring', path.join(dist, 'pubring.gpg'), t]);
    expect(err).to.match(/sha256 sum does not match/);
  });

  it('refuses a signature by a key that is not in the keyring', async () => {
    const other = path.join(dist, 'other-key');
    await run('hack/chart/throwaway-gpg-key.sh', [other, 'someone else']);
    const err = await fails(helm(), ['verify', '--keyring', path.join(other, 'pubring.gpg'), tgz]);
    expect(err).to.match(/openpgp: signature made by unknown entity|no signature|unknown/i);
  });
});
