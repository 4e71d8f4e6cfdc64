#!/usr/bin/env bash
# Stops what hack/containerd/up.sh started in DIR and removes DIR:
#   hack/containerd/down.sh [--keep-dir] [DIR]      DIR defaults to $KF_CRI_DIR or /tmp/kubefledged-cri
# Order: the containers still running (killed through containerd, which also removes their cgroups),
# containerd's shims serving this DIR's socket, containerd, the registry; then any mount left under
# DIR, the test cgroup parent (/kubefledged-cri-test, only if empty), and DIR itself.
set -euo pipefail
keep=false
if [[ ${1:-} == --keep-dir ]]; then keep=true; shift; fi
dir=${1:-${KF_CRI_DIR:-/tmp/kubefledged-cri}}
[[ -d $dir ]] || exit 0
dir=$(cd "$dir" && pwd)
sock=$dir/containerd.sock

# stop_pid PID: TERM, up to 10 s, then KILL
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# 1. tasks (containers and sandboxes) through containerd while it still runs
if [[ -S $sock ]] && [[ -f $dir/containerd.pid ]] && kill -0 "$(cat "$dir/containerd.pid")" 2>/dev/null; then
  ctr_() { timeout 20 ctr --address "$sock" --namespace k8s.io "$@"; }
  for task in $(ctr_ tasks ls -q 2>/dev/null || true); do
    ctr_ tasks kill --all --signal SIGKILL "$task" >/dev/null 2>&1 || true
  done
  for task in $(ctr_ tasks ls -q 2>/dev/null || true); do
    ctr_ tasks delete --force "$task" >/dev/null 2>&1 || true
  done
fi

# 2. shims of this containerd: their command line carries "-address <DIR>/containerd.sock"
for cmdline in /proc/[0-9]*/cmdline; do
  pid=${cmdline#/proc/}
  pid=${pid%/cmdline}
  args=$({ tr '\0' ' ' <"$cmdline"; } 2>/dev/null || true)
  if [[ $args == *containerd-shim* && $args == *"-address $sock "* ]]; then
    stop_pid "$pid"
  fi
done

# 3. containerd and the registry
for name in containerd registry; do
  if [[ -f $dir/$name.pid ]]; then
    stop_pid "$(cat "$dir/$name.pid")"
    rm -f "$dir/$name.pid"
  fi
done

# 4. mounts below DIR, deepest first
awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
  umount -l "$m" 2>/dev/null || true
done

# 5. the tests' cgroup parent, when nothing is left in it (rmdir never removes a used cgroup)
for parent in /sys/fs/cgroup/kubefledged-cri-test /sys/fs/cgroup/*/kubefledged-cri-test; do
  [[ -d $parent ]] || continue
  find "$parent" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
  rmdir "$parent" 2>/dev/null || true
done

# 6. containerd keeps shim sockets under /run/containerd/s whatever its state dir; drop the folders
#    only if they are empty (another containerd on this machine keeps its own files there)
rmdir /run/containerd/s /run/containerd 2>/dev/null || true

if ! $keep; then
  rm -rf "$dir"
fi
