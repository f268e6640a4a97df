#!/usr/bin/env bash
# Debian packages the project needs besides the servers (scripts/ensure_services.sh installs
# PostgreSQL and Redis): the venv module (`make install`; Debian's python3 lacks it), Chromium for
# browser tests, Noto CJK for Chinese PDFs, gettext for compilemessages, the PostgreSQL client for
# pg_dump, poppler for reading PDFs in tests, Pango for WeasyPrint, and docker-compose, whose
# `config` validates docker-compose.yml in the tests (no container engine runs on these machines).
# Installs only what is missing.
set -euo pipefail

PYTHON=${PYTHON:-python3}
need=()
"$PYTHON" -c 'import ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto | grep -q CJK || need+=(fonts-noto-cjk)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
# Without its recommends: they are the Docker engine, which cannot run here.
bare=()
command -v docker-compose >/dev/null 2>&1 || bare+=(docker-compose)

if [ $((${#need[@]} + ${#bare[@]})) -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]} ${bare[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  [ ${#need[@]} -eq 0 ] || apt-get install -y -qq "${need[@]}" >/dev/null
  [ ${#bare[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${bare[@]}" >/dev/null
fi
