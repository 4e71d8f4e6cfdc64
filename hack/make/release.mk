# User-facing install, image, chart and release targets (included by the Makefile).
# The variables keep the names of the original kube-fledged Makefile; override any of them on the
# command line, e.g. `make controller-image CONTROLLER_IMAGE_REPO=registry.example.com/kubefledged-controller`.

CHART_DIR := helm/kube-fledged
CHART_VERSION := $(shell sed -n 's/^version: *//p' $(CHART_DIR)/Chart.yaml)
RELEASE_VERSION ?= $(shell sed -n 's/^appVersion: *//p' $(CHART_DIR)/Chart.yaml)
# The project's one image (every entrypoint; the chart's and the controller's defaults name it).
IMAGE_REPO ?= docker.io/kubefledgedts/kube-fledged
# One image per program, as the original published (optional; same content, ENTRYPOINT set).
CONTROLLER_IMAGE_REPO ?= $(IMAGE_REPO)-controller
WEBHOOK_SERVER_IMAGE_REPO ?= $(IMAGE_REPO)-webhook-server
CRI_CLIENT_IMAGE_REPO ?= $(IMAGE_REPO)-cri-client
TARGET_PLATFORMS ?= linux/amd64,linux/arm/v7,linux/arm64/v8
# --push publishes the images; --load keeps a single-platform build in the local Docker engine.
BUILD_OUTPUT ?= --push
PROGRESS ?= auto
NODE_VERSION ?= 20.20.2
HTTP_PROXY ?=
HTTPS_PROXY ?=
DOCKER ?= docker
# make release: docker (Docker buildx with QEMU, as the original) or buildah (hack/image/build.sh, no daemon)
RELEASE_ENGINE ?= docker
KUBECTL ?= kubectl
# helm: the one hack/build-binaries.sh builds (make binaries), else helm from PATH.
HELM ?= $(shell . hack/versions.sh; if [ -x "$$HELM_BIN/helm" ]; then echo "$$HELM_BIN/helm"; else echo helm; fi)
HELM_RELEASE ?= kube-fledged
HELM_ARGS ?=
# deploy-using-yaml / remove-kubefledged apply the manifests of this folder.
DEPLOY_DIR ?= deploy
# Signed chart: a throwaway GPG key unless CHART_SIGN_KEY (a key name) and CHART_KEYRING (a legacy
# secret keyring file, `gpg --export-secret-keys > secring.gpg`) are given.
CHART_DIST ?= dist/chart
CHART_SIGN_KEY ?=
CHART_KEYRING ?=
CHART_PUBLIC_KEYRING ?= $(CHART_DIST)/pubring.gpg

# Apply order of deploy/: namespace and CRD, then the controller, then the webhook server.
CONTROLLER_MANIFESTS := serviceaccount-controller clusterrole-controller clusterrolebinding-controller \
  role-controller rolebinding-controller lease-controller service-controller poddisruptionbudget-controller deployment-controller
WEBHOOK_SERVER_MANIFESTS := serviceaccount-webhook-server clusterrole-webhook-server clusterrolebinding-webhook-server \
  role-webhook-server rolebinding-webhook-server secret-webhook-server service-webhook-server \
  poddisruptionbudget-webhook-server deployment-webhook-server validatingwebhook
manifest_args = $(foreach m,$(1),-f $(DEPLOY_DIR)/kubefledged-$(m).yaml)

.PHONY: deploy-using-yaml remove-kubefledged update deploy-using-helm remove-kubefledged-helm \
  manifests sync-crds chart-lint chart-package \
  chart-verify install-buildx kube-fledged-image controller-image webhook-server-image cri-client-image release release-amd64

deploy-using-yaml: ## install kube-fledged from the plain manifests in $(DEPLOY_DIR)/ (namespace kube-fledged)
	-$(KUBECTL) apply -f $(DEPLOY_DIR)/kubefledged-namespace.yaml
	$(KUBECTL) apply -f $(DEPLOY_DIR)/kubefledged-crd.yaml
	$(KUBECTL) wait --for condition=established --timeout=60s crd/imagecaches.kubefledged.io
	$(KUBECTL) apply $(call manifest_args,$(CONTROLLER_MANIFESTS))
	$(KUBECTL) rollout status deployment -n $(KUBEFLEDGED_NAMESPACE) -l app=kubefledged,kubefledged=kubefledged-controller --watch --timeout=300s
	$(KUBECTL) apply $(call manifest_args,$(WEBHOOK_SERVER_MANIFESTS))
	$(KUBECTL) rollout status deployment -n $(KUBEFLEDGED_NAMESPACE) -l app=kubefledged,kubefledged=kubefledged-webhook-server --watch --timeout=300s
	$(KUBECTL) get pods -n $(KUBEFLEDGED_NAMESPACE) -l app=kubefledged

remove-kubefledged: ## remove what deploy-using-yaml installed, CRD included (ImageCaches are deleted with it)
	$(KUBECTL) delete --ignore-not-found $(call manifest_args,$(WEBHOOK_SERVER_MANIFESTS) $(CONTROLLER_MANIFESTS))
	$(KUBECTL) delete --ignore-not-found -f $(DEPLOY_DIR)/kubefledged-namespace.yaml
	$(KUBECTL) delete --ignore-not-found -f $(DEPLOY_DIR)/kubefledged-crd.yaml

