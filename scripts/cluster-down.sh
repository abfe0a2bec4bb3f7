#!/usr/bin/env bash
# Stops the 3-node test cluster started by scripts/cluster-up.sh and removes its data.
# Touches only warren-c1..c3@localhost (never rabbit@localhost). Idempotent.
# Usage: scripts/cluster-down.sh [DATA_DIR]   (default /tmp/warren-cluster)
set -uo pipefail

DIR="${1:-${WARREN_CLUSTER_DIR:-/tmp/warren-cluster}}"
log() { echo "cluster-down: $*" >&2; }

for n in c1 c2 c3; do
  node="warren-$n@localhost"
  if rabbitmqctl -q -n "$node" status >/dev/null 2>&1; then
    log "stopping $node"
    rabbitmqctl -q -n "$node" stop >/dev/null 2>&1 || log "could not stop $node cleanly"
  fi
  # A node that did not stop through rabbitmqctl: end it by the PID it wrote, nothing broader.
  pidfile="$DIR/$n/pid"
  if [ -f "$pidfile" ]; then
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      log "killing $node (pid $pid)"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
done
# Only the nodes' own folders are removed, then the folder itself if that left it empty.
for n in c1 c2 c3; do [ -d "$DIR/$n" ] && rm -rf "${DIR:?}/$n" && log "removed $DIR/$n"; done
rmdir "$DIR" 2>/dev/null || true
log "cluster stopped"
