#!/usr/bin/env bash
# Prove that a bare Debian 12 machine (Python 3.11 and make, nothing else: no PostgreSQL, no Redis)
# sets the project up by itself, and prove what can be proven of the docker-compose stack here,
# where no container engine runs.
#
#   1. mmdebstrap makes a fresh Debian 12 root from Debian's repositories only; a clean
#      `git archive` of HEAD is unpacked in it (uncommitted changes are not what is proven).
#   2. In that root, under chroot: scripts/ensure_debian_packages.sh, scripts/ensure_services.sh
#      (which installs, configures and starts PostgreSQL and Redis), make install, make migrate and
#      a few tests; then ensure_services.sh once more, which must change nothing.
#   3. docker-compose.yml is resolved and validated by `docker-compose config` (Debian's
#      docker-compose) with a .env made from docs/env.example.
#   4. A second fresh root stands for the image: the Dockerfile's steps run there in a plain shell
#      (scripts/prove_image.py).
#   5. In a network namespace with only a loopback, the migrate, web, worker and beat commands run
#      in that root with the environment step 3 resolved, against step 2's PostgreSQL and Redis,
#      until each service's own healthcheck command passes; the web check must then fail without Redis.
#
# Ports: a chroot shares this machine's network, whose PostgreSQL and Redis already hold 5432 and
# 6379, and step 2 needs the network (apt, PyPI). So step 2's servers listen on BARE_PGPORT and
# BARE_REDIS_PORT (55432 and 56379), set through DATABASE_URL and REDIS_URL, which the scripts and
# the settings already read. Step 5 needs no network beyond loopback, so it runs under
# `unshare --net`, where the compose file's own ports (5432, 6379, 8000) are free.
#
# Steps 2 to 5 run in a mount and PID namespace of their own (`unshare --mount --pid --fork`): when
# it ends, every server started in it is gone and every mount undone, even after a failure; then
# the roots are removed. Run as root: `make prove-setup`. It takes several minutes
# (docs/deployment.md), so it is not part of .ci/run.
set -euo pipefail

