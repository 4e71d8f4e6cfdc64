# The KubeFledged operator path (the original's third install path): kubefledged-operator runs in
# $(KUBEFLEDGED_NAMESPACE) and installs kube-fledged from the KubeFledged object $(KUBEFLEDGED_CR)
# (spec = chart values). The files of $(OPERATOR_DIR) say `namespace: kube-fledged`; they are applied
# through sed to stdout for another namespace, so the working tree is never modified.
OPERATOR_DIR ?= deploy/kubefledged-operator/deploy
OPERATOR_CRD ?= $(OPERATOR_DIR)/crds/charts.helm.kubefledged.io_kubefledgeds_crd.yaml
KUBEFLEDGED_CR ?= $(OPERATOR_DIR)/crds/charts.helm.kubefledged.io_v1alpha2_kubefledged_cr.yaml
OPERATOR_MANIFESTS := service_account clusterrole clusterrole_binding role role_binding operator
# The operator's image (the project's image: the operator is one more entrypoint of it).
OPERATOR_IMAGE ?= $(IMAGE_REPO):$(RELEASE_VERSION)
# Pin the operator's pod to nodes with this label (key=value), e.g. OPERATOR_NODE_SELECTOR=kubernetes.io/os=linux;
# empty = any node. (The chart's own pods follow the KubeFledged object's spec.nodeSelector.)
OPERATOR_NODE_SELECTOR ?=
# Label of what the operator applied or created (the ImageCache CRD too, when it was missing).
OPERATOR_OWNER_LABEL := charts.helm.kubefledged.io/owner-namespace

# $(call in_namespace,files): the files as one YAML stream, in namespace $(KUBEFLEDGED_NAMESPACE), the
# operator's image $(OPERATOR_IMAGE)
in_namespace = for f in $(1); do echo ---; sed -e 's/^\(  *namespace:\) kube-fledged$$/\1 $(KUBEFLEDGED_NAMESPACE)/' \
  -e 's|^\(  *image:\) docker.io/kubefledgedts/kube-fledged:v[0-9.]*$$|\1 $(OPERATOR_IMAGE)|' \
  $(if $(OPERATOR_NODE_SELECTOR),-e 's|^\(  *\)serviceAccountName: kubefledged-operator$$|&\n\1nodeSelector: {"$(firstword $(subst =, ,$(OPERATOR_NODE_SELECTOR)))": "$(word 2,$(subst =, ,$(OPERATOR_NODE_SELECTOR)))"}|') "$$f"; done
operator_files = $(foreach m,$(OPERATOR_MANIFESTS),$(OPERATOR_DIR)/$(m).yaml)

.PHONY: deploy-using-operator remove-kubefledged-and-operator

deploy-using-operator: ## install kubefledged-operator and kube-fledged through the KubeFledged object $(KUBEFLEDGED_CR) in $(KUBEFLEDGED_NAMESPACE)
	-$(KUBECTL) create namespace $(KUBEFLEDGED_NAMESPACE)
	$(KUBECTL) apply -f $(OPERATOR_CRD)
	$(KUBECTL) wait --for condition=established --timeout=60s crd/kubefledgeds.charts.helm.kubefledged.io
	$(call in_namespace,$(operator_files)) | $(KUBECTL) apply -f -
	$(KUBECTL) rollout status deployment kubefledged-operator -n $(KUBEFLEDGED_NAMESPACE) --watch --timeout=300s
	$(call in_namespace,$(KUBEFLEDGED_CR)) | $(KUBECTL) apply -f -
	$(call in_namespace,$(KUBEFLEDGED_CR)) | $(KUBECTL) wait --for=condition=Deployed --timeout=300s -f -
	$(KUBECTL) rollout status deployment -n $(KUBEFLEDGED_NAMESPACE) -l 'app=kubefledged,kubefledged in (kubefledged-controller,kubefledged-webhook-server)' --watch --timeout=300s
	$(KUBECTL) get kubefledgeds,pods -n $(KUBEFLEDGED_NAMESPACE)

remove-kubefledged-and-operator: ## delete the KubeFledged object (the operator removes kube-fledged), then the operator, its CRD and the namespace
	$(call in_namespace,$(KUBEFLEDGED_CR)) | $(KUBECTL) delete --ignore-not-found --wait --timeout=300s -f -
	$(call in_namespace,$(operator_files)) | $(KUBECTL) delete --ignore-not-found -f -
	$(KUBECTL) delete customresourcedefinitions -l $(OPERATOR_OWNER_LABEL)=$(KUBEFLEDGED_NAMESPACE) --ignore-not-found
	$(KUBECTL) delete --ignore-not-found -f $(OPERATOR_CRD)
	$(KUBECTL) delete namespace $(KUBEFLEDGED_NAMESPACE) --ignore-not-found
