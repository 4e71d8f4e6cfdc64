# containerd_config DIR SOCK SANDBOX_IMAGE SNAPSHOTTER CNI_CONF_DIR [EXTRA_CRI_LINE...] (sourced): prints
# the config.toml of a private containerd whose root, state, sockets, runc state and registry hosts all
# live under DIR (hack/containerd/up.sh for the CRI tests, hack/realnode/up.sh for the real nodes).
# EXTRA_CRI_LINEs go into the [plugins."io.containerd.grpc.v1.cri"] table.
containerd_config() {
  local dir=$1 sock=$2 sandbox=$3 snapshotter=$4 cni_conf=$5 extra
  shift 5
  extra=$(printf '    %s\n' "$@")
  cat <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$sock"

[ttrpc]
  address = "$sock.ttrpc"

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$sandbox"
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    disable_tcp_service = true
    enable_selinux = false
    disable_apparmor = true
    # Lowering oom_score_adj below our own is not permitted in every sandbox (runc then fails with
    # "failed to update /proc/self/oom_score_adj: Permission denied" or "can't get final child's PID
    # from pipe: EOF"); clamp it as rootless setups do.
    restrict_oom_score_adj = true
${extra}
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "$snapshotter"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          # runc's state under DIR, not in the host's /run/containerd/runc
          Root = "$dir/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$cni_conf"
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "$dir/certs.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "$dir/opt"
TOML
}
