#!/usr/bin/env bash
# Generates a throwaway GPG key for signing the chart (tests and local packaging; never for a release)
# and exports it in the legacy keyring format Helm reads:
#   <dir>/secring.gpg  secret keyring  (helm package --sign --keyring)
#   <dir>/pubring.gpg  public keyring  (helm verify --keyring, helm install --verify --keyring)
# The key has no passphrase. Prints the key's name (for helm package --key) on stdout.
# Usage: hack/chart/throwaway-gpg-key.sh <dir> [name]
set -euo pipefail
dir=${1:?usage: throwaway-gpg-key.sh <dir> [name]}
name=${2:-kube-fledged chart signing (throwaway)}
command -v gpg >/dev/null || { echo "gpg not found: install it (apt-get install gnupg)" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# gpg-agent's socket path must stay short: keep GNUPGHOME in a short temp dir, remove it afterwards.
export GNUPGHOME; GNUPGHOME=$(mktemp -d "${TMPDIR:-/tmp}/kf-gpg.XXXXXX")
cleanup() { gpgconf --kill gpg-agent >/dev/null 2>&1 || true; rm -rf "$GNUPGHOME"; }
trap cleanup EXIT
gpg --batch --quiet --gen-key >/dev/null 2>&1 <<KEY
%no-protection
Key-Type: RSA
Key-Length: 3072
Key-Usage: sign
Name-Real: $name
Name-Email: chart-signing@kubefledged.invalid
Expire-Date: 1d
%commit
KEY
gpg --batch --quiet --export-secret-keys > "$dir/secring.gpg"
gpg --batch --quiet --export > "$dir/pubring.gpg"
[ -s "$dir/secring.gpg" ] && [ -s "$dir/pubring.gpg" ] || { echo "gpg produced an empty keyring" >&2; exit 1; }
echo "$name"
