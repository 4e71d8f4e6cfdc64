# Webhook server targets (validating admission webhook for ImageCaches).
.PHONY: webhook-run webhook-bench test-webhook

webhook-run: build ## run the webhook server on 127.0.0.1 (WEBHOOK_PORT, default 9443) against KUBECONFIG or .cluster/kubeconfig, registered by URL with its CA
	hack/run-webhook.sh

webhook-bench: deps ## admission latency of the webhook seen from the API server (p50/p99; needs `make cluster-up`)
	npx tsx bench/webhook-latency.ts --count=$${COUNT:-300}

test-webhook: deps ## webhook unit tests, then its integration tests against the local cluster (needs `make cluster-up`)
	npx mocha 'test/unit/webhook/**/*.test.ts' 'test/unit/images/**/*.test.ts'
	npx mocha --timeout 300000 'test/integration/webhook/**/*.test.ts'

.PHONY: webhook-schema
webhook-schema: deps ## embed the CRD's openAPIV3Schema (crds/) in the webhook: writes src/webhook/imagecache-schema.ts
	npx tsx hack/gen-webhook-schema.ts