update: ## restart the controller and webhook server (pulls the images again with pullPolicy Always)
	$(KUBECTL) rollout restart deployment -n $(KUBEFLEDGED_NAMESPACE) -l app=kubefledged
	$(KUBECTL) rollout status deployment -n $(KUBEFLEDGED_NAMESPACE) -l app=kubefledged,kubefledged=kubefledged-controller --watch --timeout=300s
	$(KUBECTL) rollout status deployment -n $(KUBEFLEDGED_NAMESPACE) -l app=kubefledged,kubefledged=kubefledged-webhook-server --watch --timeout=300s

deploy-using-helm: ## install or upgrade the chart as release $(HELM_RELEASE) in $(KUBEFLEDGED_NAMESPACE) (extra flags: HELM_ARGS)
	$(HELM) upgrade --install $(HELM_RELEASE) $(CHART_DIR) --namespace $(KUBEFLEDGED_NAMESPACE) --create-namespace --wait --timeout 5m $(HELM_ARGS)

remove-kubefledged-helm: ## uninstall the Helm release and its namespace (the CRD stays, as with every Helm chart)
	$(HELM) uninstall $(HELM_RELEASE) --namespace $(KUBEFLEDGED_NAMESPACE) --wait --ignore-not-found
	$(KUBECTL) delete namespace $(KUBEFLEDGED_NAMESPACE) --ignore-not-found

manifests: sync-crds ## regenerate deploy/ from the chart (deploy/ must not be edited by hand)
	npx tsx hack/chart/render-manifests.ts --out deploy

sync-crds: ## copy crds/imagecaches.kubefledged.io.yaml into the chart and deploy/
	npx tsx hack/chart/render-manifests.ts --sync-crds

chart-lint: ## helm lint the chart
	$(HELM) lint --strict $(CHART_DIR)

chart-package: ## package the chart signed (.tgz + .prov) into $(CHART_DIST) and verify the signature
	HELM="$(HELM)" CHART_DIST="$(CHART_DIST)" CHART_SIGN_KEY="$(CHART_SIGN_KEY)" CHART_KEYRING="$(CHART_KEYRING)" \
	  CHART_PUBLIC_KEYRING="$(CHART_PUBLIC_KEYRING)" hack/chart/package-signed-chart.sh

chart-verify: ## verify the packaged chart's provenance with CHART_PUBLIC_KEYRING
	$(HELM) verify --keyring $(CHART_PUBLIC_KEYRING) $(CHART_DIST)/kube-fledged-$(CHART_VERSION).tgz

# --- container images for release (Docker with buildx; `make image` builds with buildah, no daemon) ---
image_build = $(DOCKER) buildx build --platform=$(TARGET_PLATFORMS) --target=$(1) \
  --build-arg NODE_VERSION=$(NODE_VERSION) --build-arg http_proxy=$(HTTP_PROXY) --build-arg https_proxy=$(HTTPS_PROXY) \
  -t $(2):$(RELEASE_VERSION) -t $(2):latest --progress=$(PROGRESS) $(BUILD_OUTPUT) .

install-buildx: ## register QEMU and create the multi-platform buildx builder "multibuilder"
	$(DOCKER) run --rm --privileged multiarch/qemu-user-static --reset -p yes
	-$(DOCKER) buildx create --name multibuilder
	$(DOCKER) buildx use multibuilder
	$(DOCKER) buildx inspect --bootstrap

kube-fledged-image: ## build (and with BUILD_OUTPUT=--push publish) the one image $(IMAGE_REPO):$(RELEASE_VERSION) (Docker buildx)
	$(call image_build,kube-fledged,$(IMAGE_REPO))

controller-image: ## build (and with BUILD_OUTPUT=--push publish) $(CONTROLLER_IMAGE_REPO):$(RELEASE_VERSION)
	$(call image_build,controller,$(CONTROLLER_IMAGE_REPO))

webhook-server-image: ## build $(WEBHOOK_SERVER_IMAGE_REPO):$(RELEASE_VERSION)
	$(call image_build,webhook-server,$(WEBHOOK_SERVER_IMAGE_REPO))

cri-client-image: ## build $(CRI_CLIENT_IMAGE_REPO):$(RELEASE_VERSION)
	$(call image_build,cri-client,$(CRI_CLIENT_IMAGE_REPO))

release: ## build and push $(IMAGE_REPO):$(RELEASE_VERSION) and :latest for TARGET_PLATFORMS (RELEASE_ENGINE=docker|buildah)
ifeq ($(RELEASE_ENGINE),buildah)
	IMAGE="$(IMAGE_REPO):$(RELEASE_VERSION)" IMAGE_BASE="$(IMAGE_BASE)" IMAGE_PLATFORMS="$(TARGET_PLATFORMS)" \
	  IMAGE_PUSH="$(IMAGE_REPO):$(RELEASE_VERSION) $(IMAGE_REPO):latest" hack/image/build.sh
else ifeq ($(RELEASE_ENGINE),docker)
	$(MAKE) --no-print-directory install-buildx kube-fledged-image
else
	@echo "RELEASE_ENGINE must be docker (Docker buildx, as the original) or buildah (no daemon), got '$(RELEASE_ENGINE)'"; exit 2
endif

release-amd64: ## build and push the image for linux/amd64 only
	$(MAKE) --no-print-directory release TARGET_PLATFORMS=linux/amd64
