#!/usr/bin/env bash
# Starts a 3-node RabbitMQ cluster on loopback for the cluster tests, beside (never touching)
# the machine's own node rabbit@localhost. Idempotent: running nodes are kept, missing ones
# started, unjoined ones joined. Waits until every node's management API answers.
#
#   node                  AMQP   management   distribution   data
#   warren-c1@localhost   5701   15701        25701          $WARREN_CLUSTER_DIR/c1
#   warren-c2@localhost   5702   15702        25702          $WARREN_CLUSTER_DIR/c2
#   warren-c3@localhost   5703   15703        25703          $WARREN_CLUSTER_DIR/c3
#
# Usage: scripts/cluster-up.sh [--check] [DATA_DIR]   (default /tmp/warren-cluster; needs root, like
# scripts/rabbitmq-up.sh, which it runs first when RabbitMQ is not installed). The server
# scripts drop to the rabbitmq user, so every node shares that user's Erlang cookie.
# Exit status 0 means all three nodes run, are clustered and answer GET /api/overview.
# --check only tells (exit 0 or 1), changing nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECK=false
if [ "${1:-}" = --check ]; then CHECK=true; shift; fi
DIR="${1:-${WARREN_CLUSTER_DIR:-/tmp/warren-cluster}}"
NODES=(c1 c2 c3)
AUTH="${WARREN_CLUSTER_ADMIN:-guest:guest}"

log() { echo "cluster-up: $*" >&2; }
nodename() { echo "warren-$1@localhost"; }
idx() { echo "${1#c}"; }
amqp_port() { echo $((5700 + $(idx "$1"))); }
mgmt_port() { echo $((15700 + $(idx "$1"))); }
dist_port() { echo $((25700 + $(idx "$1"))); }
ctl() { local n="$1"; shift; rabbitmqctl -q -n "$(nodename "$n")" "$@"; }

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  log "RabbitMQ is not installed: running scripts/rabbitmq-up.sh"
  bash scripts/rabbitmq-up.sh
fi
command -v curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }

overview_ok() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' -u "$AUTH" --max-time 3 "http://127.0.0.1:$(mgmt_port "$1")/api/overview" 2>/dev/null)" = 200 ]
}
running() { ctl "$1" status >/dev/null 2>&1; }
app_running() { ctl "$1" eval 'rabbit:is_running().' 2>/dev/null | grep -q true; }

# Fast path (each rabbitmqctl call costs a second or two): every node answers and c1 sees all
# three running in one cluster.
all_up() {
  for n in "${NODES[@]}"; do overview_ok "$n" || return 1; done
  local nodes
  nodes="$(curl -s -u "$AUTH" --max-time 3 "http://127.0.0.1:$(mgmt_port c1)/api/nodes?columns=name,running" 2>/dev/null)" || return 1
  for n in "${NODES[@]}"; do
    echo "$nodes" | grep -q "\"name\":\"$(nodename "$n")\",\"running\":true\|\"running\":true,\"name\":\"$(nodename "$n")\"" || return 1
  done
}
if $CHECK; then all_up; exit $?; fi
if all_up; then
  log "already running and clustered: $(for n in "${NODES[@]}"; do printf 'http://127.0.0.1:%s ' "$(mgmt_port "$n")"; done)(data $DIR)"
  exit 0
fi

mkdir -p "$DIR"
chmod 755 "$DIR"

start_node() {
  local n="$1" d="$DIR/$1"
  mkdir -p "$d/mnesia" "$d/log"
  cat > "$d/rabbitmq.conf" <<EOF
listeners.tcp.local = 127.0.0.1:$(amqp_port "$n")
management.tcp.ip = 127.0.0.1
management.tcp.port = $(mgmt_port "$n")
EOF
  echo '[rabbitmq_management].' > "$d/enabled_plugins"
  chown -R rabbitmq:rabbitmq "$d"
  log "starting $(nodename "$n") (amqp $(amqp_port "$n"), management $(mgmt_port "$n"), dist $(dist_port "$n"), data $d)"
  # Loopback only, also for epmd and distribution on machines whose rabbitmq-env.conf says nothing.
  ERL_EPMD_ADDRESS=127.0.0.1 \
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}' \
  RABBITMQ_NODENAME="$(nodename "$n")" \
  RABBITMQ_DIST_PORT="$(dist_port "$n")" \
  RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
  RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
  RABBITMQ_MNESIA_BASE="$d/mnesia" \
  RABBITMQ_LOG_BASE="$d/log" \
  RABBITMQ_PID_FILE="$d/pid" \
    rabbitmq-server -detached >/dev/null 2>&1 || true
}

wait_started() {
  local n="$1"
  for _ in $(seq 1 90); do
    if ctl "$n" await_startup >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  log "$(nodename "$n") did not start within 90 s; see $DIR/$n/log"
  return 1
}

# Start every missing node first (in parallel they boot in ~15 s instead of ~45 s).
for n in "${NODES[@]}"; do
  if running "$n"; then log "$(nodename "$n") already runs"; else start_node "$n"; fi
done
for n in "${NODES[@]}"; do wait_started "$n"; done

# Join c2 and c3 to c1 unless they already are in its cluster.
primary="$(nodename c1)"
for n in c2 c3; do
  if ctl "$n" cluster_status 2>/dev/null | grep -q "$primary"; then
    log "$(nodename "$n") is already clustered with $primary"
    app_running "$n" || ctl "$n" start_app
    continue
  fi
  log "joining $(nodename "$n") to $primary"
  ctl "$n" stop_app
  ctl "$n" join_cluster "$primary"
  ctl "$n" start_app
done
for n in "${NODES[@]}"; do app_running "$n" || { log "starting the app on $(nodename "$n")"; ctl "$n" start_app; }; done

for n in "${NODES[@]}"; do
  ok=false
  for _ in $(seq 1 120); do
    if overview_ok "$n"; then ok=true; break; fi
    sleep 0.5
  done
  $ok || { log "management API of $(nodename "$n") did not answer on port $(mgmt_port "$n") within 60 s"; exit 1; }
done
log "cluster ready: $(for n in "${NODES[@]}"; do printf 'http://127.0.0.1:%s ' "$(mgmt_port "$n")"; done)(admin ${AUTH%%:*}, data $DIR)"
