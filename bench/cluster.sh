#!/usr/bin/env bash
# The cluster of `make bench`: the local control plane of hack/cluster-up.sh with no default nodes (the
# bench creates its own) and kube-apiserver's audit log on (bench/audit-policy.yaml), from which the bench
# counts the requests of the controller, the floor and the original's strategy apart.
#   bench/cluster.sh up     start it, or reuse a running cluster that already writes the audit log
#   bench/cluster.sh audit  print the audit log path (exit 1 when the running cluster has none)
#   bench/cluster.sh restart-apiserver  start kube-apiserver again, with the same flags (fresh watch caches),
#                                       etcd compacted and defragmented while it is down
# BENCH_APISERVER_EXTRA_ARGS adds kube-apiserver flags (--profiling=true: CPU profiles at /debug/pprof).
# BENCH_KWOK_CONFIG names a kwok config file to add (bench/kwok-parallel.yaml: 16 pod status writers).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$here/.." && pwd)"
CLUSTER_DIR="${CLUSTER_DIR:-$ROOT/.cluster}"
AUDIT_LOG="$CLUSTER_DIR/logs/audit.log"

audit_on() { # the running kube-apiserver was started with our audit flags
  local pid; pid=$(cat "$CLUSTER_DIR/pids/kube-apiserver.pid" 2>/dev/null) || return 1
  tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qx -- "--audit-log-path=$AUDIT_LOG"
}

# etcd compacted to its current revision and defragmented, with kube-apiserver stopped. kube-apiserver
# compacts etcd 5 minutes after it starts and every 5 minutes after: started again before every
# contestant (every 3-7 minutes at 1,000 nodes) it never did, and the history of 1,000 x 50 runs (pods
# of 65 KB written 3-6 times each, nodes with 50 images) filled etcd's 4 GiB quota in the eighth
# contestant's create of one cluster (2026-12-04 19:49: "etcdserver: mvcc: database space exceeded",
# the floor's pods left Pending). A NOSPACE alarm raised before is disarmed. Arguments: kube-apiserver's
# command line, whose --etcd-servers names etcd.
compact_etcd() {
  local etcd="" a
  for a in "$@"; do case "$a" in --etcd-servers=*) etcd="${a#--etcd-servers=}"; etcd="${etcd%%,*}" ;; esac; done
  [ -n "$etcd" ] || { echo "[bench] kube-apiserver's command line names no --etcd-servers: etcd not compacted" >&2; return 0; }
  local post=(curl -sS --fail --max-time 120 -X POST -H 'Content-Type: application/json')
  local status rev before after member
  status=$("${post[@]}" "$etcd/v3/maintenance/status" -d '{}') || { echo "[bench] etcd at $etcd did not answer its status: not compacted" >&2; return 1; }
  rev=$(grep -o '"revision":"[0-9]*"' <<<"$status" | head -1 | tr -dc 0-9)
  before=$(grep -o '"dbSize":"[0-9]*"' <<<"$status" | tr -dc 0-9)
  member=$(grep -o '"member_id":"[0-9]*"' <<<"$status" | head -1 | tr -dc 0-9)
  # a revision compacted already answers an error: nothing to do then
  "${post[@]}" "$etcd/v3/kv/compaction" -d "{\"revision\":\"$rev\",\"physical\":true}" >/dev/null 2>&1 || true
  "${post[@]}" "$etcd/v3/maintenance/defragment" -d '{}' >/dev/null || { echo "[bench] etcd at $etcd: defragment failed" >&2; return 1; }
  if grep -q NOSPACE <<<"$status"; then
    "${post[@]}" "$etcd/v3/maintenance/alarm" -d "{\"action\":\"DEACTIVATE\",\"memberID\":\"$member\",\"alarm\":\"NOSPACE\"}" >/dev/null \
      || { echo "[bench] etcd at $etcd: its NOSPACE alarm could not be disarmed" >&2; return 1; }
  fi
  after=$("${post[@]}" "$etcd/v3/maintenance/status" -d '{}' | grep -o '"dbSize":"[0-9]*"' | tr -dc 0-9)
  echo "[bench] etcd compacted to revision $rev and defragmented: $((before / 1048576)) -> $((after / 1048576)) MiB" >&2
}

