#!/usr/bin/env bash
# Starts the real nodes of the local cluster (hack/cluster-up.sh calls it when REAL_NODES > 0):
#   hack/realnode/up.sh N
# 1. the local registry (Debian docker-registry) on 127.0.0.1:<REALNODE_REGISTRY_PORT or a free port>,
#    with the pause image built here (static busybox, hack/containerd/build-oci-image.sh) pushed to it;
# 2. per node i (real-node-i): its own containerd (CRI), CNI bridge config, and a kubelet built by
#    hack/build-binaries.sh kubelet, which registers the node with the API server (no kwok annotation:
#    kwok never touches it or its pods).
# Registry mirrors: docker.io and the registry's own address resolve to the local registry, so no pull
# ever leaves the machine. Pods reach the API server at the "kubernetes" Service (10.96.0.1:443), which
# an iptables DNAT on the node's bridge sends to 127.0.0.1:$APISERVER_PORT (no kube-proxy here).
# Writes $REALNODE_DIR/env.json: {registry, nodes: [{name, criSocket, containerdDir, bridge, subnet}]}.
# Stop with hack/realnode/down.sh (hack/cluster-down.sh calls it). Also adds real nodes to a running
# cluster that has none (hack/test.sh does, so the kwok-only suites never see a real node).
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/cluster-lib.sh"
. "$here/realnode/lib.sh"
. "$here/containerd/config.sh"
n=${1:?usage: hack/realnode/up.sh N}
[[ $n =~ ^[0-9]+$ ]] || { echo "hack/realnode/up.sh: REAL_NODES must be a number, got '$n'" >&2; exit 2; }
((n > 0)) || exit 0
start=$SECONDS
if [[ $(id -u) -ne 0 ]]; then
  echo "hack/realnode/up.sh: REAL_NODES needs root (containerd mounts snapshots, the kubelet manages cgroups)" >&2
  exit 1
