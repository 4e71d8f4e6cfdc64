#!/usr/bin/env bash
# Installs, from Debian's packages, what the real nodes need beyond the CRI tests' set
# (hack/containerd/install.sh: containerd, runc, docker-registry, skopeo, busybox-static):
# the CNI plugins (bridge, host-local, loopback), iptables and iproute2. Only what is missing; needs root.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/../containerd/install.sh"
missing=()
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] || missing+=(containernetworking-plugins)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "hack/realnode/install.sh: missing packages (${missing[*]}) and not root: install them with apt-get as root" >&2
  exit 1
fi
echo "hack/realnode/install.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
