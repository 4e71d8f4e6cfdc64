#!/usr/bin/env bash
# The whole suite: lint and type-check, unit tests, then integration and e2e tests on the local control
# plane, the fault suite's quick pass, and the real-node tests (a kubelet joins a local cluster;
# REAL_NODE_TESTS=0 skips them). Prints one closing line "tests: N passed, N failed".
#
# Two shards run at once, each on its own local cluster (most of these tests wait on deadlines, not on
# the CPU): shard A runs the controller's (and the CRI client's) integration tests on the cluster in use (started when none is
# up; a cluster that was already up is left running), shard B starts a private cluster (.cluster-b, ports
# offset by TEST_SHARD_B_PORT_OFFSET, default 100) for the other integration tests, the e2e tests and the
# real-node phase, and stops it afterwards. Every controller a test starts reconciles the whole cluster,
# which is why the shards never share one. TEST_SHARDS=1 runs everything on one cluster, one after the
# other. The Lease renewal test under load and the fault suite's quick pass run last, alone (one measures
# renewal timing, the other stops kube-apiserver and etcd and starves the CPU).
set -uo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cluster-lib.sh"
cd "$ROOT"
start=$SECONDS
results="$(mktemp -d "${TMPDIR:-/tmp}/kf-test.XXXXXX")"
SHARDS="${TEST_SHARDS:-2}"
[[ $SHARDS =~ ^[12]$ ]] || { echo "TEST_SHARDS must be 1 or 2, got '$SHARDS'"; exit 2; }
OFFSET="${TEST_SHARD_B_PORT_OFFSET:-100}"
# shard B's cluster: its own folder and ports (exported only inside shard B's subshell)
b_env=(CLUSTER_DIR="$ROOT/.cluster-b" ETCD_CLIENT_PORT=$((ETCD_CLIENT_PORT + OFFSET)) ETCD_PEER_PORT=$((ETCD_PEER_PORT + OFFSET))
  APISERVER_PORT=$((APISERVER_PORT + OFFSET)) KCM_PORT=$((KCM_PORT + OFFSET)) SCHEDULER_PORT=$((SCHEDULER_PORT + OFFSET))
  KWOK_PORT=$((KWOK_PORT + OFFSET)))
