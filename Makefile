# kube-fledged (TypeScript) — developer and user entry points.
# `make test` is the whole suite (lint, unit, integration, e2e) on a local control plane it starts itself.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODES ?= 3
REAL_NODES ?= 0
KUBEFLEDGED_NAMESPACE ?= kube-fledged
export NODES REAL_NODES

.PHONY: help deps build lint test test-unit test-integration test-e2e test-realnode binaries cluster-up cluster-down cluster-status clean

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-32s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed ## install npm packages (npm ci)

build: deps ## compile TypeScript to dist/, and the controller into one file (dist/bundle/, hack/bundle.mjs)
	npx tsc -p tsconfig.build.json
	node hack/bundle.mjs

lint: deps ## eslint + type-check
	npx eslint .
	npx tsc -p tsconfig.json

test-unit: deps ## unit tests (no cluster)
	npx mocha 'test/unit/**/*.test.ts'

binaries: ## build the control plane, kwok and helm once into the version-keyed cache
	hack/build-binaries.sh

cluster-up: binaries ## start (or reuse) the local control plane with $(NODES) kwok nodes and $(REAL_NODES) real nodes (kubelet + containerd)
	hack/cluster-up.sh

cluster-down: ## stop the local control plane and remove its state
	hack/cluster-down.sh

cluster-status: ## is the local control plane up?
	hack/cluster-up.sh --status

test-integration: deps ## integration tests (needs `make cluster-up`)
	npx mocha --timeout 300000 --ignore 'test/integration/realnode/**' 'test/integration/**/*.test.ts'

test-e2e: deps ## end-to-end tests on kwok nodes (needs `make cluster-up`)
	npx mocha --timeout 900000 --ignore 'test/e2e/realnode/**' 'test/e2e/**/*.test.ts'

test-realnode: deps ## real-node tests: the project's image on a real kubelet, real pulls and purges (needs `make cluster-up REAL_NODES=1`; root)
	npx mocha --timeout 900000 'test/e2e/realnode/**/*.test.ts' 'test/integration/realnode/**/*.test.ts'

test: deps ## the whole suite: lint, unit, then integration and e2e on a local cluster it starts (and stops)
	hack/test.sh

clean: ## remove build output
	rm -rf dist

-include hack/make/*.mk

.PHONY: run
run: deps ## run the controller (and webhook) in the foreground against the kubeconfig in use, or the local cluster; ARGS="--flag=value ..."
	hack/run.sh

.PHONY: bench-controller
bench-controller: deps ## seconds from create to Succeeded, Jobs and pods: NODES_BENCH=50 IMAGES_BENCH=10 (needs make cluster-up)
	npx tsx bench/controller-scale.ts --nodes $${NODES_BENCH:-50} --images $${IMAGES_BENCH:-10}

.PHONY: bench-pod-start
bench-pod-start: deps ## pod start on a real node, image absent vs cached: RUNS=5 (needs make cluster-up REAL_NODES=1); writes bench/results/pod-start.*
	npx tsx bench/pod-start.ts --runs $${RUNS:-5}
	npx tsx bench/pod-start-chart.ts
