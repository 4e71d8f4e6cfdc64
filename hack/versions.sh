# Pinned versions of the local control plane and tools (sourced by hack/*.sh).
# Changing a version changes the cache key: the next `make cluster-up` builds it once.
K8S_VERSION="${K8S_VERSION:-1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-0.8.0}"
HELM_VERSION="${HELM_VERSION:-3.22.0}"
# Where built binaries are cached, outside the repository, keyed by version.
KF_CACHE_DIR="${KF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-fledged-ts}"
K8S_BIN="$KF_CACHE_DIR/k8s-v$K8S_VERSION"
ETCD_BIN="$KF_CACHE_DIR/etcd-v$ETCD_VERSION"
KWOK_BIN="$KF_CACHE_DIR/kwok-v$KWOK_VERSION"
HELM_BIN="$KF_CACHE_DIR/helm-v$HELM_VERSION"
# the kubelet of the real nodes (REAL_NODES=n): same Kubernetes version, its own folder so that it is
# built only when real nodes are asked for
KUBELET_BIN="$KF_CACHE_DIR/kubelet-v$K8S_VERSION"
# The project's image (make image): Node of the image (also the Dockerfile's NODE_VERSION default) and
# the npm put into the base that `make image IMAGE_BASE=local` makes here (hack/image/base-image.sh).
IMAGE_NODE_VERSION="${IMAGE_NODE_VERSION:-20.20.2}"
IMAGE_NPM_VERSION="${IMAGE_NPM_VERSION:-10.9.8}"
# buildah's image store (vfs driver: works in any container or VM, no overlay mounts left behind)
IMAGE_STORAGE="${IMAGE_STORAGE:-$KF_CACHE_DIR/image-storage}"
