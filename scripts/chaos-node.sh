#!/usr/bin/env bash
# The chaos suite's own RabbitMQ node, beside (never touching) the machine's rabbit@localhost, so
# that restarting RabbitMQ under load harms nobody else's tests:
#   warren-chaos@localhost   AMQP 5761   management 15761   distribution 25761   data $DIR
# Usage: scripts/chaos-node.sh up | restart-app | down   [DATA_DIR]   (default /tmp/warren-chaos-node)
#   up           start it unless it runs; wait until its management API answers (idempotent)
#   restart-app  stop_app + start_app (RabbitMQ and its management API go away and come back)
#   down         stop it and remove its data
# Needs root, like scripts/rabbitmq-up.sh (the server scripts drop to the rabbitmq user).
set -euo pipefail
cd "$(dirname "$0")/.."

CMD="${1:-up}"
DIR="${2:-${WARREN_CHAOS_NODE_DIR:-/tmp/warren-chaos-node}}"
NODE=warren-chaos@localhost
AMQP=5761 MGMT=15761 DIST=25761
log() { echo "chaos-node: $*" >&2; }
ctl() { rabbitmqctl -q -n "$NODE" "$@"; }
overview_ok() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest --max-time 3 "http://127.0.0.1:$MGMT/api/overview" 2>/dev/null)" = 200 ]
}
wait_management() {
  for _ in $(seq 1 180); do overview_ok && return 0; sleep 0.5; done
  log "management API of $NODE did not answer on port $MGMT within 90 s; see $DIR/log"
  return 1
}

case "$CMD" in
  up)
    command -v rabbitmq-server >/dev/null 2>&1 || bash scripts/rabbitmq-up.sh
    command -v curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
    if overview_ok; then log "$NODE already answers on $MGMT"; exit 0; fi
    if ! ctl status >/dev/null 2>&1; then
      mkdir -p "$DIR/mnesia" "$DIR/log"
      chmod 755 "$DIR"
      cat > "$DIR/rabbitmq.conf" <<CONF
listeners.tcp.local = 127.0.0.1:$AMQP
management.tcp.ip = 127.0.0.1
management.tcp.port = $MGMT
loopback_users = none
CONF
      echo '[rabbitmq_management].' > "$DIR/enabled_plugins"
      chown -R rabbitmq:rabbitmq "$DIR"
      log "starting $NODE (amqp $AMQP, management $MGMT, dist $DIST, data $DIR)"
      RABBITMQ_NODENAME="$NODE" RABBITMQ_DIST_PORT="$DIST" RABBITMQ_CONFIG_FILE="$DIR/rabbitmq.conf" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" RABBITMQ_MNESIA_BASE="$DIR/mnesia" \
      RABBITMQ_LOG_BASE="$DIR/log" RABBITMQ_PID_FILE="$DIR/pid" \
        rabbitmq-server -detached >/dev/null 2>&1 || true
      for _ in $(seq 1 90); do ctl await_startup >/dev/null 2>&1 && break; sleep 1; done
    else
      ctl start_app >/dev/null 2>&1 || true
    fi
    wait_management
    log "$NODE ready: http://127.0.0.1:$MGMT"
    ;;
  restart-app)
    log "restarting the RabbitMQ application on $NODE"
    ctl stop_app
    ctl start_app
    wait_management
    ;;
  down)
    if ctl status >/dev/null 2>&1; then
      log "stopping $NODE"
      ctl stop >/dev/null 2>&1 || log "could not stop $NODE cleanly"
    fi
    # A node that did not stop through rabbitmqctl: end it by the PID it wrote, nothing broader.
    if [ -f "$DIR/pid" ]; then
      pid="$(cat "$DIR/pid" 2>/dev/null || true)"
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$pid" 2>/dev/null || true
      fi
    fi
    [ -d "$DIR" ] && rm -rf "${DIR:?}" && log "removed $DIR"
    ;;
  *) echo "usage: $0 up | restart-app | down [DATA_DIR]" >&2; exit 2 ;;
esac
