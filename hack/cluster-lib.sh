# Shared settings of the local cluster scripts (sourced).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$here/.." && pwd)"
. "$here/versions.sh"
CLUSTER_DIR="${CLUSTER_DIR:-$ROOT/.cluster}"
KUBECONFIG_OUT="$CLUSTER_DIR/kubeconfig"
# Ports on 127.0.0.1 (chosen away from the usual defaults so a developer's own cluster keeps its ports).
ETCD_CLIENT_PORT="${ETCD_CLIENT_PORT:-23790}"
ETCD_PEER_PORT="${ETCD_PEER_PORT:-23800}"
APISERVER_PORT="${APISERVER_PORT:-26443}"
KCM_PORT="${KCM_PORT:-20257}"
SCHEDULER_PORT="${SCHEDULER_PORT:-20259}"
KWOK_PORT="${KWOK_PORT:-20247}"
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

clog() { printf '[cluster] %s\n' "$*" >&2; }
kc() { kubectl --kubeconfig="$KUBECONFIG_OUT" "$@"; }
pid_of() { local f="$CLUSTER_DIR/pids/$1.pid"; [ -f "$f" ] && cat "$f"; }
alive() { local p; p=$(pid_of "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
