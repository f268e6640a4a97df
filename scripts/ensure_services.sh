#!/usr/bin/env bash
# Make the PostgreSQL and Redis that DATABASE_URL and REDIS_URL name answer, and create the database.
# Used by `make run`, `make test`, `make migrate` and .ci/run, so that a bare Debian 12 machine needs
# nothing done by hand: a server that is missing is installed from Debian's packages (apt-get, as
# root), given a cluster the local `postgres` role may enter, and started. Where both already answer
# (a development machine, CI) this only checks, in a fraction of a second.
#
# Only a server on this machine is managed: 127.0.0.1, localhost or the socket. The ports come from
# the URLs (else PGPORT, else 5432 and 6379), which is how scripts/prove_bare_setup.sh runs a second
# pair of servers in a chroot beside this machine's own.
set -euo pipefail

DB_NAME=${1:-assist_center}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
MANAGE_PG=1
if [ -n "${DATABASE_URL:-}" ]; then
  rest=${DATABASE_URL#*://}
  rest=${rest##*@}
  hostport=${rest%%/*}
  db=${rest#"$hostport"}
  db=${db#/}
  db=${db%%\?*}
  host=${hostport%%:*}
  case "$hostport" in *:*) PGPORT=${hostport##*:} ;; esac
  case "$host" in
    127.0.0.1 | localhost) PGHOST=$host DB_NAME=${db:-$DB_NAME} ;;
    "") DB_NAME=${db:-$DB_NAME} ;; # postgres:///name: the socket, which trusts the same as 127.0.0.1
    *) MANAGE_PG=0 ;;
  esac
fi

REDIS_HOST=127.0.0.1
REDIS_PORT=6379
MANAGE_REDIS=1
if [ -n "${REDIS_URL:-}" ]; then
  rest=${REDIS_URL#*://}
  rest=${rest##*@}
  hostport=${rest%%/*}
  REDIS_HOST=${hostport%%:*}
  case "$hostport" in *:*) REDIS_PORT=${hostport##*:} ;; esac
  case "$REDIS_HOST" in 127.0.0.1 | localhost) ;; *) MANAGE_REDIS=0 ;; esac
fi

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "Missing: $*. Installing it needs root: sudo apt-get install $*" >&2
    exit 1
  fi
  echo "Installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$PGHOST" -p "$PGPORT"; }

# The newest PostgreSQL server installed, by major version ("15" on Debian 12), or nothing.
pg_server_version() {
  local bin
  for bin in /usr/lib/postgresql/*/bin/postgres; do [ -x "$bin" ] && basename "$(dirname "$(dirname "$bin")")"; done |
    sort -V | tail -1
}

ensure_postgres() {
  pg_ready && return 0
  local version installed_now=0 cluster name
  if [ -z "$(pg_server_version)" ]; then
    apt_install postgresql
    installed_now=1
  fi
  version=$(pg_server_version)
  if [ "$installed_now" = 1 ]; then
    # The package has just made a `main` cluster on 5432 with peer/password authentication and
    # nothing in it; it is replaced by one on our port that lets the local `postgres` role in.
    for name in $(ls "/etc/postgresql/$version" 2>/dev/null); do
      pg_dropcluster --stop "$version" "$name"
    done
  fi
  cluster=$(pg_lsclusters -h 2>/dev/null | awk -v port="$PGPORT" '$3 == port { print $1, $2; exit }')
  if [ -z "$cluster" ]; then
    name=main
    [ -e "/etc/postgresql/$version/main" ] && name=assist_center
    echo "Creating PostgreSQL cluster $version/$name on port $PGPORT..."
    # Trust for the socket and the loopback (listen_addresses stays localhost), as on the project's
    # development and CI machines: a development server holding only demo data. C.UTF-8 because a
    # bare root has no locale set, and SQL_ASCII would refuse Chinese text.
    pg_createcluster --port "$PGPORT" --locale C.UTF-8 "$version" "$name" -- \
      --auth-local=trust --auth-host=trust >/dev/null
    cluster="$version $name"
  fi
  echo "Starting PostgreSQL $cluster..."
  # Under systemd the cluster is its unit; elsewhere (containers, chroots, this kind of machine)
  # pg_ctlcluster starts the server itself.
  # shellcheck disable=SC2086 # $cluster is "version name"
  if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
    pg_ctlcluster $cluster start || true
  else
    pg_ctlcluster --skip-systemctl-redirect $cluster start || true
  fi
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
  pg_ready || { echo "PostgreSQL is not reachable on $PGHOST:$PGPORT (cluster $cluster)" >&2; exit 1; }
}

redis_ready() {
  command -v redis-cli >/dev/null 2>&1 && redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG
}

ensure_redis() {
  redis_ready && return 0
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  # Under systemd the package has started its own on 6379.
  redis_ready && return 0
  echo "Starting Redis on port $REDIS_PORT..."
  mkdir -p /var/lib/redis /var/log/redis
  # Broker and cache only: the durable work is in PostgreSQL (the outbox), so nothing is saved.
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile "/var/log/redis/assist_center-$REDIS_PORT.log" \
    --pidfile "/var/run/redis-assist_center-$REDIS_PORT.pid"
  for _ in $(seq 1 20); do redis_ready && break; sleep 0.5; done
  redis_ready || { echo "Redis is not reachable on $REDIS_HOST:$REDIS_PORT" >&2; exit 1; }
}

if [ "$MANAGE_PG" = 1 ]; then ensure_postgres; fi
if [ "$MANAGE_REDIS" = 1 ]; then ensure_redis; fi

if [ "$MANAGE_PG" = 1 ] && [ -n "$DB_NAME" ]; then
  if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" |
    grep -q 1; then
    createdb -h "$PGHOST" -p "$PGPORT" -U postgres "$DB_NAME"
    echo "Created database $DB_NAME."
  fi
fi
