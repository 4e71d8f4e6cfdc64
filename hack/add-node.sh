#!/usr/bin/env bash
# Adds a fake node to the local cluster.
# Usage: hack/add-node.sh NAME [--label k=v]... [--taint k=v:Effect]... [--image ref]...
#                              [--runtime containerd://1.7.24] [--not-ready] [--never-run-pods]
#   --not-ready       kwok does not manage the node: it never becomes Ready and runs no pods
#   --never-run-pods  the node is Ready but its pods stay Pending (the name gets the "norun" marker the
#                     kwok stages key on, so NAME must contain "norun"; the script checks it)
#   --image           an entry of status.images (names: [ref]) as kubelet would report a pulled image
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cluster-lib.sh"
name=${1:?node name}; shift
labels=(); taints=(); images=(); runtime="containerd://1.7.24"; managed=true; norun=false
while [ $# -gt 0 ]; do
  case "$1" in
    --label) labels+=("$2"); shift 2 ;;
    --taint) taints+=("$2"); shift 2 ;;
    --image) images+=("$2"); shift 2 ;;
    --runtime) runtime="$2"; shift 2 ;;
    --not-ready) managed=false; shift ;;
    --never-run-pods) norun=true; shift ;;
    *) echo "add-node: unknown option $1" >&2; exit 2 ;;
  esac
done
if $norun && [[ "$name" != *norun* ]]; then echo "add-node: --never-run-pods needs a name containing 'norun'" >&2; exit 2; fi
{
  echo "apiVersion: v1"
  echo "kind: Node"
  echo "metadata:"
  echo "  name: $name"
  if $managed; then echo "  annotations: {kwok.x-k8s.io/node: fake}"; fi
  echo "  labels:"
  echo "    kubernetes.io/hostname: $name"
  echo "    kubernetes.io/os: linux"
  echo "    kubernetes.io/arch: amd64"
  echo "    type: kwok"
  for l in "${labels[@]}"; do echo "    \"${l%%=*}\": \"${l#*=}\""; done
  echo "spec:"
  if [ ${#taints[@]} -gt 0 ]; then
    echo "  taints:"
    for t in "${taints[@]}"; do
      kv=${t%%:*}; eff=${t##*:}
      echo "  - {key: \"${kv%%=*}\", value: \"$( [[ $kv == *=* ]] && echo "${kv#*=}" )\", effect: $eff}"
    done
  fi
  echo "status:"
  echo "  nodeInfo: {containerRuntimeVersion: \"$runtime\", architecture: amd64, operatingSystem: linux, kubeletVersion: v$K8S_VERSION, kubeProxyVersion: v$K8S_VERSION, kernelVersion: kwok, osImage: kwok, bootID: \"\", machineID: \"\", systemUUID: \"\"}"
  # the scheduler needs capacity even on nodes kwok does not manage (NotReady ones)
  echo "  capacity: {cpu: '64', memory: 256Gi, pods: '1000'}"
  echo "  allocatable: {cpu: '64', memory: 256Gi, pods: '1000'}"
  if [ ${#images[@]} -gt 0 ]; then
    echo "  images:"
    for i in "${images[@]}"; do echo "  - {names: [\"$i\"], sizeBytes: 10000000}"; done
  fi
} | kc create -f - >/dev/null
clog "node $name added"
