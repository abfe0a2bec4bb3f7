#!/usr/bin/env bash
# Makes sure a local PostgreSQL answers on 127.0.0.1:5432 with a database the tests may use
# (WARREN_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/warren_test).
set -euo pipefail
log() { echo "postgres-up: $*" >&2; }
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  log "installing postgresql with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq postgresql >/dev/null
  rm -f /usr/sbin/policy-rc.d
  # A throwaway local test server: trust loopback logins, as on the project's machines.
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    grep -q '^host all all 127.0.0.1/32 trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  done
fi
if ! ready; then
  v=$(ls /etc/postgresql | sort -V | tail -1)
  log "starting PostgreSQL $v"
  sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/" "/etc/postgresql/$v/main/postgresql.conf"
  pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
  for _ in $(seq 1 60); do ready && break; sleep 0.5; done
fi
ready || { log "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1; }
# Local trust auth on a fresh Debian install is "peer" for the socket; use su for setup.
if ! su postgres -c "psql -tAc \"select 1 from pg_database where datname='warren_test'\"" 2>/dev/null | grep -q 1; then
  su postgres -c "createdb warren_test" 2>/dev/null || true
fi
log "PostgreSQL answers"
