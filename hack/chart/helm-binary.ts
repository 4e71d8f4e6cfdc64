// Where the helm binary is: $HELM when set, else the version-keyed cache of hack/build-binaries.sh.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const CHART_DIR = path.join(ROOT, 'helm', 'kube-fledged');

/** The helm binary built by `hack/build-binaries.sh helm` (path from hack/versions.sh), or $HELM. */
export function helmBinaryPath(): string {
  if (process.env.HELM) return process.env.HELM;
  const out = execFileSync('bash', ['-c', '. hack/versions.sh && printf %s "$HELM_BIN/helm"'], { cwd: ROOT, encoding: 'utf8' });
  return out.trim();
}

/** Like helmBinaryPath, but fails with the command that builds helm when it is missing. */
export function requireHelm(): string {
  const helm = helmBinaryPath();
  if (!fs.existsSync(helm)) {
    throw new Error(`helm not found at ${helm}: build it with "hack/build-binaries.sh helm" (or set HELM=/path/to/helm)`);
  }
  return helm;
}

/** Builds helm into the cache when it is missing (a warm run does nothing) and returns its path. */
export function ensureHelm(): string {
  const helm = helmBinaryPath();
  if (!fs.existsSync(helm)) {
    execFileSync(path.join(ROOT, 'hack', 'build-binaries.sh'), ['helm'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return requireHelm();
}
