# flamelab: the Makefile is the interface. `make` alone lists the targets.
#
# Every target that talks to Docker binds to, and connects through, 127.0.0.1.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# testcontainers: connect through loopback (the port is published there only)
# and do without the reaper image, which offline machines cannot pull.
export TESTCONTAINERS_HOST_OVERRIDE ?= 127.0.0.1
export TESTCONTAINERS_RYUK_DISABLED ?= true

GO ?= go
# -race everywhere in tests: the labs are about concurrency.
TEST_FLAGS ?= -race -count=1

.PHONY: help
help: ## list every target
	@printf 'flamelab: make a Go server fast by profiling it. Targets:\n\n'
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_%-]+:.*## / {gsub("%", "N", $$1); printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@printf '\nLab targets take N = 1..7. IMPL=solution|exercise|baseline picks the after side of make lab-N\n'
	@printf '(baseline: an A/A run that measures the noise floor); QUICK=1 runs one small pair.\n'
	@printf '\nDatabase: FLAMELAB_DATABASE_URL, else a Docker testcontainer, else local Postgres binaries (docs/database.md).\n'

.PHONY: setup
setup: ## the day before a workshop: modules, Docker + Postgres image, database smoke check
	@scripts/setup.sh

.PHONY: test
test: ## run every test with -race, then the CPU-share budgets without it (needs a database: see make setup)
	$(GO) tool gotestsum --format testname -- $(TEST_FLAGS) ./...
	@echo "CPU-share budgets, without -race (the detector distorts CPU profiles):"
	$(GO) tool gotestsum --format testname -- -count=1 -run 'CPUShare' ./labs/...

# Which implementation of each lab's stage the server runs: LAB=IMPL pairs.
STAGES ?= all=baseline

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: lint
lint: ## gofmt, go vet and staticcheck: what CI checks besides the tests
	@out=$$(gofmt -l . | grep -v '^profiles/'); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

.PHONY: serve
serve: ## run the server (STAGES=all=baseline by default) on 127.0.0.1:8080, pprof on :6060
	$(GO) run ./server/cmd/flamelab-server -stages '$(STAGES)' $(SERVE_FLAGS)

.PHONY: db
db: ## start a throwaway database, print its URL, keep it until Ctrl-C
	@$(GO) run ./server/cmd/flamedb -hold

.PHONY: docker
docker: ## make a Docker engine available (root on Debian: install and start dockerd)
	@scripts/docker-up.sh

.PHONY: pg-image
pg-image: ## build the offline Postgres image from Debian's archive (no registry needed)
	@scripts/build-pg-image.sh

.PHONY: clean-db
clean-db: ## remove Postgres containers a killed flamelab process left behind
	@ids=$$(docker ps -aq --filter label=org.flamelab.provisioner 2>/dev/null); \
	if [ -n "$$ids" ]; then docker rm -f $$ids >/dev/null && echo "removed: $$ids"; else echo "no leftover flamelab containers"; fi

# ---- labs -------------------------------------------------------------------

IMPL ?= solution
PROFILE ?= before-cpu
FLAME_ADDR ?= 127.0.0.1:8081

.PHONY: lab-%
lab-%: ## instructor's demo: baseline vs IMPL, alternating runs, profiles, flame graphs, report
	@$(GO) run ./labs/cmd/flamelab-lab run -lab $* -impl $(IMPL) $(if $(QUICK),-quick) $(LAB_FLAGS)

.PHONY: flame-%
flame-%: ## open pprof's UI on lab N's latest capture (PROFILE=before-cpu, after-fgprof, ...)
	@f=profiles/lab-$*/latest/$(PROFILE).pb.gz; \
	if [ ! -f "$$f" ]; then echo "no $$f: run make lab-$* first"; exit 1; fi; \
	$(GO) tool pprof -http=$(FLAME_ADDR) "$$f"

.PHONY: check-%
check-%: ## run lab N's tests against your exercise; fails until your fix meets the budget
	@dir=$$(ls -d labs/0$*-* 2>/dev/null | head -1); \
	if [ -z "$$dir" ]; then echo "no lab $*: the labs are 1 to 7"; exit 1; fi; \
	if [ ! -d "$$dir/exercise" ]; then echo "lab $* ($$dir) does not exist yet: it has only its baseline"; exit 1; fi; \
	echo "checking your exercise: budgets (no -race: it distorts CPU profiles), then correctness with -race"; \
	FLAMELAB_IMPL=exercise $(GO) test -count=1 "./$$dir/..." && \
	FLAMELAB_IMPL=exercise $(GO) test -race -count=1 "./$$dir/..." && \
	echo "lab $*: your exercise meets every budget. Now measure it: make lab-$* IMPL=exercise"

.PHONY: reset-%
reset-%: ## restore lab N's exercise from its baseline (your changes are lost)
	@dir=$$(ls -d labs/0$*-* 2>/dev/null | head -1); \
	if [ -z "$$dir" ]; then echo "no lab $*: the labs are 1 to 7"; exit 1; fi; \
	if [ ! -d "$$dir/exercise" ]; then echo "lab $* ($$dir) does not exist yet: it has only its baseline"; exit 1; fi; \
	rm -f "$$dir"/exercise/*.go; \
	for f in "$$dir"/baseline/*.go; do \
		sed -e 's/^package baseline$$/package exercise/' \
		    -e 's|^// Package baseline is|// Package exercise is your working copy. It starts identical to the baseline,|' "$$f" > "$$dir/exercise/$$(basename "$$f")"; \
	done; \
	echo "reset $$dir/exercise from $$dir/baseline"

FUZZTIME ?= 2m

.PHONY: fuzz-%
fuzz-%: ## fuzz lab N: every implementation against the baseline (FUZZTIME=2m)
	@dir=$$(ls -d labs/0$*-* 2>/dev/null | head -1); \
	if [ -z "$$dir" ]; then echo "no lab $*: the labs are 1 to 7"; exit 1; fi; \
	if ! grep -qs 'func Fuzz' "$$dir"/*_test.go; then echo "lab $* ($$dir) has no fuzz test"; exit 1; fi; \
	$(GO) test -run '^$$' -fuzz 'Fuzz' -fuzztime $(FUZZTIME) "./$$dir/"

BENCHCOUNT ?= 10

.PHONY: bench-%
bench-%: ## lab N's Go benchmarks, every implementation side by side with benchstat
	@dir=$$(ls -d labs/0$*-* 2>/dev/null | head -1); \
	if [ -z "$$dir" ]; then echo "no lab $*: the labs are 1 to 7"; exit 1; fi; \
	out=$$(mktemp); \
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) "./$$dir/" > "$$out" || { cat "$$out"; exit 1; }; \
	$(GO) run golang.org/x/perf/cmd/benchstat -col /impl "$$out"; rm -f "$$out"
