#!/usr/bin/env bash
# Builds the project's image from the Dockerfile with buildah (no Docker daemon: vfs storage, chroot
# isolation) and optionally pushes it:
#   hack/image/build.sh                      IMAGE_BASE=public (default): the public Node and Go images
#   IMAGE_BASE=local hack/image/build.sh     a base made here (hack/image/base-image.sh) and helm from the
#                                            version-keyed cache (hack/build-binaries.sh helm)
#   IMAGE=<repository>:<tag>                 default docker.io/kubefledgedts/kube-fledged:<chart appVersion>
#   IMAGE_PUSH="<ref> ..."                   push to these references (docker://, plain HTTP allowed for
#                                            127.0.0.1 registries); `make image` pushes to the local
#                                            cluster's registry when one runs
# Prints the image ID.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
app_version=$(sed -n 's/^appVersion: *//p' "$ROOT/helm/kube-fledged/Chart.yaml")
IMAGE="${IMAGE:-docker.io/kubefledgedts/kube-fledged:$app_version}"
IMAGE_BASE="${IMAGE_BASE:-public}"
IMAGE_PUSH="${IMAGE_PUSH:-}"
ensure_buildah
args=(--build-arg "NODE_VERSION=$IMAGE_NODE_VERSION" --build-arg "HELM_VERSION=$HELM_VERSION")
case "$IMAGE_BASE" in
  public) ;;
  local)
    base=$("$here_image/base-image.sh")
    [ -x "$HELM_BIN/helm" ] || "$here_image/../build-binaries.sh" helm
    helm_ref="localhost/kube-fledged-helm:v$HELM_VERSION"
    if ! image_exists "$helm_ref"; then
      ctr=$(bah from scratch)
      bah copy --chmod 0755 "$ctr" "$HELM_BIN/helm" /out/helm >/dev/null
      bah commit --quiet "$ctr" "$helm_ref" >/dev/null; bah rm "$ctr" >/dev/null
    fi
    args+=(--build-arg "BUILD_IMAGE=$base" --build-arg "RUNTIME_IMAGE=$base" --build-arg "HELM_FROM=$helm_ref" --pull-never)
    ;;
  *) echo "hack/image/build.sh: IMAGE_BASE must be public or local, got '$IMAGE_BASE'" >&2; exit 2 ;;
esac
start=$SECONDS
ilog "building $IMAGE (base: $IMAGE_BASE)"
bah bud --quiet --isolation chroot --layers=false --target kube-fledged -f "$ROOT/Dockerfile" -t "$IMAGE" "${args[@]}" "$ROOT" >&2
id=$(bah inspect --type image --format '{{.FromImageID}}' "$IMAGE")
ilog "built $IMAGE in $((SECONDS - start))s"
for dest in $IMAGE_PUSH; do
  tls=(); [[ $dest == 127.0.0.1:* || $dest == localhost:* ]] && tls=(--tls-verify=false)
  bah push --quiet "${tls[@]}" "$IMAGE" "docker://$dest" >&2
  ilog "pushed $dest"
done
echo "$id"
