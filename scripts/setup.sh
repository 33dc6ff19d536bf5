#!/usr/bin/env bash
# setup.sh is `make setup`: what a workshop participant runs the day before,
# while the network is good. It is idempotent and says what it did.
#
#  1. downloads the Go modules;
#  2. makes a Docker engine available when it can (root on Debian: installs
#     and starts one); otherwise the database comes from local binaries;
#  3. makes the Postgres image ready: FLAMELAB_PG_IMAGE if set, else the
#     official image (pulled), else an image built from Debian's archive;
#  4. smoke-checks the database: provision, migrate, list tables, remove.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
did() { printf '    %s\n' "$*"; }

step "Go modules"
go mod download
did "downloaded (module cache: $(go env GOMODCACHE))"

step "Docker engine"
docker_ok=false
if docker info >/dev/null 2>&1; then
  docker_ok=true
  did "already running"
elif [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  if scripts/docker-up.sh; then
    docker_ok=true
    did "started by scripts/docker-up.sh"
  else
    did "could not start one (see above); the local-binaries database will be used"
  fi
else
  did "none answers and this is not a root Debian shell; start Docker yourself for the testcontainer path,"
  did "or rely on local Postgres binaries (see docs/database.md)"
fi

if $docker_ok; then
  step "Postgres image"
  read -r default_image local_image < <(go run ./server/cmd/flamedb -images)
  want=${FLAMELAB_PG_IMAGE:-}
  if [ -n "$want" ] && docker image inspect "$want" >/dev/null 2>&1; then
    did "$want (FLAMELAB_PG_IMAGE) is present"
  elif [ -n "$want" ] && [ "$want" = "$local_image" ]; then
    scripts/build-pg-image.sh "$want"
    did "built $want from Debian's archive"
  elif [ -n "$want" ]; then
    docker pull "$want" >/dev/null
    did "pulled $want (FLAMELAB_PG_IMAGE)"
  elif docker image inspect "$default_image" >/dev/null 2>&1; then
    did "$default_image is present"
  elif docker image inspect "$local_image" >/dev/null 2>&1; then
    did "$local_image (built offline) is present and will be used"
  elif timeout 300 docker pull "$default_image" >/dev/null 2>&1; then
    did "pulled $default_image"
  else
    did "cannot pull $default_image (no registry?); building $local_image from Debian's archive instead"
    scripts/build-pg-image.sh "$local_image"
    did "built $local_image; it is used automatically while $default_image is absent"
  fi
fi

step "Database smoke check"
go run ./server/cmd/flamedb
did "ok"

printf '\nsetup complete: you are ready for the workshop.\n'