fi
"$here/realnode/install.sh"
[ -x "$KUBELET_BIN/kubelet" ] || "$here/build-binaries.sh" kubelet
rlog() { printf '[realnode] %s\n' "$*" >&2; }
wait_until() { # SECONDS WHAT LOG COMMAND...
  local deadline=$((SECONDS + $1)) what=$2 logf=$3; shift 3
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      rlog "$what did not become ready in $1s; last lines of $logf:"; tail -n 30 "$logf" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
mkdir -p "$REALNODE_DIR" "$REGISTRY_DIR"/{storage,logs}

# --- 1. the local registry -------------------------------------------------------------------------
port=$REALNODE_REGISTRY_PORT; [ "$port" != 0 ] || port=$(free_port)
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then rlog "registry port $port on 127.0.0.1 is already in use"; exit 1; fi
registry=127.0.0.1:$port
cat >"$REGISTRY_DIR/config.yml" <<YAML
version: 0.1
log:
  level: info
  formatter: json
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/storage
  delete:
    enabled: true
http:
  addr: $registry
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")
YAML
setsid docker-registry serve "$REGISTRY_DIR/config.yml" >"$REGISTRY_DIR/logs/registry.log" 2>&1 </dev/null &
echo $! >"$CLUSTER_DIR/pids/registry.pid"
wait_until 20 "the registry on $registry" "$REGISTRY_DIR/logs/registry.log" curl -fsS "http://$registry/v2/"
echo "$registry" >"$REGISTRY_DIR/address"

# the sandbox ("pause") image: static busybox sleeping forever, one layer, built by hand
pause_ref="$registry/kubefledged/pause:1"
work="$REGISTRY_DIR/pause"; mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
printf '{"default": [{"type": "insecureAcceptAnything"}]}\n' >"$work/policy.json"
"$here/containerd/build-oci-image.sh" "$work/layout" pause "$work/rootfs" pause /bin/busybox sleep 2147483647 >/dev/null
skopeo --policy "$work/policy.json" copy --quiet --dest-tls-verify=false "oci:$work/layout:pause" "docker://$pause_ref" >&2

# --- 2. the nodes ----------------------------------------------------------------------------------
P="$CLUSTER_DIR/pki"
# iptables: one chain per table for this cluster, jumped to from PREROUTING (nat) and FORWARD (filter)
iptables -t nat -N "$REALNODE_CHAIN" 2>/dev/null || iptables -t nat -F "$REALNODE_CHAIN"
iptables -t nat -C PREROUTING -j "$REALNODE_CHAIN" 2>/dev/null || iptables -t nat -I PREROUTING -j "$REALNODE_CHAIN"
iptables -t filter -N "$REALNODE_CHAIN" 2>/dev/null || iptables -t filter -F "$REALNODE_CHAIN"
iptables -t filter -C FORWARD -j "$REALNODE_CHAIN" 2>/dev/null || iptables -t filter -I FORWARD -j "$REALNODE_CHAIN"

nodes_json=()
for ((i = 0; i < n; i++)); do
  name=$(realnode_name "$i"); d="$REALNODE_DIR/$name"; bridge=$(realnode_bridge "$i")
  ip link del "$bridge" 2>/dev/null || true # left by a crashed run of this cluster
  subnet=$(realnode_pick_subnet "$i") || { rlog "no free /24 left in 10.200.0.0/16 for $name"; exit 1; }
  gateway=$(realnode_gateway "$subnet"); cgroup=$(realnode_cgroup "$i")
  if [ "$REALNODE_KUBELET_PORT_BASE" = 0 ]; then
    kport=$(free_port); hport=$(free_port)
    while [ "$hport" = "$kport" ]; do hport=$(free_port); done
  else
    kport=$((REALNODE_KUBELET_PORT_BASE + 2 * i)); hport=$((kport + 1))
  fi
  for p in "$kport" "$hport"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then rlog "kubelet port $p on 127.0.0.1 is already in use (set REALNODE_KUBELET_PORT_BASE)"; exit 1; fi
  done
  sock="$d/containerd.sock"
  ((${#sock} <= 100)) || { rlog "$sock is too long for a unix socket; use a shorter CLUSTER_DIR"; exit 1; }
  mkdir -p "$d"/{root,state,runc,opt,certs.d,cni/net.d,cni/ipam,kubelet,pod-logs,pki,logs}

  # containerd: registry hosts (plain HTTP to the local registry; docker.io mirrored to it)
  for host in "$registry" docker.io; do
    mkdir -p "$d/certs.d/$host"
    printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$registry" "$registry" >"$d/certs.d/$host/hosts.toml"
  done
  # network namespaces under $d/state/netns (not /var/run/netns): cluster-down unmounts them
  containerd_config "$d" "$sock" "$pause_ref" overlayfs "$d/cni/net.d" \
    'netns_mounts_under_state_dir = true' 'max_conf_num = 1' >"$d/config.toml"
  # CNI: a bridge of this node only, made below with its gateway address (isGateway false: the plugin
  # then leaves the host's IP forwarding alone); no masquerade (pods reach nothing beyond this machine)
  cat >"$d/cni/net.d/10-kfr.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "$bridge",
  "plugins": [
    {"type": "bridge", "bridge": "$bridge", "isGateway": false, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$d/cni/ipam", "ranges": [[{"subnet": "$subnet", "gateway": "$gateway"}]],
              "routes": [{"dst": "0.0.0.0/0", "gw": "$gateway"}]}}
  ]
}
JSON
  ip link show "$bridge" >/dev/null 2>&1 || ip link add "$bridge" type bridge
  ip addr replace "$gateway/24" dev "$bridge"; ip link set "$bridge" up
  # the DNAT below sends bridge traffic to 127.0.0.1, which the kernel drops unless route_localnet is on
  echo 1 >"/proc/sys/net/ipv4/conf/$bridge/route_localnet"
  setsid containerd --config "$d/config.toml" >"$d/logs/containerd.log" 2>&1 </dev/null &
  echo $! >"$d/containerd.pid"; cp "$d/containerd.pid" "$CLUSTER_DIR/pids/containerd-$name.pid"
  wait_until 30 "containerd of $name" "$d/logs/containerd.log" ctr --address "$sock" --namespace k8s.io version

  # the node's client certificate (Node authorizer: CN system:node:<name>, O system:nodes)
  openssl req -newkey rsa:2048 -nodes -keyout "$d/pki/kubelet.key" -out "$d/pki/kubelet.csr" -subj "/O=system:nodes/CN=system:node:$name" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$d/pki/kubelet.ext"
  openssl x509 -req -in "$d/pki/kubelet.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 30 -extfile "$d/pki/kubelet.ext" -out "$d/pki/kubelet.crt" 2>/dev/null
  kk=(kubectl --kubeconfig="$d/kubeconfig")
  "${kk[@]}" config set-cluster local --server="https://127.0.0.1:$APISERVER_PORT" --certificate-authority="$P/ca.crt" --embed-certs >/dev/null
  "${kk[@]}" config set-credentials node --client-certificate="$d/pki/kubelet.crt" --client-key="$d/pki/kubelet.key" --embed-certs >/dev/null
  "${kk[@]}" config set-context local --cluster=local --user=node >/dev/null
  "${kk[@]}" config use-context local >/dev/null

  # the kubelet's own cgroup root in every hierarchy (kubelet --cgroup-root must exist)
  while read -r h; do
    mkdir -p "$h$cgroup"
    if [ "$(basename "$h")" = cpuset ]; then
      cat "$h/cpuset.cpus" >"$h$cgroup/cpuset.cpus"; cat "$h/cpuset.mems" >"$h$cgroup/cpuset.mems"
    fi
  done < <(realnode_cgroup_hierarchies)
  # pods get no outside DNS server (network rule): an empty resolv.conf
  : >"$d/resolv.conf"
  cat >"$d/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $kport
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $hport
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $P/ca.crt}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$sock
imageServiceEndpoint: unix://$sock
cgroupDriver: cgroupfs
cgroupRoot: $cgroup
cgroupsPerQOS: true
failSwapOn: false
failCgroupV1: false
makeIPTablesUtilChains: false
resolvConf: $d/resolv.conf
clusterDomain: cluster.local
podCIDR: $subnet
podLogsDir: $d/pod-logs
maxPods: 60
serializeImagePulls: false
registerNode: true
staticPodPath: ""
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
nodeStatusReportFrequency: 10s
nodeStatusUpdateFrequency: 10s
YAML
  setsid "$KUBELET_BIN/kubelet" --config="$d/kubelet.yaml" --kubeconfig="$d/kubeconfig" --root-dir="$d/kubelet" \
    --cert-dir="$d/kubelet/pki" --hostname-override="$name" --node-ip=127.0.0.1 \
    --node-labels="kubefledged.io/real-node=true" --v=1 >"$d/logs/kubelet.log" 2>&1 </dev/null &
  echo $! >"$d/kubelet.pid"; cp "$d/kubelet.pid" "$CLUSTER_DIR/pids/kubelet-$name.pid"

  # pods on this bridge reach the API server through the "kubernetes" Service address
  iptables -t nat -A "$REALNODE_CHAIN" -i "$bridge" -d 10.96.0.1/32 -p tcp --dport 443 -j DNAT --to-destination "127.0.0.1:$APISERVER_PORT"
  # nothing is forwarded from or to the bridge (no way out of this machine)
  iptables -t filter -A "$REALNODE_CHAIN" -i "$bridge" -j DROP
  iptables -t filter -A "$REALNODE_CHAIN" -o "$bridge" -j DROP
  nodes_json+=("$(printf '{"name":"%s","criSocket":"%s","containerdDir":"%s","bridge":"%s","subnet":"%s","kubeletPort":%s}' "$name" "$sock" "$d" "$bridge" "$subnet" "$kport")")
done

for ((i = 0; i < n; i++)); do
  name=$(realnode_name "$i")
  wait_until 120 "node $name (Ready)" "$REALNODE_DIR/$name/logs/kubelet.log" \
    kc wait --for=condition=Ready "node/$name" --timeout=1s
done
(IFS=,; printf '{"registry":"%s","pauseImage":"%s","nodes":[%s]}\n' "$registry" "$pause_ref" "${nodes_json[*]}") >"$REALNODE_DIR/env.json"
echo "$n" >"$CLUSTER_DIR/real-nodes" # hack/cluster-up.sh reuses the cluster only with as many
rlog "$n real node(s) Ready in $((SECONDS - start))s (registry $registry)"
