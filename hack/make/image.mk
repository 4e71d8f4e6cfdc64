# The project's image built here with buildah (no Docker daemon; hack/image/build.sh), and pushed to the
# local cluster's registry when one runs (make cluster-up REAL_NODES=n). `make release` publishes with
# Docker buildx instead (hack/make/release.mk).
IMAGE_BASE ?= public
IMAGE ?= $(IMAGE_REPO):$(RELEASE_VERSION)
# the local registry's copy: <127.0.0.1:port>/<repository path without the registry host>:<tag>
LOCAL_REGISTRY = $(shell cat $(or $(CLUSTER_DIR),.cluster)/registry/address 2>/dev/null)
IMAGE_PUSH ?= $(if $(LOCAL_REGISTRY),$(LOCAL_REGISTRY)/$(patsubst docker.io/%,%,$(IMAGE)))

.PHONY: image image-base

image: ## build the project's image with buildah (IMAGE_BASE=public|local, IMAGE=repo:tag); pushes to IMAGE_PUSH (default: the local cluster's registry, if up)
	IMAGE="$(IMAGE)" IMAGE_BASE="$(IMAGE_BASE)" IMAGE_PUSH="$(IMAGE_PUSH)" hack/image/build.sh

image-base: ## make the local base image (Debian packages + the npm registry's Node.js binary) that IMAGE_BASE=local builds on
	hack/image/base-image.sh
