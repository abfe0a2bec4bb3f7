#!/usr/bin/env bash
# Makes sure a local RabbitMQ with the management plugin answers on 127.0.0.1:15672.
# Installs it (apt) when missing, binds it to loopback, enables the plugin, starts the node
# if it is not running, and waits for GET /api/overview. Idempotent; needs root for the
# install/start steps only when something is missing.
set -euo pipefail

MGMT_URL="${RABBITMQ_MGMT_URL:-http://127.0.0.1:15672}"
AUTH="${RABBITMQ_ADMIN:-guest:guest}"
CONF=/etc/rabbitmq/rabbitmq.conf

log() { echo "rabbitmq-up: $*" >&2; }

overview_ok() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' -u "$AUTH" --max-time 3 "$MGMT_URL/api/overview" 2>/dev/null)" = 200 ]
}

if overview_ok; then log "management API already answers at $MGMT_URL"; exit 0; fi

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  log "installing rabbitmq-server and curl with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Do not let the package's service scripts start a node bound to every interface.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq rabbitmq-server curl >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi
command -v curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }

mkdir -p /etc/rabbitmq
touch "$CONF"
grep -q '^listeners\.tcp\.' "$CONF" || echo 'listeners.tcp.default = 127.0.0.1:5672' >> "$CONF"
grep -q '^management\.tcp\.ip' "$CONF" || echo 'management.tcp.ip = 127.0.0.1' >> "$CONF"
grep -q '^NODENAME' /etc/rabbitmq/rabbitmq-env.conf 2>/dev/null || {
  echo 'NODENAME=rabbit@localhost' >> /etc/rabbitmq/rabbitmq-env.conf
  echo 'ERL_EPMD_ADDRESS=127.0.0.1' >> /etc/rabbitmq/rabbitmq-env.conf
}

node_running() { rabbitmqctl -q status >/dev/null 2>&1; }

if node_running; then
  # The config file is read only at boot: tell the running node to bind management to loopback
  # before the plugin starts, so it never listens on all interfaces.
  log "enabling rabbitmq_management on the running node"
  rabbitmqctl -q eval 'application:load(rabbitmq_management), application:set_env(rabbitmq_management, tcp_config, [{ip,"127.0.0.1"},{port,15672}]).' >/dev/null
  rabbitmq-plugins -q enable rabbitmq_management >/dev/null
else
  rabbitmq-plugins -q enable --offline rabbitmq_management >/dev/null
  log "starting rabbitmq-server"
  rabbitmq-server -detached >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do
    rabbitmqctl -q await_startup >/dev/null 2>&1 && break
    sleep 1
  done
fi

for _ in $(seq 1 120); do
  if overview_ok; then log "management API answers at $MGMT_URL"; exit 0; fi
  sleep 0.5
done
log "management API did not answer at $MGMT_URL within 60 s"
exit 1
