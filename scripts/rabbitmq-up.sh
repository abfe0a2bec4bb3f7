#!/usr/bin/env bash
# Makes sure a local RabbitMQ with the management plugin answers on 127.0.0.1:15672, doing only
# what is missing, and says what it did:
#   - not installed: installs rabbitmq-server with apt (without letting the package start a
#     node), and writes a loopback-only configuration, into files that do not exist yet;
#   - management plugin not enabled: enables it;
#   - node not running: starts it (systemctl where systemd runs, else rabbitmq-server -detached).
# An existing RabbitMQ's configuration files are never written: where they exist they are used
# as they are (the management listener then follows them). Needs root only when something is
# missing. Paths can be moved for tests: RABBITMQ_UP_CONF_DIR, RABBITMQ_UP_POLICY_RC_D.
set -euo pipefail

MGMT_URL="${RABBITMQ_MGMT_URL:-http://127.0.0.1:15672}"
AUTH="${RABBITMQ_ADMIN:-guest:guest}"
CONF_DIR="${RABBITMQ_UP_CONF_DIR:-/etc/rabbitmq}"
POLICY_RC_D="${RABBITMQ_UP_POLICY_RC_D:-/usr/sbin/policy-rc.d}"

done_steps=()
log() { echo "rabbitmq-up: $*" >&2; }
did() { done_steps+=("$1"); log "$1"; }
summary() {
  if [ "${#done_steps[@]}" -eq 0 ]; then log "nothing was missing; changed nothing"; else log "done: $(IFS=';'; echo "${done_steps[*]}" | sed 's/;/; /g')"; fi
}

overview_ok() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' -u "$AUTH" --max-time 3 "$MGMT_URL/api/overview" 2>/dev/null)" = 200 ]
}

# Writes $1 with the content on stdin only if no such file exists.
write_new_file() {
  local file="$1" content
  content="$(cat)"
  if [ -e "$file" ]; then
    log "leaving $file as it is"
  else
    mkdir -p "$(dirname "$file")"
    printf '%s\n' "$content" > "$file"
    did "wrote $file"
  fi
}

if overview_ok; then log "management API already answers at $MGMT_URL; changed nothing"; exit 0; fi

command -v curl >/dev/null 2>&1 || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
  did "installed curl (apt)"
}

installed_here=false
if ! command -v rabbitmq-server >/dev/null 2>&1; then
  log "rabbitmq-server is not installed: installing it with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Keep the package's service scripts from starting a node before its configuration exists.
  had_policy=false
  [ -e "$POLICY_RC_D" ] && had_policy=true
  $had_policy || { printf '#!/bin/sh\nexit 101\n' > "$POLICY_RC_D" && chmod +x "$POLICY_RC_D"; }
  apt-get install -y -qq rabbitmq-server >/dev/null
  $had_policy || rm -f "$POLICY_RC_D"
  installed_here=true
  did "installed rabbitmq-server (apt)"
  # A node of our own: loopback only (AMQP, management, Erlang distribution).
  write_new_file "$CONF_DIR/rabbitmq.conf" <<'CONF'
listeners.tcp.default = 127.0.0.1:5672
management.tcp.ip = 127.0.0.1
CONF
  write_new_file "$CONF_DIR/rabbitmq-env.conf" <<'CONF'
NODENAME=rabbit@localhost
ERL_EPMD_ADDRESS=127.0.0.1
CONF
fi

node_running() { rabbitmqctl -q status >/dev/null 2>&1; }
plugin_enabled() { grep -qs 'rabbitmq_management[],. ]' "$CONF_DIR/enabled_plugins"; }
with_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

running=false
node_running && running=true

if ! plugin_enabled; then
  if $running; then
    rabbitmq-plugins -q enable rabbitmq_management >/dev/null
  else
    rabbitmq-plugins -q enable --offline rabbitmq_management >/dev/null
  fi
  did "enabled the rabbitmq_management plugin"
fi

if ! $running; then
  if with_systemd; then
    systemctl start rabbitmq-server
    did "started rabbitmq-server (systemctl)"
    if $installed_here && ! systemctl -q is-enabled rabbitmq-server 2>/dev/null; then
      systemctl -q enable rabbitmq-server
      did "enabled rabbitmq-server at boot (systemctl)"
    fi
  else
    rabbitmq-server -detached >/dev/null 2>&1 || true
    did "started rabbitmq-server (detached)"
  fi
  for _ in $(seq 1 60); do
    rabbitmqctl -q await_startup >/dev/null 2>&1 && break
    sleep 1
  done
fi

for _ in $(seq 1 120); do
  if overview_ok; then log "management API answers at $MGMT_URL"; summary; exit 0; fi
  sleep 0.5
done
summary
log "management API did not answer at $MGMT_URL within 60 s"
exit 1