started_cluster=no
pids=()
cleanup() {
  local p; for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null; done
  [ "${#pids[@]}" -gt 0 ] && wait 2>/dev/null
  [ "$SHARDS" = 2 ] && env "${b_env[@]}" "$here/cluster-down.sh" >/dev/null 2>&1
  [ "$started_cluster" = yes ] && "$here/cluster-down.sh" >/dev/null 2>&1
  rm -rf "$results"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# suite NAME mocha-args...: runs one mocha suite, writes "passed failed rc" to $results/NAME.count
suite() {
  local name=$1; shift
  echo "=== $name ==="
  npx mocha --reporter spec "$@" 2>&1 | tee "$results/$name.out"
  local rc=${PIPESTATUS[0]} p f
  p=$(grep -Eo '^ +[0-9]+ passing' "$results/$name.out" | grep -Eo '[0-9]+' | tail -1)
  f=$(grep -Eo '^ +[0-9]+ failing' "$results/$name.out" | grep -Eo '[0-9]+' | tail -1)
  [ "$rc" -ne 0 ] && [ -z "$f" ] && f=1
  echo "${p:-0} ${f:-0} $rc" >"$results/$name.count"
  echo "=== $name: ${p:-0} passed, ${f:-0} failed ($((SECONDS-start))s elapsed) ==="
}
# count NAME PASSED FAILED: a result that is not a mocha suite
count() { echo "$2 $3 $(( $3 > 0 ? 1 : 0 ))" >"$results/$1.count"; }

# the cluster binaries and helm (the chart's unit tests render it) are built once into the cache
"$here/build-binaries.sh" || { echo "building the local control plane failed"; echo "tests: 0 passed, 1 failed"; exit 1; }

# the local clusters start in the background while lint and the unit tests run (set -m: each background
# job is a process group of its own, so an interrupted run stops it whole)
a_pid=; b_pid=
if ! "$here/cluster-up.sh" --status >/dev/null 2>&1; then
  started_cluster=yes
  set -m; "$here/cluster-up.sh" >"$results/cluster-up.log" 2>&1 & a_pid=$!; set +m; pids+=("$a_pid")
fi
if [ "$SHARDS" = 2 ]; then
  # shard B's cluster is always its own (a dead or partial one left by an interrupted run is replaced)
  set -m; env "${b_env[@]}" "$here/cluster-up.sh" >"$results/cluster-up-b.log" 2>&1 & b_pid=$!; set +m; pids+=("$b_pid")
fi

echo "=== lint ==="
if npx eslint . && npx tsc -p tsconfig.json; then count lint 0 0; else echo "lint failed"; count lint 0 1; fi
suite unit 'test/unit/**/*.test.ts'

for w in a b; do
  p=$([ $w = a ] && echo "$a_pid" || echo "$b_pid"); [ -n "$p" ] || continue
  log="$results/cluster-up$([ $w = b ] && echo -b).log"
  if ! wait "$p"; then cat "$log"; echo "cluster-up ($w) failed"; count "cluster-up-$w" 0 1; SHARDS=fail; else tail -n 1 "$log"; fi
done
pids=()

# the real-node phase: a real node joins the shard's cluster (kubelet + containerd + local registry; root)
# for the e2e of the project's image on it; a private cluster with a real node checks that cluster-down
# leaves nothing. REAL_NODE_TESTS=0 skips this phase (it says so).
realnode_phase() {
  if [ "${REAL_NODE_TESTS:-1}" = 0 ]; then echo "=== realnode: skipped (REAL_NODE_TESTS=0) ==="; return; fi
  local rn_start=$SECONDS
  if [ "$(cat "$CLUSTER_DIR/real-nodes" 2>/dev/null || echo 0)" = 0 ] && ! "$here/realnode/up.sh" 1; then
    echo "real node did not start (logs under $CLUSTER_DIR/realnode)"; count realnode-up 0 1
  else
    suite realnode --timeout 900000 'test/e2e/realnode/**/*.test.ts' 'test/integration/realnode/**/*.test.ts'
  fi
  echo "=== realnode phase: $((SECONDS - rn_start))s ==="
}
# shard A: the controller's integration tests and the CRI client's (a containerd of their own), which
# balances the two shards' time
# the Lease renewal test under load runs alone, after the shards: its 4 s renew deadline measures the
# controller's own load, not the other shard's image build on the same 2 cores
lease_test=test/integration/controller/lease-under-load.test.ts
controller_tests=(--timeout 300000 --ignore "$lease_test" 'test/integration/controller/**/*.test.ts' 'test/integration/cri/**/*.test.ts')
other_tests=(--timeout 300000 --ignore 'test/integration/realnode/**' --ignore 'test/integration/controller/**' --ignore 'test/integration/cri/**' 'test/integration/**/*.test.ts')
e2e_tests=(--timeout 900000 --ignore 'test/e2e/realnode/**' 'test/e2e/**/*.test.ts')

if [ "$SHARDS" = 2 ]; then
  echo "=== shards: A (controller and CRI client integration tests) and B (other integration tests, e2e, real node) run at once; their output follows each one's end ==="
  set -m
  ( export KUBECONFIG="$KUBECONFIG_OUT"; suite integration-controller "${controller_tests[@]}" ) >"$results/shard-a.log" 2>&1 &
  a_pid=$!
  ( export "${b_env[@]}"; . "$here/cluster-lib.sh"; export KUBECONFIG="$KUBECONFIG_OUT"
    suite integration "${other_tests[@]}"; suite e2e "${e2e_tests[@]}"; realnode_phase
    "$here/cluster-down.sh" >/dev/null 2>&1 ) >"$results/shard-b.log" 2>&1 &
  b_pid=$!
  set +m
  pids=("$a_pid" "$b_pid")
  wait "$a_pid"; echo "--- shard A (cluster $CLUSTER_DIR) ended at $((SECONDS-start))s ---"; cat "$results/shard-a.log"
  wait "$b_pid"; echo "--- shard B (cluster $ROOT/.cluster-b) ended at $((SECONDS-start))s ---"; cat "$results/shard-b.log"
  pids=()
elif [ "$SHARDS" = 1 ]; then
  export KUBECONFIG="$KUBECONFIG_OUT"
  # the kwok-only suites first: they never see a real node (an ImageCache without nodeSelector targets every node)
  suite integration-controller "${controller_tests[@]}"
  suite integration "${other_tests[@]}"
  suite e2e "${e2e_tests[@]}"
fi

# then, alone: the Lease renewal test under load, and the fault suite, one pass of each fault (make
# test-faults runs the full set), which stops and restarts kube-apiserver and etcd
if [ "$SHARDS" != fail ]; then
  export KUBECONFIG="$KUBECONFIG_OUT"
  suite integration-lease-under-load --timeout 600000 "$lease_test"
  echo "=== faults (one pass of each) ==="
  npx tsx test/faults/run.ts --quick 2>&1 | tee "$results/faults.out"; frc=${PIPESTATUS[0]}
  fp=$(grep -Eo '^faults: [0-9]+ passed' "$results/faults.out" | grep -Eo '[0-9]+' | tail -1)
  ff=$(grep -Eo '^faults: [0-9]+ passed, [0-9]+ failed' "$results/faults.out" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' | tail -1)
  [ "$frc" -ne 0 ] && [ -z "$ff" ] && ff=1
  count faults "${fp:-0}" "${ff:-0}"
  echo "=== faults: ${fp:-0} passed, ${ff:-0} failed ($((SECONDS-start))s elapsed) ==="
  [ "$SHARDS" = 1 ] && realnode_phase
fi

passed=0; failed=0; status=0
for c in "$results"/*.count; do
  read -r p f rc <"$c"
  passed=$((passed + p)); failed=$((failed + f)); [ "$rc" -ne 0 ] && status=1
done
echo "whole suite: $((SECONDS-start))s"
echo "tests: $passed passed, $failed failed"
exit $status
