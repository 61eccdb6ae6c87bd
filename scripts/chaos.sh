#!/usr/bin/env bash
# The long failure drills (make chaos), with what each cost printed: the PostgreSQL failover
# (Patroni, etcd, HAProxy) and the Redis Sentinel failover, each with a bigger storm and several
# successive failovers (TVE_CHAOS=1 makes the tests of make test long), then a node stopped
# mid-flow and one restarted on its store. Installs what is missing first, like make test; uses
# a throwaway PostgreSQL and Redis (or those named by TVE_TEST_POSTGRES_URL /
# TVE_TEST_REDIS_URL).
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
source "$(dirname "${BASH_SOURCE[0]}")/services.sh"
bootstrap_services
cd "$ROOT"
services_start
export TVE_CHAOS=1 TVE_TEST_FAILOVER_REQUIRED=1

for drill in postgres_failover redis_failover rolling_restart tv_api_restart; do
  say "chaos: $drill"
  cargo test --test "$drill" -- --nocapture --test-threads 1
done
