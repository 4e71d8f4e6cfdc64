#!/usr/bin/env bash
# Builds a test image with real layers and pushes it to a registry on loopback (the real-node tests and
# bench/pod-start.ts use it):
#   hack/realnode/push-test-image.sh REGISTRY/REPOSITORY:TAG [LAYER_KB...]
# Layer 1: the static busybox (/bin/sh, sleep, echo, cat); then one layer per LAYER_KB of random bytes
# (/data/layer-<i>, incompressible, so the pull moves that much). CMD: sleep 3600. Built with buildah
# (--layers: one layer per instruction; vfs storage in the version-keyed cache). Does nothing when the
# registry already has the reference. Prints the reference.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../image" && pwd)/lib.sh"
ref=${1:?usage: push-test-image.sh REGISTRY/REPOSITORY:TAG [LAYER_KB...]}; shift
[[ $ref == 127.0.0.1:* ]] || { echo "push-test-image.sh: the registry must be on 127.0.0.1, got $ref" >&2; exit 2; }
for kb in "$@"; do [[ $kb =~ ^[0-9]+$ ]] || { echo "push-test-image.sh: LAYER_KB must be a number of KiB, got '$kb'" >&2; exit 2; }; done
if skopeo inspect --tls-verify=false --raw "docker://$ref" >/dev/null 2>&1; then echo "$ref"; exit 0; fi
ensure_buildah
work=$(mktemp -d "${TMPDIR:-/tmp}/kf-test-image.XXXXXX"); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
cp /bin/busybox "$work/bin/busybox"
for a in sh sleep echo cat ls cp; do ln -s busybox "$work/bin/$a"; done
{
  echo "FROM scratch"
  echo "COPY bin /bin"
  i=0
  for kb in "$@"; do
    i=$((i + 1))
    head -c "$((kb * 1024))" /dev/urandom >"$work/layer-$i"
    echo "COPY layer-$i /data/layer-$i"
  done
  echo 'CMD ["/bin/sleep", "3600"]'
} >"$work/Containerfile"
bah bud --quiet --isolation chroot --layers -f "$work/Containerfile" -t "$ref" "$work" >/dev/null
bah push --quiet --tls-verify=false "$ref" "docker://$ref" >&2
bah rmi "$ref" >/dev/null 2>&1 || true
echo "$ref"
