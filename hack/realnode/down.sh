#!/usr/bin/env bash
# Stops what hack/realnode/up.sh started and removes every host-wide trace of it (hack/cluster-down.sh
# calls it before stopping the control plane). Per node, in this order: the kubelet (so it restarts
# nothing); the containers through containerd, its shims and containerd itself, and every mount below
# the node's folder (snapshots, volumes, network namespaces: hack/containerd/down.sh); then the bridge,
# the kubelet's cgroup root, and the container log links the kubelet made in /var/log/containers.
# Last the registry and this cluster's iptables chains. Idempotent; safe on a half-started cluster.
set -uo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/cluster-lib.sh"
. "$here/realnode/lib.sh"

stop_pid() { # PID: TERM, up to 10 s, then KILL
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}

if [ -d "$REALNODE_DIR" ]; then
  for d in "$REALNODE_DIR"/real-node-*; do
    [ -d "$d" ] || continue
    name=$(basename "$d"); i=${name#real-node-}
    [ -f "$d/kubelet.pid" ] && stop_pid "$(cat "$d/kubelet.pid")"
    "$here/containerd/down.sh" --keep-dir "$d" >/dev/null 2>&1
    # anything still mounted below the node (down.sh unmounts lazily; retry once the shims are gone)
    awk -v p="$d/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    ip link del "$(realnode_bridge "$i")" 2>/dev/null || true
    cg=$(realnode_cgroup "$i")
    # every hierarchy, the cgroup v2 one of a hybrid host included (runc makes the cgroup there too)
    for c in /sys/fs/cgroup"$cg" /sys/fs/cgroup/*"$cg"; do
      [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    for l in /var/log/containers/*.log; do
      [ -L "$l" ] && [[ $(readlink "$l") == "$d/"* ]] && rm -f "$l"
    done
  done
fi
p=$(pid_of registry) && [ -n "$p" ] && stop_pid "$p"
for t in nat filter; do
  from=PREROUTING; [ $t = filter ] && from=FORWARD
  while iptables -t $t -D $from -j "$REALNODE_CHAIN" 2>/dev/null; do :; done
  iptables -t $t -F "$REALNODE_CHAIN" 2>/dev/null && iptables -t $t -X "$REALNODE_CHAIN" 2>/dev/null
done
rm -f "$CLUSTER_DIR/real-nodes"
exit 0