case "${1:-}" in
  up)
    if CLUSTER_DIR="$CLUSTER_DIR" "$ROOT/hack/cluster-up.sh" --status >/dev/null 2>&1; then
      if audit_on; then echo "[bench] reusing the running cluster (audit log $AUDIT_LOG)" >&2; exit 0; fi
      echo "[bench] the running cluster at $CLUSTER_DIR has no audit log, which the bench needs to tell the controller's requests apart: run 'make cluster-down' first (make bench then starts one with it)" >&2
      exit 1
    fi
    # kwok renews the leases of all its nodes in one process: on 2 cores shared with a control plane
    # running 500-1,000 nodes' Jobs its renewals come late, and with kube-controller-manager's 40 s grace the bench's
    # nodes went NotReady and back by the hundreds in the middle of a measurement (each one a node the
    # controller must refresh). Real kubelets renew on their own machines; the bench gives kwok 5 min.
    CLUSTER_DIR="$CLUSTER_DIR" NODES=0 TAINTED_NODES=0 NOT_READY_NODES=0 NORUN_NODES=0 NODE_MONITOR_GRACE_PERIOD=5m \
      KWOK_EXTRA_CONFIG="${BENCH_KWOK_CONFIG:-}" \
      APISERVER_EXTRA_ARGS="--audit-policy-file=$here/audit-policy.yaml --audit-log-path=$AUDIT_LOG --audit-log-mode=batch --audit-log-batch-max-wait=1s ${BENCH_APISERVER_EXTRA_ARGS:-}" \
      "$ROOT/hack/cluster-up.sh"
    ;;
  audit)
    if audit_on; then echo "$AUDIT_LOG"; exit 0; fi
    echo "[bench] no cluster with an audit log at $CLUSTER_DIR: start it with 'bench/cluster.sh up' (make bench does)" >&2
    exit 1
    ;;
  restart-apiserver)
    # kube-apiserver started again with the same command line: its watch caches start empty and small,
    # and every client's watch is made again (bench/cluster-scale.ts does it before each contestant unless
    # --no-fresh-apiserver; docs/benchmark.md)
    pid=$(cat "$CLUSTER_DIR/pids/kube-apiserver.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null \
      || { echo "[bench] no kube-apiserver running at $CLUSTER_DIR: start the cluster with 'bench/cluster.sh up'" >&2; exit 1; }
    mapfile -d '' cmd < "/proc/$pid/cmdline"
    # its graceful shutdown waits for every watch to end (tens of seconds): a bench cluster's state is in etcd
    kill -KILL "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then echo "[bench] kube-apiserver (pid $pid) did not stop in 10 s" >&2; exit 1; fi
    # a compaction that fails leaves etcd as it was, never kube-apiserver stopped
    compact_etcd "${cmd[@]}" || echo "[bench] kube-apiserver started again on etcd as it was" >&2
    setsid "${cmd[@]}" >>"$CLUSTER_DIR/logs/kube-apiserver.log" 2>&1 </dev/null &
    echo $! > "$CLUSTER_DIR/pids/kube-apiserver.pid"
    for _ in $(seq 1 450); do
      kubectl --kubeconfig="$CLUSTER_DIR/kubeconfig" get --raw /readyz >/dev/null 2>&1 && exit 0
      sleep 0.2
    done
    echo "[bench] kube-apiserver did not become ready in 90 s after its restart; see $CLUSTER_DIR/logs/kube-apiserver.log" >&2
    exit 1
    ;;
  *) echo "usage: bench/cluster.sh up|audit|restart-apiserver" >&2; exit 2 ;;
esac
