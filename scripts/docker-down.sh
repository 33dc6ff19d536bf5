#!/usr/bin/env bash
# docker-down.sh stops the dockerd that scripts/docker-up.sh started, if any.
# An engine that was already running before docker-up.sh is left alone.
set -uo pipefail

pidfile=${FLAMELAB_DOCKER_PIDFILE:-/tmp/flamelab-dockerd.pid}
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true
  printf 'docker-down: stopped dockerd (pid %s)\n' "$pid" >&2
fi
rm -f "$pidfile"