MIRROR=${BARE_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${BARE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
PGPORT_BARE=${BARE_PGPORT:-55432}
REDIS_PORT_BARE=${BARE_REDIS_PORT:-56379}
TESTS=${BARE_TESTS:-tests/core/test_healthz.py tests/core/test_pg_dump.py tests/test_docker_compose.py}

SELF=$(readlink -f "$0")
# This machine reaches PyPI through a TLS proxy whose CA it trusts; its environment names the
# bundle (PIP_CERT, SSL_CERT_FILE), and a shell in the roots gets the same trust, nothing more.
CA_BUNDLE=${PIP_CERT:-${SSL_CERT_FILE:-}}
CA_ENV=()
[ -z "$CA_BUNDLE" ] || CA_ENV=(PIP_CERT=/etc/ssl/machine-ca.crt SSL_CERT_FILE=/etc/ssl/machine-ca.crt)

log() { printf '\n=== [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
elapsed() { echo $(($(date +%s) - $1)); }
note() { echo "$*" | tee -a "$WORK/summary.txt"; }
expect() { grep -q -- "$1" "$2" || { echo "expected a line matching '$1' in $2" >&2; exit 1; }; }

# Give a root what a chroot needs: /proc of this PID namespace, device nodes, a private /dev/shm
# (PostgreSQL's shared memory), this machine's resolver, and no service starts from packages.
enter_prepare() {
  local root=$1
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" 2>/dev/null || true
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  [ -z "$CA_BUNDLE" ] || { mkdir -p "$root/etc/ssl" && cp -L "$CA_BUNDLE" "$root/etc/ssl/machine-ca.crt"; }
  # A chroot has no init, and the packages' default ports are this machine's: starting the servers
  # is ensure_services.sh's job here, as it is on a bare host whose packages did not start them.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
}

# A clean environment in the root: nothing of this machine's (its pip configuration, its venv).
in_root() {
  local root=$1
  shift
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb "${CA_ENV[@]}" "$@"
}

# In the project's checkout in root1, with step 2's servers.
in_app() {
  in_root "$ROOT1" DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT_BARE/assist_center" \
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT_BARE/0" CACHE_KEY_PREFIX=ac-bare \
    bash -euo pipefail -c "cd /srv/assist_center && $1"
}

step_bare_setup() {
  local t0 t_install t_migrate t_tests noop_ms tool t_restart
  enter_prepare "$ROOT1"
  log "2. set-up in the bare root (Debian $(cat "$ROOT1/etc/debian_version"), $(in_root "$ROOT1" python3 --version))"
  for tool in psql pg_isready postgres redis-server redis-cli; do
    if in_root "$ROOT1" sh -c "command -v $tool" >/dev/null; then
      echo "not bare: $tool is already there" >&2
      exit 1
    fi
  done
  echo "bare: no psql, pg_isready, postgres, redis-server or redis-cli"

  # Through make, as a new user would: `make install` runs ensure_debian_packages.sh first (the
  # venv needs python3-venv), `make migrate` runs ensure_services.sh (PostgreSQL, Redis).
  t0=$(date +%s)
  in_app "make install" 2>&1 | tee "$WORK/install.log"
  t_install=$(elapsed "$t0")
  expect "^Installing Debian packages: python3-venv" "$WORK/install.log"
  t0=$(date +%s)
  in_app "make migrate" 2>&1 | tee "$WORK/migrate.log"
  t_migrate=$(elapsed "$t0")
  expect "^Installing Debian packages: postgresql" "$WORK/migrate.log"
  expect "^Installing Debian packages: redis-server" "$WORK/migrate.log"
  expect "^Created database assist_center" "$WORK/migrate.log"
  t0=$(date +%s)
  in_app "DJANGO_SETTINGS_MODULE=assist_center.settings.test .venv/bin/pytest -q $TESTS" | tee "$WORK/pytest.log"
  t_tests=$(elapsed "$t0")
  # Again: with both servers answering it must only check, quickly, and print nothing.
  noop_ms=$(in_app 's=$(date +%s%N); out=$(scripts/ensure_services.sh); e=$(date +%s%N)
    [ -z "$out" ] || { echo "second run printed: $out" >&2; exit 1; }; echo $(((e - s) / 1000000))')

  # Stopped servers (a rebooted machine, this kind of machine before its services start) are
  # started again, the cluster and its data as they were.
  stop_bare_servers
  t0=$(date +%s)
  in_app scripts/ensure_services.sh | tee "$WORK/restart.log"
  expect "^Starting PostgreSQL" "$WORK/restart.log"
  expect "^Starting Redis" "$WORK/restart.log"
  if grep -E "^(Installing|Creating)" "$WORK/restart.log"; then echo "a restart must not install" >&2; exit 1; fi
  t_restart=$(elapsed "$t0")

  local psql="psql -h 127.0.0.1 -p $PGPORT_BARE -U postgres -tA"
  note "A fresh Debian 12 root (mmdebstrap minbase + python3 + make) set the project up by itself:"
  note "  make install    ${t_install} s: ensure_debian_packages.sh installed $(sed -n 's/^Installing Debian packages: //p' \
"$WORK/install.log" | head -1 | wc -w) packages and their dependencies, then the venv from PyPI"
  note "  make migrate   ${t_migrate} s: ensure_services.sh installed PostgreSQL \
$(in_app "$psql -c 'SHOW server_version'" | cut -d' ' -f1) and Redis \
$(in_app "redis-cli -p $REDIS_PORT_BARE info server" | sed -n 's/^redis_version:\(.*\)\r$/\1/p'), made the cluster, \
started both, created assist_center ($(in_app "$psql -c \"SELECT pg_encoding_to_char(encoding) FROM pg_database \
WHERE datname = 'assist_center'\"")); $(in_app "$psql -d assist_center -c 'SELECT count(*) FROM django_migrations'") \
migrations applied"
  note "  pytest         ${t_tests} s: $(tail -1 "$WORK/pytest.log" | tr -d '=' | xargs) ($TESTS)"
  note "  ensure_services.sh again: ${noop_ms} ms, printed nothing"
  note "  both servers stopped: ensure_services.sh started them again in ${t_restart} s (no install, no new cluster)"
}

stop_bare_servers() {
  in_root "$ROOT1" redis-cli -p "$REDIS_PORT_BARE" shutdown nosave >/dev/null 2>&1 || true
  in_root "$ROOT1" sh -c 'v=$(ls /etc/postgresql); pg_ctlcluster --skip-systemctl-redirect $v main stop -m fast'
}

# The image: a second fresh root with what python:3.11-slim adds to Debian (CPython with pip on
# its PATH; here Debian's python3 in a venv made at /usr/local), then the Dockerfile's steps.
step_image_build() {
  local t0
  log "4. the Dockerfile's steps in a second fresh root"
  t0=$(date +%s)
  mkdir "$ROOT2"
  tar -C "$ROOT2" -xf "$WORK/base.tar"
  enter_prepare "$ROOT2"
  in_root "$ROOT2" bash -euo pipefail -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null 2>&1; python3 -m venv /usr/local'
  local build_env=() pair
  for pair in "${CA_ENV[@]}"; do build_env+=(--build-env "$pair"); done
  python3 "$WORK/context/scripts/prove_image.py" build --root "$ROOT2" --context "$WORK/context" \
    --image-json "$WORK/image.json" --log "$WORK/build.log" "${build_env[@]}"
  note "The Dockerfile's steps ran in a plain shell on a fresh root: $(elapsed "$t0") s"
}

compose_value() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["services"][sys.argv[2]]["environment"][sys.argv[3]])' \
    "$WORK/compose.json" "$1" "$2"
}

