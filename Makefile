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
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_%-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@printf '\nDatabase: FLAMELAB_DATABASE_URL, else a Docker testcontainer, else local Postgres binaries (docs/database.md).\n'

.PHONY: setup
setup: ## the day before a workshop: modules, Docker + Postgres image, database smoke check
	@scripts/setup.sh

.PHONY: test
test: ## run every test with -race (needs a database: see make setup)
	$(GO) tool gotestsum --format testname -- $(TEST_FLAGS) ./...

# Which implementation of each lab's stage the server runs: LAB=IMPL pairs.
STAGES ?= all=baseline

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
