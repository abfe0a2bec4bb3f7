#!/usr/bin/env bash
# Line, branch and function coverage of src/ (and the leak guard package warren builds with it) by the fast tests (those that need neither
# RabbitMQ nor PostgreSQL), with a floor: c8 exits non-zero below it. .ci/run runs this before
# `npm test`, so the suite itself runs once, without coverage, and its summary ends CI's output.
# Floor: 50 % of lines, 70 % of branches, 60 % of functions (measured 59.7 / 77.3 / 71.8 with main as of 00:05;
# the margin leaves room for code merged with its tests elsewhere in the suite).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(
  find test/units test/config test/cli test/deploy -name '*.test.ts' 2>/dev/null
  printf '%s\n' test/store/secret-box.test.ts test/store/encryption-key.test.ts test/store/postgres-url.test.ts \
    test/store/sqlite-store.test.ts packages/leakguard/test/leak-classes.test.ts packages/leakguard/test/growth.test.ts test/rabbitmq/funnel-fake-server.test.ts
)
mapfile -t files < <(printf '%s\n' "${files[@]}" | sort -u)
exec npx c8 --all --src src --src packages/leakguard/src --include 'src/**' --include 'packages/leakguard/src/**' --check-coverage --lines 50 --branches 70 --functions 60 \
  --reporter=text-summary --reports-dir coverage --temp-directory coverage/tmp \
  node --import tsx --test --test-concurrency=1 --test-reporter=dot "${files[@]}"
