#!/usr/bin/env bash
# docker-up.sh makes a Docker engine available on a Debian machine.
#
# It is idempotent: it installs docker.io only when dockerd is missing, starts
# dockerd only when no engine answers, and waits until `docker info` succeeds.
# The engine's log goes to $FLAMELAB_DOCKER_LOG (default /tmp/flamelab-dockerd.log).
#
# When it starts dockerd itself it writes the pid to $FLAMELAB_DOCKER_PIDFILE
# (default /tmp/flamelab-dockerd.pid) so scripts/docker-down.sh can stop
# exactly what was started here and nothing else.
set -euo pipefail

log=${FLAMELAB_DOCKER_LOG:-/tmp/flamelab-dockerd.log}
pidfile=${FLAMELAB_DOCKER_PIDFILE:-/tmp/flamelab-dockerd.pid}

say() { printf 'docker-up: %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  say "a Docker engine is already running; nothing to do"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  say "no Docker engine answers and this is not root: start Docker yourself (e.g. 'sudo systemctl start docker') or re-run as root"
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  say "installing docker.io and iptables from Debian (apt log: ${log}.apt)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y docker.io iptables >"${log}.apt" 2>&1; then
    apt-get update >>"${log}.apt" 2>&1
    apt-get install -y docker.io iptables >>"${log}.apt" 2>&1 ||
      { say "apt-get install docker.io failed; see ${log}.apt"; exit 1; }
  fi
fi

# A previous dockerd may have died and left its pid file and socket behind.
rm -f /var/run/docker.pid

say "starting dockerd (log: $log)"
nohup dockerd >"$log" 2>&1 &
echo $! >"$pidfile"

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    say "Docker engine ready (pid $(cat "$pidfile"))"
    exit 0
  fi
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    say "dockerd exited during start-up; last lines of $log:"
    tail -n 20 "$log" >&2
    exit 1
  fi
  sleep 1
done
say "dockerd did not answer within 60s; see $log"
exit 1
