# Shared by hack/image/*.sh (sourced): buildah with the vfs storage driver and chroot isolation, its
# store in the version-keyed cache (IMAGE_STORAGE), so builds work without a container engine daemon.
here_image="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here_image/../versions.sh"
ROOT="$(cd "$here_image/../.." && pwd)"
ilog() { printf '[image] %s\n' "$*" >&2; }
bah() { buildah --root "$IMAGE_STORAGE/root" --runroot "$IMAGE_STORAGE/run" --storage-driver vfs "$@"; }
ensure_buildah() {
  command -v buildah >/dev/null 2>&1 && return 0
  [[ $(id -u) -eq 0 ]] || { echo "hack/image: buildah is missing and this is not root: apt-get install buildah" >&2; exit 1; }
  ilog "installing buildah (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah >/dev/null
}
image_exists() { bah inspect --type image "$1" >/dev/null 2>&1; }
