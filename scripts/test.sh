#!/usr/bin/env bash
# Sets up what is missing, then runs every check: formatting, lints (server, app for the server,
# app for the browser), unit and integration tests, OpenAPI-driven fuzzing, and the Playwright
# suite against the built binary, with throwaway PostgreSQL and Redis servers (or those named by
# TVE_TEST_POSTGRES_URL / TVE_TEST_REDIS_URL). Exits non-zero on the first failure.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
source "$(dirname "${BASH_SOURCE[0]}")/services.sh"
bootstrap_build
bootstrap_e2e
bootstrap_ops
bootstrap_services
cd "$ROOT"

say "formatting"
cargo fmt --all --check

say "lints: server"
cargo clippy --all-targets -- -D warnings
say "lints: app (server side)"
cargo clippy -p app --features ssr --all-targets -- -D warnings
say "lints: app (browser side)"
cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings

say "operator kit: promtool check rules, promtool test rules, dashboard check, systemd unit"
promtool check rules ops/prometheus/alerts.yml
promtool test rules ops/prometheus/alerts.test.yml
# Checks the example and, through its rule_files, alerts.yml again; run from its folder.
(cd ops/prometheus && promtool check config prometheus.example.yml)
python3 ops/check.py
if command -v systemd-analyze >/dev/null; then
  ops/systemd/verify.sh
else
  echo "no systemd-analyze here: the systemd unit is not verified"
fi

say "throwaway PostgreSQL and Redis for the tests"
services_start

say "tests: server"
cargo test
say "tests: app"
cargo test -p app --features ssr

say "fuzz: the emulator against Adobe's OpenAPI (schemathesis)"
scripts/fuzz-emulator.sh

say "building the site"
cargo leptos build

say "fuzz: the Streaming App API against its own OpenAPI (schemathesis)"
scripts/fuzz-tv-api.sh

say "end-to-end tests"
cd "$ROOT/end2end"
TVE_BIN="$CARGO_TARGET_DIR/debug/tve-activate" npx playwright test

say "end-to-end tests: two nodes behind HAProxy (scripts/cluster.sh)"
npx playwright test -c cluster.config.ts

cd "$ROOT"
say "the load tool, briefly, on the release build (make bench runs it in full)"
scripts/bench.sh --smoke
