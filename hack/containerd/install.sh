#!/usr/bin/env bash
# Installs, from Debian's packages, what the CRI client's integration tests need:
# containerd (with its CRI plugin), runc, the distribution registry, skopeo, and a static busybox
# (the only binary inside the test images). Installs only what is missing; needs root.
set -euo pipefail

# command -> Debian package that provides it
declare -A need=(
  [containerd]=containerd
  [containerd-shim-runc-v2]=containerd
  [runc]=runc
  [docker-registry]=docker-registry
  [skopeo]=skopeo
)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
# busybox must be the statically linked build: it runs inside images that have no libc.
[[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1 || missing+=(busybox-static)

if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "hack/containerd/install.sh: missing packages (${missing[*]}) and not root: install them with apt-get as root" >&2
  exit 1
fi
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "hack/containerd/install.sh: installing ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# --no-install-recommends: no docker.io, no systemd units pulled in; policy-rc.d (if present) keeps
# the packages' own services from starting, and up.sh never uses them anyway.
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
