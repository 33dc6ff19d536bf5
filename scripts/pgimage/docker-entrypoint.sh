#!/bin/bash
# Entrypoint for flamelab's locally built Postgres image.
#
# It behaves like the official image's entrypoint in the ways testcontainers
# and the workshop rely on:
#   - POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless
#     POSTGRES_HOST_AUTH_METHOD=trust) and POSTGRES_DB (default: the user) are
#     honoured on first start;
#   - the first start runs initdb, then a temporary socket-only server that
#     creates the database and runs /docker-entrypoint-initdb.d/*, then stops
#     it and starts the real server, so "database system is ready to accept
#     connections" is printed twice, which is what wait strategies count;
#   - `docker run IMAGE -c fsync=off` and `docker run IMAGE postgres -c ...`
#     both pass their flags to postgres.
set -Eeuo pipefail

export PGDATA=${PGDATA:-/var/lib/postgresql/data}

if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi
if [ "$1" != 'postgres' ]; then
	exec "$@"
fi

# Postgres refuses to run as root: fix ownership, then re-run as postgres.
if [ "$(id -u)" = '0' ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown -R postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 700 "$PGDATA"
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != 'trust' ]; then
		echo >&2 'error: database is uninitialized and POSTGRES_PASSWORD is not set.'
		echo >&2 '       Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust for a throwaway database).'
		exit 1
	fi
	pwfile=$(mktemp)
	printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
	initdb --username="$user" --pwfile="$pwfile" --encoding=UTF8 --no-locale \
		--auth-local=trust --auth-host="$auth" ${POSTGRES_INITDB_ARGS:-}
	rm -f "$pwfile"
	printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
	printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

	# Temporary server on the Unix socket only, so nobody connects before
	# the database exists.
	pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
	export PGUSER="$user" PGHOST=/var/run/postgresql
	if [ "$db" != 'postgres' ]; then
		# psql interpolates :"db" (quoted identifier) only in script input.
		psql -v ON_ERROR_STOP=1 --dbname postgres --set db="$db" <<<'CREATE DATABASE :"db";'
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
		*.sh) echo "running $f"; . "$f" ;;
		*.sql) echo "running $f"; psql -v ON_ERROR_STOP=1 --dbname "$db" -f "$f" ;;
		*.sql.gz) echo "running $f"; gunzip -c "$f" | psql -v ON_ERROR_STOP=1 --dbname "$db" ;;
		*) [ -e "$f" ] && echo "ignoring $f" ;;
		esac
	done
	pg_ctl -D "$PGDATA" -m fast -w stop
	unset PGUSER PGHOST
	echo 'PostgreSQL init process complete; ready for start up.'
fi

# The official image stops with SIGINT (a "fast" shutdown: running
# transactions are rolled back, clients disconnected). `docker import` cannot
# set STOPSIGNAL, so translate docker's SIGTERM into SIGINT here.
"$@" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null' TERM INT
while kill -0 "$pid" 2>/dev/null; do
	wait "$pid" && status=0 || status=$?
done
exit "${status:-0}"
