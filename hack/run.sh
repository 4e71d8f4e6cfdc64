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
node hack/bundle.mjs

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

rlog() { printf '[run] %s\n' "$*" >&2; }
pids=()
names=()
webhook_config=""
# Stops what this script started (SIGTERM: the controller drains and releases its Lease, the webhook
# unregisters), then removes the local webhook configuration in case the server could not (killed).
cleanup() {
  local rc=$?
  trap - EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$webhook_config" ]; then
    kubectl delete validatingwebhookconfiguration "$webhook_config" --ignore-not-found --request-timeout=10s >/dev/null 2>&1 &&
      rlog "removed the local ValidatingWebhookConfiguration $webhook_config" || true
  fi
  rlog "stopped (controller${webhook_config:+ and webhook})"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ "${WEBHOOK:-true}" != false ] && [ -f dist/cmd/webhook-server.js ] && [ -x hack/run-webhook.sh ]; then
  webhook_config="${WEBHOOK_CONFIG_NAME:-kubefledged-webhook-server-local}"
  WEBHOOK_CONFIG_NAME="$webhook_config" hack/run-webhook.sh &
  pids+=($!)
  names+=(webhook)
fi
# shellcheck disable=SC2086
# the controller as the image starts it: the bundle, with its V8 flags (hack/bundle.mjs)
dist/bundle/kubefledged-controller --kubeconfig="$kcfg" --stderrthreshold=INFO ${ARGS:-} &
pids+=($!)
names+=(controller)
rlog "running: ${names[*]} (pids ${pids[*]}); Ctrl-C stops them${webhook_config:+ and removes the local webhook registration}"
set +e
wait -n "${pids[@]}"
rc=$?
set -e
for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then
    rlog "the ${names[$i]} (pid ${pids[$i]}) exited with code $rc: stopping the rest"
  fi
done
exit "$rc"
