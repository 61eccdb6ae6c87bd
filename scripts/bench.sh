#!/usr/bin/env bash
# Sets up what is missing, builds the release site and server, and runs the load tool
# (benches/load): every scenario beside its ceiling, printed as one table. `--smoke` runs each
# for a second or two (what `make test` does, so the tool keeps working). The several-node
# scenario runs on a throwaway PostgreSQL and Redis (or those named by TVE_TEST_POSTGRES_URL /
# TVE_TEST_REDIS_URL).
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
source "$(dirname "${BASH_SOURCE[0]}")/services.sh"
bootstrap_build
bootstrap_services
cd "$ROOT"
# Thousands of TVs hold event streams open: the tool, the service and the emulator need the
# file descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
say "building the release site (cargo leptos build --release --split --precompress)"
cargo leptos build --release --split --precompress
# Exports both URLs; stops what it started on exit.
services_start
say "load: the release build under a live-game spike"
cargo bench --bench load -- "$@"