# Loopback only, so the compose ports are free: step 2's servers stand in for the `postgres` and
# `redis` services, on 5432 and 6379, under the host names compose gives them.
step_compose_run() {
  local t0 user db password
  ip link set lo up
  log "5. the compose services from the image's root, in a network namespace with only a loopback"
  user=$(compose_value postgres POSTGRES_USER)
  db=$(compose_value postgres POSTGRES_DB)
  password=$(compose_value postgres POSTGRES_PASSWORD)
  # What the postgres image does with POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB.
  in_root "$ROOT1" bash -euo pipefail -c "v=\$(ls /etc/postgresql); pg_conftool \$v main set port 5432
    pg_ctlcluster --skip-systemctl-redirect \$v main start
    psql -qU postgres -c \"CREATE ROLE $user SUPERUSER LOGIN PASSWORD '$password'\"
    dropdb -U postgres assist_center; createdb -U postgres -O $user $db
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no --dir /tmp --logfile /tmp/redis.log"
  printf '127.0.0.1 localhost postgres redis\n' >"$ROOT2/etc/hosts"
  t0=$(date +%s)
  python3 "$WORK/context/scripts/prove_image.py" run --root "$ROOT2" --services-root "$ROOT1" --image-json "$WORK/image.json" \
    --compose "$WORK/compose.json" --logs "$WORK" || { tail -n 40 "$WORK"/{web,worker,beat}.log >&2; exit 1; }
  note "The compose services ran from the image's root and each healthcheck passed: $(elapsed "$t0") s"
  step_make_run
}

# `make run` as a new user types it, in the same loopback-only namespace (8000 is free there):
# it seeds the demo county and starts web, worker and beat; /healthz must answer 200. Redis was
# stopped by step 5, so ensure_services.sh starts it again. The PID namespace ends `make run`.
step_make_run() {
  local t0 waited
  log "6. make run in the bare root"
  t0=$(date +%s)
  in_root "$ROOT1" DATABASE_URL=postgres://postgres@127.0.0.1:5432/assist_run \
    bash -c 'cd /srv/assist_center && exec make run' >"$WORK/make-run.log" 2>&1 &
  for waited in $(seq 1 600); do
    if in_root "$ROOT1" /srv/assist_center/.venv/bin/python -c \
      'import urllib.request as r; r.urlopen("http://127.0.0.1:8000/healthz", timeout=2)' 2>/dev/null; then
      break
    fi
    if ! kill -0 $! 2>/dev/null; then tail -n 40 "$WORK/make-run.log" >&2; exit 1; fi
    sleep 1
  done
  [ "$waited" -lt 600 ] || { tail -n 40 "$WORK/make-run.log" >&2; exit 1; }
  expect "^Starting Redis" "$WORK/make-run.log"
  note "make run: seeded the demo county and answered /healthz with 200 after $(elapsed "$t0") s"
}

inside() {
  step_bare_setup
  stop_bare_servers
  step_image_build
  unshare --net -- "$SELF" --inside-net "$WORK"
}

