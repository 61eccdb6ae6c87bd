#!/usr/bin/env bash
# Game night (docs/gameday.md): sets up what is missing, builds the release site and server, and
# runs the load tool's arrival curve (ramp to kickoff, half-time wave, exit storm) against two
# nodes sharing a throwaway PostgreSQL and Redis (or those named by TVE_TEST_POSTGRES_URL /
# TVE_TEST_REDIS_URL), in front of an emulator throttling as Adobe does. Prints each SLO against
# its goal and exits non-zero when one is missed.
#
#   scripts/gameday.sh            the full curve, a few minutes (make gameday)
#   scripts/gameday.sh --short    under a minute (make test, right after scripts/bench.sh --smoke:
#                                 it reuses that release build and builds the site only if absent)
#
# Further options go to the tool: --scale N (crowds and rates), --stretch N (phase lengths).
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
source "$(dirname "${BASH_SOURCE[0]}")/services.sh"
bootstrap_build
bootstrap_services
cd "$ROOT"
# Thousands of TVs hold event streams open: the tool, the nodes and the emulator need the file
# descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
site="${LEPTOS_SITE_ROOT:-target/site}"
short=""
for arg in "$@"; do [ "$arg" != --short ] || short=1; done
if [ -z "$short" ] || [ -z "$(ls -A "$site/pkg" 2>/dev/null)" ]; then
  say "building the release site (cargo leptos build --release --split --precompress)"
  cargo leptos build --release --split --precompress
fi
# Exports both URLs; stops what it started on exit.
services_start
say "game night on two nodes, Adobe's throttle on"
cargo bench --bench load -- --gameday "$@"
