#!/usr/bin/env bash
# `make run`: runs the controller (and the webhook server, when it is built) in the foreground against the
# kubeconfig in use, or else against the bundled local cluster, which it starts first.
#   ARGS="..."           extra controller flags, e.g. ARGS="--image-pull-deadline-duration=30s"
#   WEBHOOK=false        do not start the webhook server
#   USE_LOCAL_CLUSTER=1  always use the bundled local cluster
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cluster-lib.sh"
cd "$ROOT"
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p tsconfig.build.json

kcfg=""
if [ "${USE_LOCAL_CLUSTER:-0}" != 1 ] && kubectl version --request-timeout=5s >/dev/null 2>&1; then
  kcfg="${KUBECONFIG:-$HOME/.kube/config}"
  clog "using the kubeconfig in use: $kcfg ($(kubectl config current-context 2>/dev/null || echo in-cluster))"
else
  "$here/cluster-up.sh"
  kcfg="$KUBECONFIG_OUT"
fi
export KUBECONFIG="$kcfg"
ns="${KUBEFLEDGED_NAMESPACE:-kube-fledged}"
kubectl apply -f crds/ >/dev/null
kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns" >/dev/null
kubectl wait --for condition=established --timeout=60s crd/imagecaches.kubefledged.io >/dev/null
export KUBEFLEDGED_NAMESPACE="$ns"

pids=()
stop() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM
if [ "${WEBHOOK:-true}" != false ] && [ -f dist/cmd/webhook-server.js ] && [ -x hack/run-webhook.sh ]; then
  hack/run-webhook.sh &
  pids+=($!)
fi
# shellcheck disable=SC2086
node dist/cmd/controller.js --kubeconfig="$kcfg" --stderrthreshold=INFO ${ARGS:-} &
pids+=($!)
wait -n "${pids[@]}"
