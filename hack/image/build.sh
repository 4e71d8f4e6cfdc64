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
#   IMAGE_PLATFORMS="linux/amd64,..."        build one image per platform into a manifest list named IMAGE
#                                            and push the whole list (`make release RELEASE_ENGINE=buildah`);
#                                            platforms other than the host's need the host's binfmt_misc
#                                            emulation (Debian's qemu-user-static), as Docker buildx does
# Prints the image ID (with IMAGE_PLATFORMS: the manifest list's).
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
app_version=$(sed -n 's/^appVersion: *//p' "$ROOT/helm/kube-fledged/Chart.yaml")
IMAGE="${IMAGE:-docker.io/kubefledgedts/kube-fledged:$app_version}"
IMAGE_BASE="${IMAGE_BASE:-public}"
IMAGE_PUSH="${IMAGE_PUSH:-}"
IMAGE_PLATFORMS="${IMAGE_PLATFORMS:-}"
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
bud=(bud --quiet --isolation chroot --layers=false --target kube-fledged -f "$ROOT/Dockerfile" "${args[@]}")
if [ -z "$IMAGE_PLATFORMS" ]; then
  ilog "building $IMAGE (base: $IMAGE_BASE)"
  bah "${bud[@]}" -t "$IMAGE" "$ROOT" >&2
  id=$(bah inspect --type image --format '{{.FromImageID}}' "$IMAGE")
else
  # a manifest list of that name replaces an earlier list or image of the same name
  bah manifest rm "$IMAGE" >/dev/null 2>&1 || bah rmi "$IMAGE" >/dev/null 2>&1 || true
  bah manifest create "$IMAGE" >/dev/null
  IFS=',' read -ra platforms <<< "$IMAGE_PLATFORMS"
  for p in "${platforms[@]}"; do
    ilog "building $IMAGE for $p (base: $IMAGE_BASE)"
    bah "${bud[@]}" --platform "$p" --manifest "$IMAGE" "$ROOT" >&2
  done
  id=$(bah manifest inspect "$IMAGE" | sha256sum | cut -c1-64)
fi
ilog "built $IMAGE in $((SECONDS - start))s"
for dest in $IMAGE_PUSH; do
  tls=(); [[ $dest == 127.0.0.1:* || $dest == localhost:* ]] && tls=(--tls-verify=false)
  if [ -z "$IMAGE_PLATFORMS" ]; then
    bah push --quiet "${tls[@]}" "$IMAGE" "docker://$dest" >&2
  else
    bah manifest push --quiet --all "${tls[@]}" "$IMAGE" "docker://$dest" >&2
  fi
  ilog "pushed $dest"
done
echo "$id"
