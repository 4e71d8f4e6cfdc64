#!/usr/bin/env bash
# Runs the webhook server in the foreground on 127.0.0.1 against $KUBECONFIG (default: the local
# cluster's .cluster/kubeconfig), registered with the API server by URL with the CA of its self-managed
# TLS Secret. Called by `make run` (hack/run.sh) and `make webhook-run`. On SIGTERM/SIGINT the server
# deletes its ValidatingWebhookConfiguration (retrying); and the local registration uses
# failurePolicy Ignore, so even a server killed before it could unregister never blocks ImageCache
# creates or edits (the chart and deploy/ keep Fail, with replicas and a PodDisruptionBudget).
#   WEBHOOK_PORT=9443                                   listen port
#   WEBHOOK_CONFIG_NAME=kubefledged-webhook-server-local name of the registered configuration
#   WEBHOOK_FAILURE_POLICY=Ignore                       failurePolicy of the local registration (Fail to try it)
#   WEBHOOK_ARGS="..."                                  extra server flags, e.g. "--v=4"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export KUBECONFIG="${KUBECONFIG:-$ROOT/.cluster/kubeconfig}"
ns="${KUBEFLEDGED_NAMESPACE:-kube-fledged}"
port="${WEBHOOK_PORT:-9443}"
name="${WEBHOOK_CONFIG_NAME:-kubefledged-webhook-server-local}"
policy="${WEBHOOK_FAILURE_POLICY:-Ignore}"
kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns" >/dev/null
if [ -f dist/cmd/webhook-server.js ]; then
  entry=(node dist/cmd/webhook-server.js)
else
  entry=(node --import tsx src/cmd/webhook-server.ts)
fi
echo "[webhook] https://127.0.0.1:$port/validate-image-cache registered as ValidatingWebhookConfiguration $name (TLS Secret $ns/$name-tls), failurePolicy $policy$([ "$policy" = Ignore ] && echo ': while this server is down, ImageCaches are admitted unvalidated')" >&2
# shellcheck disable=SC2086
exec "${entry[@]}" \
  --kubeconfig="$KUBECONFIG" \
  --host=127.0.0.1 --port="$port" \
  --webhook-url="https://127.0.0.1:$port/validate-image-cache" \
  --webhook-config-name="$name" \
  --tls-secret-namespace="$ns" --tls-secret-name="$name-tls" \
  --failure-policy="$policy" \
  --unregister-on-exit \
  --stderrthreshold=INFO ${WEBHOOK_ARGS:-}
