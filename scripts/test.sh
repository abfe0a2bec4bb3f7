#!/usr/bin/env bash
# The whole test suite: makes sure RabbitMQ (with management) and PostgreSQL answer, then runs
# every test/**/*.test.ts and packages/*/test/**/*.test.ts (or the files given) with node's own test runner (TypeScript through
# tsx). When cluster tests (test/cluster/) are among them, it brings up the 3-node test cluster
# (scripts/cluster-up.sh) and takes it down afterwards, but only if it started it.
# `npm test` (what .ci/run calls) runs the cluster and chaos suites last: the files of
# `npm run test:cluster` and `npm run test:chaos` (read from package.json), which run them alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/rabbitmq-up.sh
bash scripts/postgres-up.sh || echo "test.sh: PostgreSQL not available; its store tests will be skipped" >&2
# The globs after `scripts/test.sh` in a package.json script, expanded here.
suite_of() { node -p "require('./package.json').scripts['$1'].split(/\s+/).slice(2).join(' ')"; }
# shellcheck disable=SC2207  # split and expanded on purpose
CLUSTER_SUITE=($(suite_of test:cluster))
# shellcheck disable=SC2207
CHAOS_SUITE=($(suite_of test:chaos))
mapfile -t files < <(find test packages/*/test -name '*.test.ts' -not -path '*/node_modules/*' | sort \
  | grep -vxF -f <(printf '%s\n' "${CLUSTER_SUITE[@]}" "${CHAOS_SUITE[@]}"))
files+=("${CLUSTER_SUITE[@]}" "${CHAOS_SUITE[@]}")
if [ "$#" -gt 0 ]; then files=("$@"); fi

started_cluster=false
needs_cluster=false
# A loop, not `printf | grep -q`: under pipefail, grep quitting early fails the pipeline (SIGPIPE).
for f in "${files[@]}"; do [[ $f == test/cluster/* ]] && needs_cluster=true; done
if $needs_cluster; then
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
