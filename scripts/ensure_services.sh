#!/usr/bin/env bash
# Start PostgreSQL and Redis if they are not answering, and create the database if it is missing.
# Used by `make run`, `make test` and .ci/run so a fresh machine needs nothing done by hand.
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
DB_NAME=${1:-assist_center}

if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
  if [ -d /etc/postgresql ]; then
    echo "Starting PostgreSQL..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
  pg_isready -h "$PGHOST" -p "$PGPORT" || { echo "PostgreSQL is not reachable on $PGHOST:$PGPORT" >&2; exit 1; }
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis..."
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 20); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.5; done
  redis-cli ping >/dev/null || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
fi

# The database named by DATABASE_URL when it is this machine's server, else the default one.
if [ -n "${DATABASE_URL:-}" ]; then
  case "$DATABASE_URL" in
    postgres://*@127.0.0.1[:/]*|postgres://*@localhost[:/]*|postgres:///*)
      DB_NAME=${DATABASE_URL##*/}; DB_NAME=${DB_NAME%%\?*} ;;
    *) DB_NAME="" ;;
  esac
fi
if [ -n "$DB_NAME" ]; then
  if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
    createdb -h "$PGHOST" -p "$PGPORT" -U postgres "$DB_NAME"
    echo "Created database $DB_NAME."
  fi
fi
