#!/usr/bin/env bash
# Packages helm/kube-fledged with a provenance file (helm package --sign) and verifies it.
# Environment (set by `make chart-package`):
#   HELM                  helm binary (default: helm)
#   CHART_DIST            output folder (default: dist/chart)
#   CHART_SIGN_KEY        name of the signing key in CHART_KEYRING; empty = generate a throwaway key
#   CHART_KEYRING         legacy secret keyring (gpg --export-secret-keys > secring.gpg)
#   CHART_PUBLIC_KEYRING  public keyring to verify with (default: $CHART_DIST/pubring.gpg)
#   CHART_PASSPHRASE_FILE passphrase of the signing key, if it has one
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
helm=${HELM:-helm}
dist=${CHART_DIST:-dist/chart}
key=${CHART_SIGN_KEY:-}
keyring=${CHART_KEYRING:-}
pubring=${CHART_PUBLIC_KEYRING:-$dist/pubring.gpg}
mkdir -p "$dist"
if [ -z "$key" ]; then
  [ -z "$keyring" ] || { echo "CHART_KEYRING is set but CHART_SIGN_KEY is not: name the key to sign with" >&2; exit 1; }
  key=$(hack/chart/throwaway-gpg-key.sh "$dist")
  keyring="$dist/secring.gpg"
  pubring="$dist/pubring.gpg"
  echo "signing with a throwaway key (public keyring: $pubring)" >&2
else
  [ -n "$keyring" ] && [ -f "$keyring" ] || { echo "CHART_KEYRING must name the secret keyring that holds '$key'" >&2; exit 1; }
fi
args=(package --sign --key "$key" --keyring "$keyring" --destination "$dist")
[ -n "${CHART_PASSPHRASE_FILE:-}" ] && args+=(--passphrase-file "$CHART_PASSPHRASE_FILE")
"$helm" "${args[@]}" helm/kube-fledged >&2
version=$(sed -n 's/^version: *//p' helm/kube-fledged/Chart.yaml)
tgz="$dist/kube-fledged-$version.tgz"
[ -f "$tgz.prov" ] || { echo "no provenance file $tgz.prov was written" >&2; exit 1; }
if [ -f "$pubring" ]; then
  "$helm" verify --keyring "$pubring" "$tgz" >&2
else
  echo "not verified: public keyring $pubring not found (set CHART_PUBLIC_KEYRING)" >&2
fi
echo "$tgz"
