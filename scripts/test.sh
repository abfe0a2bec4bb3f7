#!/usr/bin/env bash
# The whole test suite: makes sure RabbitMQ (with management) and PostgreSQL answer, then runs
# every test/**/*.test.ts and packages/*/test/**/*.test.ts with node's own test runner (TypeScript through tsx).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/rabbitmq-up.sh
bash scripts/postgres-up.sh || echo "test.sh: PostgreSQL not available; its store tests will be skipped" >&2
mapfile -t files < <(find test packages/*/test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if [ "$#" -gt 0 ]; then files=("$@"); fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
