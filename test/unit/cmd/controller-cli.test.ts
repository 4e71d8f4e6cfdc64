// The kubefledged-controller entrypoint as users run it: --help and bad flags (no cluster needed).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cmd', 'controller.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, KUBECONFIG: '/nonexistent' } },
      (err, stdout, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr }));
  });
}

describe('kubefledged-controller command line', function () {
  this.timeout(30_000);
  it('--help lists every flag of the original with its default, and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).to.equal(0);
    for (const [flag, def] of [
      ['image-pull-deadline-duration', '5m0s'], ['image-cache-refresh-frequency', '15m0s'], ['image-pull-policy', 'IfNotPresent'],
      ['service-account-name', ''], ['image-delete-job-host-network', ''], ['job-priority-class-name', ''],
      ['job-retention-policy', 'delete'], ['cri-socket-path', ''], ['stderrthreshold', 'ERROR'], ['kubeconfig', ''], ['master', ''],
    ]) {
      expect(r.stdout).to.contain(`-${flag}`);
      if (def) expect(r.stdout).to.contain(def);
    }
    expect(r.stdout).to.contain('KUBEFLEDGED_CRI_CLIENT_IMAGE');
  });
  it('a bad value exits non-zero naming the flag', async () => {
    const cases = [['--image-pull-deadline-duration=5', 'image-pull-deadline-duration'], ['-image-pull-policy=Sometimes', 'image-pull-policy'],
      ['--job-retention-policy', 'job-retention-policy'], ['--no-such-flag', 'no-such-flag']] as const;
    const results = await Promise.all(cases.map(([arg]) => run([arg])));
    cases.forEach(([arg, flag], i) => {
      expect(results[i]!.code, arg).to.not.equal(0);
      expect(results[i]!.stderr, arg).to.contain(flag);
    });
  });
});
