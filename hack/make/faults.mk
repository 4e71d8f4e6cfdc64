# The fault suite of issue 11 on the local control plane (needs `make cluster-up`): every fault at a
# random point of an operation over 20+ kwok nodes, then a table. FAULT_RUNS=10 per fault by default;
# FAULTS=word,word picks faults by name; `make test-faults-quick` is CI's one pass of each.
.PHONY: test-faults test-faults-quick
test-faults: deps ## fault suite: SIGKILL/SIGTERM, API server and etcd restarts, 410, 429/5xx, webhook down, ... (FAULT_RUNS=10, FAULTS=...)
	npx tsx test/faults/run.ts --runs=$${FAULT_RUNS:-10} $${FAULTS:+--only=$$FAULTS}

test-faults-quick: deps ## fault suite, one run of each fault (what CI runs)
	npx tsx test/faults/run.ts --quick $${FAULTS:+--only=$$FAULTS}
