#!/usr/bin/env bash
# Starts the local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, built by
# hack/build-binaries.sh, and kwok simulating $NODES nodes and their pods (stages: hack/kwok/stages.yaml).
# Writes the admin kubeconfig to .cluster/kubeconfig. Reuses a healthy cluster; replaces a dead one.
#   NODES=3                 fake nodes kwok-node-0..N-1
#   NODE_LABELS="k=v,..."   extra labels on every node
#   NODE_IMAGES="ref,..."   status.images entries on every node
#   TAINTED_NODES=0         extra nodes kwok-tainted-i with taint dedicated=special:NoSchedule
#   NOT_READY_NODES=0       extra nodes kwok-notready-i that never become Ready (kwok does not manage them)
#   NORUN_NODES=0           extra nodes kwok-norun-i that are Ready but never run pods
#   REAL_NODES=0            real nodes real-node-i: containerd + a kubelet each, a local registry
#                           (hack/realnode/up.sh; needs root; the kubelet is built once into the cache)
#   APISERVER_EXTRA_ARGS="" extra kube-apiserver flags (make bench passes its audit log flags here)
#   KWOK_EXTRA_CONFIG=""    more kwok config files, comma-separated (make bench passes its KwokConfiguration)
# hack/cluster-up.sh --status : exit 0 when a healthy cluster is up
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cluster-lib.sh"
NODES="${NODES:-3}"; NODE_LABELS="${NODE_LABELS:-}"; NODE_IMAGES="${NODE_IMAGES:-}"
TAINTED_NODES="${TAINTED_NODES:-0}"; NOT_READY_NODES="${NOT_READY_NODES:-0}"; NORUN_NODES="${NORUN_NODES:-0}"
REAL_NODES="${REAL_NODES:-0}"
# how long kube-controller-manager waits for a node's heartbeat before it marks the node NotReady
NODE_MONITOR_GRACE_PERIOD="${NODE_MONITOR_GRACE_PERIOD:-40s}"
[[ $REAL_NODES =~ ^[0-9]+$ ]] || { clog "REAL_NODES must be a number of real nodes, got '$REAL_NODES'"; exit 2; }

