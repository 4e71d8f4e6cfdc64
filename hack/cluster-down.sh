#!/usr/bin/env bash
# Stops every process hack/cluster-up.sh started and removes the cluster's state folder; with real
# nodes also their mounts, bridges, network namespaces, cgroups and iptables rules (hack/realnode/down.sh).
set -uo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cluster-lib.sh"
[ -d "$CLUSTER_DIR" ] || { clog "no local cluster at $CLUSTER_DIR"; exit 0; }
# the real nodes first (kubelets, containers, containerd, registry, bridges, cgroups, iptables chains)
"$here/realnode/down.sh"
# reverse order: kwok and controllers first, etcd last
for ((i=${#COMPONENTS[@]}-1; i>=0; i--)); do
  c=${COMPONENTS[$i]}; p=$(pid_of "$c") || continue
  [ -n "$p" ] || continue
  # each component runs in its own process group (setsid): stop the whole group
  kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
done
for c in "${COMPONENTS[@]}"; do
  p=$(pid_of "$c") || continue
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true; fi
done
rm -rf "$CLUSTER_DIR"
clog "stopped and removed $CLUSTER_DIR"
