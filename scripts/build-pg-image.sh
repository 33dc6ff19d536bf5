#!/usr/bin/env bash
# build-pg-image.sh builds a Postgres image without any container registry.
#
# Everything comes from Debian's archive: debootstrap makes a minimal bookworm
# root, postgresql-15 is installed into it, our own entrypoint
# (scripts/pgimage/docker-entrypoint.sh) is added, and the tree is loaded with
# `docker import`. This is the offline / air-gapped workshop path: it needs a
# Debian mirror, not Docker Hub.
#
# Usage: scripts/build-pg-image.sh [IMAGE]   (default: $FLAMELAB_PG_IMAGE or
#        flamelab/postgres:15-bookworm). Skips the build when IMAGE exists;
#        FORCE=1 rebuilds. Needs root and a running Docker engine
#        (scripts/docker-up.sh).
set -euo pipefail

image=${1:-${FLAMELAB_PG_IMAGE:-flamelab/postgres:15-bookworm}}
mirror=${FLAMELAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)
log=${FLAMELAB_IMAGE_LOG:-/tmp/flamelab-pg-image.log}

say() { printf 'build-pg-image: %s\n' "$*" >&2; }

if ! docker info >/dev/null 2>&1; then
  say "no Docker engine answers; run scripts/docker-up.sh first"
  exit 1
fi
if [ "${FORCE:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
  say "image $image already exists; skipping the build (FORCE=1 rebuilds)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  say "debootstrap and chroot need root; re-run as root"
  exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap (log: $log)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >>"$log" 2>&1 ||
    { apt-get update >>"$log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >>"$log" 2>&1; } ||
    { say "could not install debootstrap; see $log"; exit 1; }
fi

start=$(date +%s)
root=$(mktemp -d /tmp/flamelab-pgroot.XXXXXX)
cleanup() {
  umount "$root/proc" 2>/dev/null || true
  rm -rf "$root"
}
trap cleanup EXIT

say "debootstrap bookworm (minbase) from $mirror into $root (log: $log)"
debootstrap --variant=minbase bookworm "$root" "$mirror" >>"$log" 2>&1 ||
  { say "debootstrap failed; last lines of $log:"; tail -n 20 "$log" >&2; exit 1; }

# No services may start inside the chroot, and the package must not create
# its own cluster: the entrypoint runs initdb on the container's first start.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/etc/postgresql-common/createcluster.d"
echo 'create_main_cluster = false' >"$root/etc/postgresql-common/createcluster.d/flamelab.conf"

say "installing postgresql-15 in the chroot"
mount -t proc proc "$root/proc"
chroot "$root" /bin/sh -c '
  set -e
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends postgresql-15
  apt-get clean
  rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
' >>"$log" 2>&1 || { say "installing postgresql-15 failed; last lines of $log:"; tail -n 20 "$log" >&2; exit 1; }
umount "$root/proc"
rm -f "$root/usr/sbin/policy-rc.d"

install -m 0755 "$here/pgimage/docker-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
mkdir -p "$root/docker-entrypoint-initdb.d" "$root/var/lib/postgresql/data" "$root/var/run/postgresql"
chroot "$root" chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql

say "docker import as $image"
tar -C "$root" -c . | docker import \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  --change 'CMD ["postgres"]' \
  --change 'EXPOSE 5432' \
  --message "flamelab: postgresql-15 on Debian bookworm minbase, built by scripts/build-pg-image.sh" \
  - "$image" >>"$log"

say "built $image in $(( $(date +%s) - start ))s ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
