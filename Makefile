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

# Pattern targets cannot be .PHONY; depending on FORCE makes them run even
# when a file of the same name (say, lab-6) exists.
.PHONY: FORCE
FORCE:

# The lab tool: run, check, reset, bench and fuzz for one lab. It links no
# exercise, so it builds whatever state the exercises are in.
LABTOOL := $(GO) run ./labs/cmd/flamelab-lab

.PHONY: help
help: ## list every target
	@printf 'flamelab: make a Go server fast by profiling it. Targets:\n\n'
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_%-]+:.*## / {gsub("%", "N", $$1); printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@printf '\nLab targets take N = %s (one per directory labs/NN-slug).\n' "$$(ls -d labs/[0-9][0-9]-* | sed -E 's|labs/0*([0-9]+)-.*|\1|' | paste -sd' ')"
	@printf 'IMPL=solution|exercise|baseline picks the after side of make lab-N (baseline: an A/A run that\n'
	@printf 'measures the noise floor); QUICK=1 runs one small pair, for a loaded machine or a quick look.\n'
	@printf '\nDatabase: FLAMELAB_DATABASE_URL, else a Docker testcontainer, else local Postgres binaries (docs/database.md).\n'

.PHONY: setup
setup: ## the day before a workshop: modules, Docker + Postgres image, database smoke check
	@scripts/setup.sh

.PHONY: test
test: ## run every test with -race, then the budgets again without it (needs a database: see make setup)
	$(GO) tool gotestsum --format testname -- $(TEST_FLAGS) ./...
	@echo "The budgets again, without -race: some cannot be judged under it (labtest.NeedsNoRace)"
	$(GO) tool gotestsum --format testname -- -count=1 -run 'Budget' ./labs/...

# Which implementation of each lab's stage the server runs: LAB=IMPL pairs.
STAGES ?= all=baseline

.PHONY: lint
lint: ## gofmt, go vet and staticcheck: what CI checks besides the tests
	@out=$$(gofmt -l . | grep -v '^profiles/'); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@# With every exercise linked too, so their wiring (labs/exercises/) is checked:
	@# every wiring file's own build tag, lab 9's (linked into the lab tool) included.
	@tags=$$(sed -n 's#^//go:build \(flamelab_exercise[0-9]*\)$$#\1#p' labs/exercises/exercise_*.go | paste -sd, -) && echo "go vet -tags $$tags ./labs/exercises/ && go tool staticcheck -tags $$tags ./..." && \
	$(GO) vet -tags "$$tags" ./labs/exercises/ && $(GO) tool staticcheck -tags "$$tags" ./...

.PHONY: serve
serve: ## run the server (STAGES=all=baseline by default) on 127.0.0.1:8080, pprof on :6060
	@tags=$$($(LABTOOL) tags '$(STAGES)') && bin=$${TMPDIR:-/tmp}/flamelab-serve-$$(id -u) && \
	$(GO) build -tags "$$tags" -o "$$bin" ./labs/cmd/flamelab-server && \
	exec "$$bin" -stages '$(STAGES)' $(SERVE_FLAGS)
# The server runs as the recipe's own process (exec), not under go run: on
# Ctrl-C it drains, exits 0, and make reports success, not "Error 1".

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
clean-db: ## remove the Postgres containers and local clusters a killed flamelab process left behind
	@ids=$$(docker ps -aq --filter label=org.flamelab.provisioner 2>/dev/null); \
	if [ -n "$$ids" ]; then docker rm -f $$ids >/dev/null && echo "removed containers: $$ids"; else echo "no leftover flamelab containers"; fi
	@$(GO) run ./server/cmd/flamedb -clean

# ---- labs -------------------------------------------------------------------

IMPL ?= solution
PROFILE ?= before-cpu
FLAME_ADDR ?= 127.0.0.1:8081

lab-%: FORCE ## instructor's demo: baseline vs IMPL, alternating runs, profiles, flame graphs, report
	@$(GO) run $(if $(filter exercise,$(IMPL)),-tags flamelab_exercise$*) ./labs/cmd/flamelab-lab run -lab $* -impl $(IMPL) $(if $(QUICK),-quick) $(LAB_FLAGS)

flame-%: FORCE ## open pprof's UI on lab N's latest capture (PROFILE=before-cpu, after-fgprof, ...)
	@f=profiles/lab-$*/latest/$(PROFILE).pb.gz; \
	if [ ! -f "$$f" ]; then echo "no $$f: run make lab-$* first (or read profiles/reference/lab-$*/)"; exit 1; fi; \
	nb=; if [ "$$(id -u)" = 0 ] || { [ -z "$${DISPLAY}$${WAYLAND_DISPLAY}" ] && [ "$$(uname)" = Linux ]; }; then nb=-no_browser; \
	  echo "open http://$(FLAME_ADDR)/ui/flamegraph in your browser (no browser is started as root or without a display)"; fi; \
	$(GO) tool pprof -http=$(FLAME_ADDR) $$nb "$$f"

check-%: FORCE ## run lab N's tests against your exercise; fails until your fix meets the budget
	@$(LABTOOL) check -lab $*

reset-%: FORCE ## restore lab N's exercise from its baseline (your changes are lost)
	@$(LABTOOL) reset -lab $*

.PHONY: capstone
capstone: ## every fix (the seven, and lab 08): all-baseline vs all-solution, both waterfalls, the ablation (QUICK=1: a small one)
	@$(LABTOOL) capstone $(if $(QUICK),-quick) $(CAPSTONE_FLAGS)

.PHONY: docs
docs: ## rerun the commands behind the docs' figures on a testcontainer, keep profiles/reference, splice them in (LAB=6,capstone: only those; MISSING=1: only new or stale blocks)
	@scripts/docker-up.sh && scripts/build-pg-image.sh >/dev/null
	@unset FLAMELAB_DATABASE_URL; $(LABTOOL) docs $(if $(LAB),-lab $(LAB)) $(if $(MISSING),-missing)

.PHONY: docs-check
docs-check: ## fail if a figure in the docs is stale (its code changed) or differs from its capture, or a command in them does not work; CI runs it
	@$(LABTOOL) docs -check
	@$(LABTOOL) docs -commands

.PHONY: claims
claims: ## write profiles/claims.md: the article's claims against YOUR latest lab and capstone runs (docs/claims.md is make docs's, from the reference runs)
	@$(LABTOOL) claims -out profiles/claims.md

.PHONY: ceiling
ceiling: ## the instrument first: the load generator against a server that does nothing (req/s, its CPU per request)
	@$(LABTOOL) ceiling

.PHONY: roundtrip
roundtrip: ## what one database round trip costs, on a testcontainer and on a local cluster (lab 7's gain scales with it)
	@$(LABTOOL) roundtrip

FUZZTIME ?= 2m

fuzz-%: FORCE ## fuzz lab N: every implementation against the baseline (FUZZTIME=2m)
	@$(LABTOOL) fuzz -lab $* -fuzztime $(FUZZTIME)

BENCHCOUNT ?= 10
# Each run of a benchmark: a lab's benchmarks time microseconds, so 0.3 s
# is thousands of operations a run, and lab 1's sweep takes minutes, not
# ten of them, at BENCHCOUNT=10.
BENCHTIME ?= 0.3s

bench-%: FORCE ## lab N's Go benchmarks: implementations side by side, then the lesson's alternatives (benchstat)
	@$(LABTOOL) bench -lab $* -count $(BENCHCOUNT) -benchtime $(BENCHTIME)
