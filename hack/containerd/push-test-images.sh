#!/usr/bin/env bash
# Builds the CRI tests' images by hand and pushes them to the local registry:
#   push-test-images.sh DIR REGISTRY      (REGISTRY = 127.0.0.1:<port>)
# Prints a JSON object: name -> {reference, digest} (digest as the registry serves it).
#   hello-v1, hello-v2  one text file each                 REGISTRY/kf-test/hello:v1 / :v2
#   bydigest            one text file                      REGISTRY/kf-test/bydigest:v1
#   short               one text file, Docker Hub layout   REGISTRY/library/kf-short:latest
#                       (containerd mirrors docker.io to REGISTRY, so the short name "kf-short" pulls it)
#   pause               static busybox sleeping forever    REGISTRY/kf-test/pause:1 (the sandbox image)
#   sleeper             static busybox sleeping forever    REGISTRY/kf-test/sleeper:1 (an "in use" image)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
(($# == 2)) || { echo "usage: $0 DIR REGISTRY" >&2; exit 2; }
dir=$1 registry=$2
work=$dir/images
rm -rf "$work"
mkdir -p "$work"
cat >"$work/policy.json" <<'JSON'
{"default": [{"type": "insecureAcceptAnything"}]}
JSON

text_rootfs() { # NAME CONTENT
  mkdir -p "$work/rootfs-$1"
  printf '%s\n' "$2" >"$work/rootfs-$1/hello.txt"
  echo "$work/rootfs-$1"
}
busybox_rootfs() {
  local r=$work/rootfs-busybox
  if [[ ! -d $r ]]; then
    mkdir -p "$r/bin" "$r/tmp"
    cp /bin/busybox "$r/bin/busybox"
    ln -s busybox "$r/bin/sh"
    ln -s busybox "$r/bin/sleep"
  fi
  echo "$r"
}

entries=()
push() { # NAME REPOSITORY:TAG ROOTFS [ENTRYPOINT...]
  local name=$1 ref=$2 rootfs=$3
  shift 3
  "$here/build-oci-image.sh" "$work/layout" "$name" "$rootfs" "$name" "$@" >/dev/null
  skopeo --policy "$work/policy.json" copy --quiet --dest-tls-verify=false \
    "oci:$work/layout:$name" "docker://$ref" >&2
  local digest
  digest=$(skopeo --policy "$work/policy.json" inspect --tls-verify=false --format '{{.Digest}}' "docker://$ref")
  entries+=("$(printf '"%s":{"reference":"%s","digest":"%s"}' "$name" "$ref" "$digest")")
}

push hello-v1 "$registry/kf-test/hello:v1" "$(text_rootfs hello-v1 'hello v1')"
push hello-v2 "$registry/kf-test/hello:v2" "$(text_rootfs hello-v2 'hello v2')"
push bydigest "$registry/kf-test/bydigest:v1" "$(text_rootfs bydigest 'by digest')"
push short "$registry/library/kf-short:latest" "$(text_rootfs short 'short name')"
push pause "$registry/kf-test/pause:1" "$(busybox_rootfs)" /bin/busybox sleep 2147483647
push sleeper "$registry/kf-test/sleeper:1" "$(busybox_rootfs)" /bin/busybox sleep 2147483647
(IFS=,; echo "{${entries[*]}}")
