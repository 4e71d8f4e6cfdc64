# Shared names of the real nodes (sourced by hack/realnode/*.sh after hack/cluster-lib.sh).
# Everything of real node i lives under $REALNODE_DIR/real-node-i: containerd (root, state, socket,
# runc state, netns mounts), the kubelet (root dir, pod logs, certificates), the CNI config and IPAM
# leases. Host-wide objects that cannot live in a folder carry names derived from the API server port
# (unique per local cluster on this machine), so cluster-down removes exactly its own:
#   bridge        kfr<APISERVER_PORT>-<i>        pod subnet: a free 10.200.x.0/24 (realnode_pick_subnet)
#   cgroup root   /kfr-<APISERVER_PORT>-<i>      (kubelet --cgroup-root; every v1 hierarchy)
#   iptables      chains KFR-<APISERVER_PORT> in the nat and filter tables
REALNODE_DIR="$CLUSTER_DIR/realnode"
REGISTRY_DIR="$CLUSTER_DIR/registry"
# Ports on 127.0.0.1 of node i: kubelet REALNODE_KUBELET_PORT_BASE+2i, its healthz +2i+1;
# 0 (default) = two free ports picked at start (env.json names them).
REALNODE_KUBELET_PORT_BASE="${REALNODE_KUBELET_PORT_BASE:-0}"
# The local registry's port; 0 = a free port picked at start.
REALNODE_REGISTRY_PORT="${REALNODE_REGISTRY_PORT:-0}"
REALNODE_CHAIN="KFR-$APISERVER_PORT"

realnode_name() { echo "real-node-$1"; }
realnode_bridge() { echo "kfr$APISERVER_PORT-$1"; }
# a free /24 of 10.200.0.0/16 for node i: the first from (APISERVER_PORT+i)%256 on that no interface uses
realnode_pick_subnet() {
  local k o
  for ((k = 0; k < 256; k++)); do
    o=$(( (APISERVER_PORT + $1 + k) % 256 ))
    [ -z "$(ip -4 -o addr show to "10.200.$o.0/24" 2>/dev/null)" ] && { echo "10.200.$o.0/24"; return 0; }
  done
  return 1
}
realnode_gateway() { echo "${1%.0/24}.1"; } # SUBNET -> its .1
realnode_cgroup() { echo "/kfr-$APISERVER_PORT-$1"; }
realnode_cgroup_hierarchies() { # the mounted cgroup v1 hierarchies (cgroup v2: the unified one)
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then echo /sys/fs/cgroup; return; fi
  local h; for h in /sys/fs/cgroup/*; do [ -d "$h" ] && [ ! -L "$h" ] && [ "$(stat -fc %T "$h")" = cgroupfs ] && echo "$h"; done
}
# the address of the local registry once it runs (127.0.0.1:port)
realnode_registry() { cat "$REGISTRY_DIR/address" 2>/dev/null; }
