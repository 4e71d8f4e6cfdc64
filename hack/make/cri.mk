# CRI client (kubefledged-cri-client): a private containerd with its CRI plugin and a local registry on
# loopback, for trying the client by hand and for its tests (hack/containerd/). No cluster needed; root.
KF_CRI_DIR ?= /tmp/kubefledged-cri

.PHONY: cri-up cri-down test-cri

cri-up: ## start a private containerd (CRI) + registry under $(KF_CRI_DIR) with test images; prints env.json
	hack/containerd/up.sh $(KF_CRI_DIR)
	@echo "try: npx tsx src/cmd/cri-client.ts -r unix://$(KF_CRI_DIR)/containerd.sock images"

cri-down: ## stop the containerd and registry of cri-up and remove $(KF_CRI_DIR)
	hack/containerd/down.sh $(KF_CRI_DIR)

test-cri: deps ## CRI client: unit tests, then tests against a real containerd (they start and stop their own)
	npx mocha 'test/unit/cri/**/*.test.ts'
	npx mocha --timeout 300000 'test/integration/cri/**/*.test.ts'
