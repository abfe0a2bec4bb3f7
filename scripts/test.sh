#!/usr/bin/env bash
# The whole test suite: makes sure RabbitMQ (with management) and PostgreSQL answer, then runs
# every test/**/*.test.ts and packages/*/test/**/*.test.ts (or the files given) with node's own test runner (TypeScript through
# tsx). When cluster tests (test/cluster/) are among them, it brings up the 3-node test cluster
# (scripts/cluster-up.sh) and takes it down afterwards, but only if it started it.
# `npm test` (what .ci/run calls) runs the cluster and chaos suites last, with the same globs as
# `npm run test:cluster` and `npm run test:chaos`, which run those suites alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/rabbitmq-up.sh
bash scripts/postgres-up.sh || echo "test.sh: PostgreSQL not available; its store tests will be skipped" >&2
CLUSTER_SUITE=(test/cluster/*.test.ts)   # = npm run test:cluster
CHAOS_SUITE=(test/chaos/*.test.ts)       # = npm run test:chaos
mapfile -t files < <(find test packages/*/test -name '*.test.ts' -not -path '*/node_modules/*' \
  -not -path 'test/cluster/*' -not -path 'test/chaos/*' | sort)
files+=("${CLUSTER_SUITE[@]}" "${CHAOS_SUITE[@]}")
if [ "$#" -gt 0 ]; then files=("$@"); fi

started_cluster=false
if printf '%s\n' "${files[@]}" | grep -q 'test/cluster/'; then
  if ! bash scripts/cluster-up.sh --check; then
    bash scripts/cluster-up.sh
    started_cluster=true
  fi
fi
# Quietly, so the test runner's summary stays the last thing printed.
stop_cluster() {
  if $started_cluster; then
    bash scripts/cluster-down.sh > "${TMPDIR:-/tmp}/warren-cluster-down.log" 2>&1 \
      || echo "test.sh: taking the test cluster down failed; see ${TMPDIR:-/tmp}/warren-cluster-down.log" >&2
  fi
}
trap stop_cluster EXIT

node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
