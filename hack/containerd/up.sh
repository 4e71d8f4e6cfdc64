#!/usr/bin/env bash
# Starts a private containerd (CRI plugin on) and a local registry for the CRI client's tests:
#   hack/containerd/up.sh [DIR]          DIR defaults to $KF_CRI_DIR or /tmp/kubefledged-cri
# Everything lives under DIR: containerd root/state/socket, its config, the registry's storage.
# Nothing listens beyond loopback: the registry binds 127.0.0.1:<free port>, containerd's streaming
# server 127.0.0.1:<random>. Docker Hub ("docker.io") is mirrored to the local registry, so short
# names (busybox -> docker.io/library/busybox:latest) resolve without any outside network.
# Builds the test images by hand (hack/containerd/build-oci-image.sh) and pushes them with skopeo.
# Writes DIR/env.json (endpoint, registry, images with digests) and prints it. Idempotent: when DIR
# already holds a running pair it only prints env.json. Stop with hack/containerd/down.sh DIR.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${1:-${KF_CRI_DIR:-/tmp/kubefledged-cri}}

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

if alive "$dir/containerd.pid" && alive "$dir/registry.pid" && [[ -f $dir/env.json ]]; then
  cat "$dir/env.json"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "hack/containerd/up.sh: containerd needs root (it mounts snapshots and runs runc)" >&2
  exit 1
fi
"$here/install.sh"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock=$dir/containerd.sock
# unix socket paths are limited to 107 bytes (the ttrpc socket adds ".ttrpc")
((${#sock} <= 100)) || { echo "hack/containerd/up.sh: $sock is too long for a unix socket; use a shorter DIR" >&2; exit 1; }
# A half-started previous run: stop what is left before starting again.
"$here/down.sh" --keep-dir "$dir" >/dev/null 2>&1 || true
mkdir -p "$dir"/{root,state,runc,registry,certs.d,cni/net.d,opt,images,logs}

# wait_for SECONDS DESCRIPTION COMMAND... : polls COMMAND every 0.2 s
wait_for() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "hack/containerd/up.sh: timed out waiting for $what" >&2
      return 1
    fi
    sleep 0.2
  done
}

# --- registry on a free loopback port ----------------------------------------------------------
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
registry=127.0.0.1:$port
cat >"$dir/registry.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/registry
  delete:
    enabled: true
http:
  addr: $registry
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")
YAML
setsid docker-registry serve "$dir/registry.yml" >"$dir/logs/registry.log" 2>&1 </dev/null &
echo $! >"$dir/registry.pid"
wait_for 20 "the registry on $registry (log: $dir/logs/registry.log)" curl -fsS "http://$registry/v2/"

# --- containerd ----------------------------------------------------------------------------------
# Registry hosts (containerd's certs.d layout): plain HTTP to the local registry, and docker.io
# served by the same registry so that no pull ever leaves this machine.
for host in "$registry" docker.io; do
  mkdir -p "$dir/certs.d/$host"
  cat >"$dir/certs.d/$host/hosts.toml" <<TOML
server = "http://$registry"

[host."http://$registry"]
  capabilities = ["pull", "resolve"]
TOML
done

snapshotter=${KF_CRI_SNAPSHOTTER:-overlayfs}
. "$here/config.sh"
containerd_config "$dir" "$sock" "$registry/kf-test/pause:1" "$snapshotter" "$dir/cni/net.d" >"$dir/config.toml"
setsid containerd --config "$dir/config.toml" >"$dir/logs/containerd.log" 2>&1 </dev/null &
echo $! >"$dir/containerd.pid"
wait_for 30 "containerd on $sock (log: $dir/logs/containerd.log)" \
  ctr --address "$sock" --namespace k8s.io version
if ! ctr --address "$sock" plugins ls 2>/dev/null | grep -Eq "^io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*[[:space:]]ok[[:space:]]*$"; then
  echo "hack/containerd/up.sh: containerd's CRI plugin did not load; see $dir/logs/containerd.log:" >&2
  grep -i 'cri' "$dir/logs/containerd.log" | tail -5 >&2
  exit 1
fi

# --- test images -------------------------------------------------------------------------------
"$here/push-test-images.sh" "$dir" "$registry" >"$dir/images.json"

node -e '
  const fs = require("fs");
  const [dir, sock, registry, snapshotter] = process.argv.slice(1);
  const env = {
    dir, socketPath: sock, endpoint: "unix://" + sock, registry, snapshotter,
    containerdPid: Number(fs.readFileSync(dir + "/containerd.pid", "utf8")),
    registryPid: Number(fs.readFileSync(dir + "/registry.pid", "utf8")),
    images: JSON.parse(fs.readFileSync(dir + "/images.json", "utf8")),
  };
  fs.writeFileSync(dir + "/env.json", JSON.stringify(env, null, 2) + "\n");
' "$dir" "$sock" "$registry" "$snapshotter"
cat "$dir/env.json"
