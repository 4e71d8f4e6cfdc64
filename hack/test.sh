#!/usr/bin/env bash
# The whole suite: lint and type-check, unit tests, then integration and e2e tests on the local control
# plane. Starts the cluster when none is up and stops it afterwards (a cluster that was already up is
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

echo "=== lint ==="
if ! { npx eslint . && npx tsc -p tsconfig.json; }; then echo "lint failed"; status=1; failed=$((failed + 1)); fi

suite unit 'test/unit/**/*.test.ts'

if ! "$here/cluster-up.sh" --status >/dev/null 2>&1; then
  started_cluster=yes
  "$here/cluster-up.sh" || { echo "cluster-up failed"; echo "tests: $passed passed, $((failed + 1)) failed"; exit 1; }
fi
export KUBECONFIG="$KUBECONFIG_OUT"
suite integration --timeout 300000 'test/integration/**/*.test.ts'
suite e2e --timeout 900000 'test/e2e/**/*.test.ts'

echo "whole suite: $((SECONDS-start))s"
echo "tests: $passed passed, $failed failed"
exit $status