if [ "${1:-}" = --inside ] || [ "${1:-}" = --inside-net ]; then
  WORK=$2
  ROOT1=$WORK/root1
  ROOT2=$WORK/root2
  if [ "$1" = --inside ]; then inside; else step_compose_run; fi
  exit 0
fi

# --- Outside the namespaces ----------------------------------------------------------------------

[ "$(id -u)" = 0 ] || { echo "prove_bare_setup.sh needs root (mmdebstrap, chroot, mount, unshare)." >&2; exit 1; }
cd "$(dirname "$SELF")/.."
REPO=$PWD
START=$(date +%s)

for port in "$PGPORT_BARE" "$REDIS_PORT_BARE"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "Port $port is in use on this machine; choose another with BARE_PGPORT / BARE_REDIS_PORT." >&2
    exit 1
  fi
done
missing=()
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v docker-compose >/dev/null || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

WORK=$(mktemp -d /var/tmp/assist-bare.XXXXXX)
cleanup() {
  local status=$? pid
  # The namespaces have ended, so nothing of theirs is left; a process still rooted in WORK would
  # have escaped them. Only those are killed: this machine's own servers are rooted in /.
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    case "$(readlink "/proc/$pid/root" 2>/dev/null)" in "$WORK"/*) kill -9 "$pid" 2>/dev/null || true ;; esac
  done
  findmnt -rn -o TARGET | grep "^$WORK/" | sort -r | xargs -r -n1 umount -l || true
  rm -rf --one-file-system "$WORK"
  echo "removed $WORK; exit status $status after $(elapsed "$START") s in all"
}
trap cleanup EXIT

log "1. fresh Debian 12 root with mmdebstrap (only Debian's repositories)"
t0=$(date +%s)
# minbase: Debian's required packages, which debian:bookworm-slim (python:3.11-slim's base) holds too.
mmdebstrap --quiet --variant=minbase --include=python3,make bookworm "$WORK/base.tar" \
  "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" \
  "deb $SECURITY_MIRROR bookworm-security main"
mkdir "$WORK/root1" "$WORK/context"
tar -C "$WORK/root1" -xf "$WORK/base.tar"
git -C "$REPO" archive --format=tar HEAD | tar -C "$WORK/context" -xf -
mkdir -p "$WORK/root1/srv"
cp -a "$WORK/context" "$WORK/root1/srv/assist_center"
echo "root made in $(elapsed "$t0") s; the project from $(git -C "$REPO" rev-parse --short HEAD)"

log "3. docker-compose config, with a .env made from docs/env.example"
mkdir "$WORK/compose"
cp "$WORK/context/docker-compose.yml" "$WORK/compose/"
# The blanks filled as an operator would (docs/deployment.md, "Generating keys"); new each run.
python3 - "$WORK/context/docs/env.example" >"$WORK/compose/.env" <<'PY'
import base64, os, re, secrets, sys

generated = {
    "SECRET_KEY": secrets.token_urlsafe(64),
    "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "PII_HASH_KEY": secrets.token_urlsafe(48),
    "POSTGRES_PASSWORD": secrets.token_hex(24),
}
for line in open(sys.argv[1], encoding="utf-8").read().splitlines():
    if not line or line.startswith("#"):
        continue
    key, _, value = line.partition("=")
    if key in generated:
        value = generated[key]
    elif key == "SMS_TEMPLATE_IDS":
        value = re.sub(r"=(?=,|$)", "=SMS_100001", value)
    elif not value and key != "SENTRY_DSN":
        value = f"example-{key.lower()}"
    print(f"{key}={value}")
PY
(cd "$WORK/compose" && env -i PATH="$PATH" docker-compose config) >"$WORK/compose/resolved.yml"
# Debian's docker-compose runs on Debian's python3, which has PyYAML through it.
/usr/bin/python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)' \
  <"$WORK/compose/resolved.yml" >"$WORK/compose.json"
echo "docker-compose config ($(docker-compose version --short)) validated and resolved docker-compose.yml" \
  >"$WORK/summary.txt"

unshare --mount --pid --fork --propagation private -- "$SELF" --inside "$WORK"
log "proved"
cat "$WORK/summary.txt"
