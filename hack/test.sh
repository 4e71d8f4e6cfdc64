#!/usr/bin/env bash
# The whole suite: lint and type-check, unit tests, then integration and e2e tests on the local control
# plane, then the real-node tests (a kubelet joins that cluster; REAL_NODE_TESTS=0 skips them). Starts the cluster when none is up and stops it afterwards (a cluster that was already up is
# left running). Prints one closing line "tests: N passed, N failed".
set -uo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cluster-lib.sh"
cd "$ROOT"
start=$SECONDS
results="$(mktemp -d "${TMPDIR:-/tmp}/kf-test.XXXXXX")"
started_cluster=no
cleanup() {
  [ "$started_cluster" = yes ] && "$here/cluster-down.sh" >/dev/null 2>&1
  rm -rf "$results"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0; failed=0; status=0
suite() { # name mocha-args...
  local name=$1; shift
  echo "=== $name ==="
  npx mocha --reporter spec "$@" 2>&1 | tee "$results/$name.out"
  local rc=${PIPESTATUS[0]}
  local p f
  p=$(grep -Eo '^ +[0-9]+ passing' "$results/$name.out" | grep -Eo '[0-9]+' | tail -1)
  f=$(grep -Eo '^ +[0-9]+ failing' "$results/$name.out" | grep -Eo '[0-9]+' | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ]; then status=1; [ -z "$f" ] && failed=$((failed + 1)); fi
  echo "=== $name: ${p:-0} passed, ${f:-0} failed ($((SECONDS-start))s elapsed) ==="
}

# the cluster binaries and helm (the chart's unit tests render it) are built once into the cache
"$here/build-binaries.sh" || { echo "building the local control plane failed"; echo "tests: 0 passed, 1 failed"; exit 1; }

# the local cluster starts in the background while lint and the unit tests run
cluster_pid=
if ! "$here/cluster-up.sh" --status >/dev/null 2>&1; then
  started_cluster=yes
  "$here/cluster-up.sh" >"$results/cluster-up.log" 2>&1 &
  cluster_pid=$!
fi

echo "=== lint ==="
if ! { npx eslint . && npx tsc -p tsconfig.json; }; then echo "lint failed"; status=1; failed=$((failed + 1)); fi

suite unit 'test/unit/**/*.test.ts'

if [ -n "$cluster_pid" ]; then
  if ! wait "$cluster_pid"; then
    cat "$results/cluster-up.log"; echo "cluster-up failed"; echo "tests: $passed passed, $((failed + 1)) failed"; exit 1
  fi
  tail -n 1 "$results/cluster-up.log"
fi
export KUBECONFIG="$KUBECONFIG_OUT"
# the kwok-only suites first: they never see a real node (an ImageCache without nodeSelector targets every node)
suite integration --timeout 300000 --ignore 'test/integration/realnode/**' 'test/integration/**/*.test.ts'
suite e2e --timeout 900000 --ignore 'test/e2e/realnode/**' 'test/e2e/**/*.test.ts'

# the fault suite, one pass of each fault (make test-faults runs the full set): it stops and restarts
# this cluster's kube-apiserver and etcd, so it runs after the suites that share the cluster
echo "=== faults (one pass of each) ==="
npx tsx test/faults/run.ts --quick 2>&1 | tee "$results/faults.out"; frc=${PIPESTATUS[0]}
fp=$(grep -Eo '^faults: [0-9]+ passed' "$results/faults.out" | grep -Eo '[0-9]+' | tail -1)
ff=$(grep -Eo '^faults: [0-9]+ passed, [0-9]+ failed' "$results/faults.out" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' | tail -1)
passed=$((passed + ${fp:-0})); failed=$((failed + ${ff:-0}))
if [ "$frc" -ne 0 ]; then status=1; [ -z "$ff" ] && failed=$((failed + 1)); fi
echo "=== faults: ${fp:-0} passed, ${ff:-0} failed ($((SECONDS-start))s elapsed) ==="

# then a real node joins the same cluster (kubelet + containerd + local registry; root), for the e2e of the
# project's image on it, and a private cluster with a real node checks that cluster-down leaves nothing.
# REAL_NODE_TESTS=0 skips this phase (it says so).
if [ "${REAL_NODE_TESTS:-1}" = 0 ]; then
  echo "=== realnode: skipped (REAL_NODE_TESTS=0) ==="
else
  rn_start=$SECONDS
  if [ "$(cat "$CLUSTER_DIR/real-nodes" 2>/dev/null || echo 0)" = 0 ] && ! "$here/realnode/up.sh" 1; then
    echo "real node did not start (logs under $CLUSTER_DIR/realnode)"; status=1; failed=$((failed + 1))
  else
    suite realnode --timeout 900000 'test/e2e/realnode/**/*.test.ts' 'test/integration/realnode/**/*.test.ts'
  fi
  echo "=== realnode phase: $((SECONDS - rn_start))s ==="
fi

echo "whole suite: $((SECONDS-start))s"
echo "tests: $passed passed, $failed failed"
exit $status