healthy() {
  [ -f "$KUBECONFIG_OUT" ] || return 1
  for c in "${COMPONENTS[@]}"; do alive "$c" || return 1; done
  # the real nodes asked for are the ones running (their pid files: registry, containerd-*, kubelet-*)
  # (hack/cluster-up.sh --status: any number of real nodes)
  [ "${1:-}" = any ] || [ "$(cat "$CLUSTER_DIR/real-nodes" 2>/dev/null || echo 0)" = "$REAL_NODES" ] || return 1
  local f; for f in "$CLUSTER_DIR"/pids/*.pid; do kill -0 "$(cat "$f")" 2>/dev/null || return 1; done
  kc get --raw /readyz >/dev/null 2>&1
}

if [ "${1:-}" = "--status" ]; then
  if healthy any; then echo "local cluster is up: KUBECONFIG=$KUBECONFIG_OUT"; exit 0; fi
  echo "local cluster is not running"; exit 1
fi

start=$SECONDS
if healthy; then clog "reusing the healthy cluster at $CLUSTER_DIR: export KUBECONFIG=$KUBECONFIG_OUT  (kubectl get nodes)"; exit 0; fi
if [ -d "$CLUSTER_DIR" ]; then clog "replacing a dead or partial cluster"; "$here/cluster-down.sh"; fi

for b in "$ETCD_BIN/etcd" "$K8S_BIN/kube-apiserver" "$K8S_BIN/kube-controller-manager" "$K8S_BIN/kube-scheduler" "$KWOK_BIN/kwok"; do
  [ -x "$b" ] || "$here/build-binaries.sh"
done
for p in "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT" "$SCHEDULER_PORT" "$KWOK_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then clog "port $p on 127.0.0.1 is already in use"; exit 1; fi
done

mkdir -p "$CLUSTER_DIR"/{pki,pids,logs,etcd}
P="$CLUSTER_DIR/pki"
# --- certificates: one CA; an apiserver serving cert; an admin client cert (system:masters); SA key ---
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 30 -subj /CN=kube-fledged-local-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$P/apiserver.key" -out "$P/apiserver.csr" -subj /CN=kube-apiserver 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n' > "$P/apiserver.ext"
openssl x509 -req -in "$P/apiserver.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 30 -extfile "$P/apiserver.ext" -out "$P/apiserver.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$P/admin.key" -out "$P/admin.csr" -subj "/O=system:masters/CN=kube-fledged-admin" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > "$P/admin.ext"
openssl x509 -req -in "$P/admin.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 30 -extfile "$P/admin.ext" -out "$P/admin.crt" 2>/dev/null
openssl genrsa -out "$P/sa.key" 2048 2>/dev/null
kc config set-cluster local --server="https://127.0.0.1:$APISERVER_PORT" --certificate-authority="$P/ca.crt" --embed-certs >/dev/null
kc config set-credentials admin --client-certificate="$P/admin.crt" --client-key="$P/admin.key" --embed-certs >/dev/null
kc config set-context local --cluster=local --user=admin >/dev/null
kc config use-context local >/dev/null
chmod 600 "$KUBECONFIG_OUT"

launch() { # name binary args... : own process group, logs in .cluster/logs
  local name=$1; shift
  setsid "$@" >"$CLUSTER_DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$CLUSTER_DIR/pids/$name.pid"
}
wait_for() { # what seconds command...
  local what=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  clog "$what did not become ready in ${secs}s; last log lines:"; tail -n 30 "$CLUSTER_DIR/logs/$what.log" >&2 || true
  "$here/cluster-down.sh"; exit 1
}

launch etcd "$ETCD_BIN/etcd" --name=local --data-dir="$CLUSTER_DIR/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="local=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync --auto-compaction-retention=1 \
  --quota-backend-bytes=4294967296 --log-level=warn
wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_CLIENT_PORT/health"

launch kube-apiserver "$K8S_BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" --cert-dir="$CLUSTER_DIR/pki/generated" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" --client-ca-file="$P/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.key" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 --authorization-mode=Node,RBAC --allow-privileged=true \
  --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,DefaultTolerationSeconds,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota,Priority \
  --endpoint-reconciler-type=none --enable-aggregator-routing=true --profiling=false --v=1 ${APISERVER_EXTRA_ARGS:-}
wait_for kube-apiserver 90 kc get --raw /readyz

launch kube-controller-manager "$K8S_BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG_OUT" \
  --authentication-kubeconfig="$KUBECONFIG_OUT" --authorization-kubeconfig="$KUBECONFIG_OUT" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" --use-service-account-credentials=true \
  --controllers='*' --concurrent-job-syncs=10 --concurrent-gc-syncs=20 --kube-api-qps=100 --kube-api-burst=200 \
  --node-monitor-grace-period="$NODE_MONITOR_GRACE_PERIOD" --v=1
launch kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig="$KUBECONFIG_OUT" \
  --authentication-kubeconfig="$KUBECONFIG_OUT" --authorization-kubeconfig="$KUBECONFIG_OUT" \
  --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false --v=1
launch kwok "$KWOK_BIN/kwok" --kubeconfig="$KUBECONFIG_OUT" --config="$here/kwok/stages.yaml${KWOK_EXTRA_CONFIG:+,$KWOK_EXTRA_CONFIG}" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-ip=10.10.0.1 --cidr=10.244.0.0/16 --node-lease-duration-seconds=40 --server-address="127.0.0.1:$KWOK_PORT"
wait_for kube-controller-manager 60 curl -skf "https://127.0.0.1:$KCM_PORT/healthz"
wait_for kube-scheduler 60 curl -skf "https://127.0.0.1:$SCHEDULER_PORT/healthz"
wait_for kwok 30 curl -sf "http://127.0.0.1:$KWOK_PORT/healthz"

# --- nodes ---
extra=(); IFS=',' read -ra ls <<< "$NODE_LABELS"; for l in "${ls[@]}"; do [ -n "$l" ] && extra+=(--label "$l"); done
IFS=',' read -ra is <<< "$NODE_IMAGES"; for i in "${is[@]}"; do [ -n "$i" ] && extra+=(--image "$i"); done
for ((n=0; n<NODES; n++)); do "$here/add-node.sh" "kwok-node-$n" "${extra[@]}"; done
for ((n=0; n<TAINTED_NODES; n++)); do "$here/add-node.sh" "kwok-tainted-$n" --taint dedicated=special:NoSchedule "${extra[@]}"; done
for ((n=0; n<NOT_READY_NODES; n++)); do "$here/add-node.sh" "kwok-notready-$n" --not-ready "${extra[@]}"; done
for ((n=0; n<NORUN_NODES; n++)); do "$here/add-node.sh" "kwok-norun-$n" --never-run-pods "${extra[@]}"; done
if [ "$NODES" -gt 0 ]; then
  wait_for kwok 60 kc wait --for=condition=Ready node -l type=kwok,'!kubernetes.io/role' --timeout=1s \
    --field-selector=metadata.name=kwok-node-0
fi
wait_for kube-controller-manager 60 kc get serviceaccount default -n default
if [ "$REAL_NODES" -gt 0 ]; then
  "$here/realnode/up.sh" "$REAL_NODES" || { clog "real nodes did not start (logs under $CLUSTER_DIR/realnode)"; "$here/cluster-down.sh"; exit 1; }
fi
[ "$REAL_NODES" -gt 0 ] || echo 0 >"$CLUSTER_DIR/real-nodes"
clog "up in $((SECONDS-start))s: export KUBECONFIG=$KUBECONFIG_OUT  (kubectl get nodes)"
