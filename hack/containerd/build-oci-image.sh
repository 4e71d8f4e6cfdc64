#!/usr/bin/env bash
# Writes a one-layer OCI image layout by hand (no image builder needed):
#   build-oci-image.sh LAYOUT_DIR TAG ROOTFS_DIR LABEL [ENTRYPOINT_ARG...]
# LAYOUT_DIR  the OCI layout to create or extend (oci-layout, index.json, blobs/sha256/*)
# TAG         the name stored in index.json (org.opencontainers.image.ref.name), used by skopeo as oci:DIR:TAG
# ROOTFS_DIR  a directory whose content becomes the single layer (deterministic tar: sorted, uid 0, mtime 0)
# LABEL       value of the config label org.kubefledged.test, so two images with the same files differ
# ENTRYPOINT  optional entrypoint words
# Prints the manifest digest (sha256:...) on stdout.
set -euo pipefail
(($# >= 4)) || { echo "usage: $0 LAYOUT_DIR TAG ROOTFS_DIR LABEL [ENTRYPOINT_ARG...]" >&2; exit 2; }
layout=$1 tag=$2 rootfs=$3 label=$4
shift 4
[[ -d $rootfs ]] || { echo "$0: ROOTFS_DIR $rootfs is not a directory" >&2; exit 2; }

arch=$(dpkg --print-architecture 2>/dev/null || true)
case "${arch:-$(uname -m)}" in
  amd64 | x86_64) arch=amd64 ;;
  arm64 | aarch64) arch=arm64 ;;
  *) echo "$0: unsupported architecture ${arch:-$(uname -m)}" >&2; exit 2 ;;
esac

blobs=$layout/blobs/sha256
mkdir -p "$blobs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# put_blob FILE -> moves FILE into blobs/ under its digest, prints "sha256:<hex> <size>"
put_blob() {
  local hex size
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  mv "$1" "$blobs/$hex"
  echo "sha256:$hex $size"
}

# JSON string quoting for the few strings we embed (entrypoint words, tag, label).
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$rootfs" -cf "$work/layer.tar" .
diff_id=sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -9 "$work/layer.tar"
read -r layer_digest layer_size < <(put_blob "$work/layer.tar.gz")

entrypoint=""
if (($# > 0)); then
  words=()
  for w in "$@"; do words+=("$(json_str "$w")"); done
  entrypoint=$(IFS=,; echo "\"Entrypoint\":[${words[*]}],")
fi
printf '{"architecture":"%s","os":"linux","config":{%s"Labels":{"org.kubefledged.test":%s}},"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"hack/containerd/build-oci-image.sh"}]}' \
  "$arch" "$entrypoint" "$(json_str "$label")" "$diff_id" >"$work/config.json"
read -r config_digest config_size < <(put_blob "$work/config.json")

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
  "$config_digest" "$config_size" "$layer_digest" "$layer_size" >"$work/manifest.json"
read -r manifest_digest manifest_size < <(put_blob "$work/manifest.json")

# index.json: keep the other tags already in the layout, replace this one.
entry=$(printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":%s}}' \
  "$manifest_digest" "$manifest_size" "$(json_str "$tag")")
others=""
if [[ -f $layout/index.json ]]; then
  others=$(node -e '
    const fs = require("fs");
    const [file, tag] = process.argv.slice(1);
    const idx = JSON.parse(fs.readFileSync(file, "utf8"));
    const keep = (idx.manifests || []).filter((m) => (m.annotations || {})["org.opencontainers.image.ref.name"] !== tag);
    process.stdout.write(keep.map((m) => JSON.stringify(m)).join(","));
  ' "$layout/index.json" "$tag")
fi
printf '{"schemaVersion":2,"manifests":[%s%s]}' "${others:+$others,}" "$entry" >"$layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
echo "$manifest_digest"
