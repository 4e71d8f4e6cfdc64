#!/usr/bin/env bash
# Builds the local control plane from the Go module proxy, once, into a cache folder
# outside the repository keyed by version (see hack/versions.sh). A warm run does nothing.
#   kube-apiserver, kube-controller-manager, kube-scheduler  <- k8s.io/kubernetes (wrapper module)
#   etcd                                                      <- go.etcd.io/etcd/server/v3 (wrapper module)
#   kwok                                                      <- sigs.k8s.io/kwok
#   helm                                                      <- helm.sh/helm/v3
#   kubelet (real nodes, REAL_NODES=n)                        <- k8s.io/kubernetes (wrapper module)
# Usage: hack/build-binaries.sh [k8s|etcd|kwok|helm|kubelet]...   (default: all but kubelet)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/versions.sh"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

log() { printf '[build-binaries] %s\n' "$*" >&2; }
have() { local d=$1; shift; for f in "$@"; do [ -x "$d/$f" ] || return 1; done; [ -f "$d/.complete" ]; }

with_wrapper() { # <name> : creates a temp module dir, echoes its path (removed when the build's subshell exits)
  local w; w="$(mktemp -d "${TMPDIR:-/tmp}/kf-build-$1.XXXXXX")"
  (cd "$w" && go mod init "local/$1build" >/dev/null 2>&1)
  echo "$w"
}

# build_k8s_commands DEST CMD... : builds k8s.io/kubernetes/cmd/CMD... at $K8S_VERSION into DEST (atomically:
# DEST.tmp, then renamed) through a wrapper module that replaces each staging module by its release
build_k8s_commands() {
  local dest=$1; shift
  local start=$SECONDS minor s gomod m x p c pkgs=()
  minor=$(echo "$K8S_VERSION" | cut -d. -f2); s="0.${K8S_VERSION#1.}"
  w=$(with_wrapper k8s); trap 'rm -rf "${w:-}" "${out:-}"' EXIT  # w, out are global: this runs in the build's subshell
  out="$dest.tmp"; rm -rf "$out"; mkdir -p "$out"
  cd "$w"
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$gomod"); do
    go mod edit -replace="$m=$m@v$s"
  done
  for c in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$c@v$K8S_VERSION"); done
  go get "${pkgs[@]}" >&2
  x=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x+=" -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for c in "$@"; do
    log "  go build $c"
    go build -trimpath -tags=selinux,notest -ldflags="-s -w$x" -o "$out/$c" "k8s.io/kubernetes/cmd/$c"
  done
  touch "$out/.complete"; rm -rf "$dest"; mv "$out" "$dest"
  log "$* v$K8S_VERSION built in $((SECONDS-start))s"
}

build_k8s() {
  have "$K8S_BIN" kube-apiserver kube-controller-manager kube-scheduler && return 0
  log "building Kubernetes v$K8S_VERSION (cold build: several minutes)"
  build_k8s_commands "$K8S_BIN" kube-apiserver kube-controller-manager kube-scheduler
}

# the kubelet of the real nodes (hack/realnode/): static (CGO off) like the control plane
build_kubelet() {
  have "$KUBELET_BIN" kubelet && return 0
  log "building kubelet v$K8S_VERSION (cold build: several minutes)"
  build_k8s_commands "$KUBELET_BIN" kubelet
}

build_etcd() {
  have "$ETCD_BIN" etcd && return 0
  log "building etcd v$ETCD_VERSION"
  local start=$SECONDS out
  w=$(with_wrapper etcd); trap 'rm -rf "${w:-}" "$ETCD_BIN.tmp"' EXIT
  out="$ETCD_BIN.tmp"; rm -rf "$out"; mkdir -p "$out"
  cd "$w"
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
  go build -trimpath -ldflags="-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
  touch "$out/.complete"; rm -rf "$ETCD_BIN"; mv "$out" "$ETCD_BIN"
  log "etcd built in $((SECONDS-start))s"
}

build_kwok() {
  have "$KWOK_BIN" kwok && [ -d "$KWOK_BIN/stage" ] && return 0
  log "building kwok v$KWOK_VERSION"
  local start=$SECONDS out mod
  out="$KWOK_BIN.tmp"; rm -rf "$out"; mkdir -p "$out"
  GOBIN="$out" go install "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  # the default stages ship inside the module (kwok v0.8 has no built-in stages)
  mod="$(go env GOMODCACHE)/sigs.k8s.io/kwok@v$KWOK_VERSION"
  cp -r "$mod/kustomize/stage" "$out/stage"; chmod -R u+w "$out/stage"
  touch "$out/.complete"; rm -rf "$KWOK_BIN"; mv "$out" "$KWOK_BIN"
  log "kwok built in $((SECONDS-start))s"
}

build_helm() {
  have "$HELM_BIN" helm && return 0
  log "building helm v$HELM_VERSION"
  local start=$SECONDS out
  out="$HELM_BIN.tmp"; rm -rf "$out"; mkdir -p "$out"
  GOBIN="$out" go install -ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
  touch "$out/.complete"; rm -rf "$HELM_BIN"; mv "$out" "$HELM_BIN"
  log "helm built in $((SECONDS-start))s"
}

targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(etcd kwok helm k8s)
mkdir -p "$KF_CACHE_DIR"
for t in "${targets[@]}"; do
  case "$t" in
    k8s|etcd|kwok|helm|kubelet) (cd "$KF_CACHE_DIR" && "build_$t") ;;
    *) log "unknown target $t"; exit 2 ;;
  esac
done
