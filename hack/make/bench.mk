# Cluster-scale bench (issue 12; docs/benchmark.md): this project's controller against the floor (the same
# Jobs created directly) and the original kube-fledged's strategy, on kwok nodes of the local control plane.
# Both targets start the local cluster with kube-apiserver's audit log on (bench/cluster.sh), or reuse
# one that has it; `make cluster-down` stops it.
BENCH_ARGS ?=

.PHONY: bench bench-quick bench-cluster

bench-cluster: binaries ## start (or reuse) the local cluster with the audit log the bench reads
	bench/cluster.sh up

bench: build bench-cluster ## full bench: 100/500/1000 nodes x 10/50 images x 1/10 caches, floor, original; results in bench/results/ (about 30 min, plus up to 3 a scenario for the API server restarts)
	bench/install-deps.sh
	KUBECONFIG=$${CLUSTER_DIR:-$(CURDIR)/.cluster}/kubeconfig npx tsx bench/cluster-scale.ts $(BENCH_ARGS)

# bench-quick keeps one kube-apiserver (--no-fresh-apiserver): at 100 nodes it closes no watch, and after
# each restart its clients' watches took 6-89 s to come back (client-go's back-off), minutes of its 10
bench-quick: build bench-cluster ## quick bench (about 5 min): 100 nodes x 10 images, 3 runs with the floor; prints "ours/floor = X.XX" (median)
	KUBECONFIG=$${CLUSTER_DIR:-$(CURDIR)/.cluster}/kubeconfig npx tsx bench/cluster-scale.ts --nodes 100 --images 10 --caches 1 \
	  --no-fresh-apiserver --repeat 3 --original= --idle-at 100x10x1 --idle-seconds 60 --refresh-period 30 --out bench/results/quick --png-if-available $(BENCH_ARGS)
