#!/usr/bin/env bash
# A local cluster on one machine, built like the production topology in docs/deploy.md: HAProxy
# (round robin, no stickiness) in front of two tve-activate nodes that share a throwaway
# PostgreSQL, a throwaway Redis, one sealing key and one standalone adobe-pass-emulator
# (throttling on, as Adobe does). Ctrl-C stops everything and removes its temporary folder.
#
#   scripts/cluster.sh           start, print the URLs, run until Ctrl-C
#   scripts/cluster.sh --check   start, check the balancer and both nodes, stop; non-zero on failure
#
# CLUSTER_PORT is the balancer's port (default 3000; with --check a free one unless set).
# CLUSTER_INFO, when set, names a file where the URLs and the nodes' PIDs are written as JSON once
# the balancer is ready (the end-to-end cluster suite reads it).
# It runs the binaries last built in $CARGO_TARGET_DIR/debug, building them only when missing:
# after changing the code, run `cargo build` (and `cargo leptos build` for the site's assets).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
source "$(dirname "${BASH_SOURCE[0]}")/services.sh"

usage() {
  echo "usage: scripts/cluster.sh [--check]   (CLUSTER_PORT sets the balancer's port)"
}

CHECK=""
case "$#:${1:-}" in
  0:) ;;
  1:--check) CHECK=1 ;;
  1:-h | 1:--help)
    usage
    exit 0
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac

TVE_BIN="$CARGO_TARGET_DIR/debug/tve-activate"
EMULATOR_BIN="$CARGO_TARGET_DIR/debug/adobe-pass-emulator"
# The same site folder `cargo leptos` writes (site-root in Cargo.toml) and the end-to-end tests use.
SITE_ROOT="${LEPTOS_SITE_ROOT:-$ROOT/target/site}"

die() {
  printf 'cluster: %s\n' "$*" >&2
  exit 1
}

if [ ! -x "$TVE_BIN" ] || [ ! -x "$EMULATOR_BIN" ]; then
  say "building tve-activate and adobe-pass-emulator"
  (cd "$ROOT" && cargo build --bin tve-activate --bin adobe-pass-emulator)
fi
if [ ! -d "$SITE_ROOT/pkg" ]; then
  # Pages still render on the server; only their script and style are missing.
  say "no built site in $SITE_ROOT: pages come without script and style (run 'cargo leptos build')"
fi

# The statement the emulator accepts by default, read from the source and given to the emulator
# and the nodes alike, so they agree even when the emulator binary predates a change to it.
STATEMENT="$(sed -n 's/^pub const DEFAULT_SOFTWARE_STATEMENT: &str = "\([^"]*\)";$/\1/p' \
  "$ROOT/src/emulator/mod.rs")"
[ -n "$STATEMENT" ] || die "cannot find DEFAULT_SOFTWARE_STATEMENT in src/emulator/mod.rs"

bootstrap_services
# Exports TVE_TEST_POSTGRES_URL and TVE_TEST_REDIS_URL (given ones are used as they are) and
# sets its own EXIT trap, which cleanup below replaces and still calls.
services_start

CLUSTER_DIR="$(mktemp -d /tmp/tve-cluster.XXXXXX)"
NAMES=()
PIDS=()
LOGS=()

# Stops what this script started (newest first, so the balancer goes before its nodes), gives
# each up to 25 s (a node drains for 2 s, then lets open requests finish for up to 20 s), then
# the services.
cleanup() {
  local status=$? i deadline
  trap - EXIT INT TERM
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[i]}" 2>/dev/null || true
  done
  deadline=$((SECONDS + 25))
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    while kill -0 "${PIDS[i]}" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.2
    done
    kill -KILL "${PIDS[i]}" 2>/dev/null || true
    wait "${PIDS[i]}" 2>/dev/null || true
  done
  services_stop
  rm -rf "$CLUSTER_DIR"
  exit "$status"
}
trap cleanup EXIT
# Exit codes of a shell killed by the signal; the EXIT trap does the stopping.
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: runs COMMAND in the background, its output in $CLUSTER_DIR/NAME.log;
# `exec` makes the recorded PID the program's own, so cleanup signals the program itself.
start() {
  local name="$1"
  shift
  (exec "$@") >"$CLUSTER_DIR/$name.log" 2>&1 &
  NAMES+=("$name")
  PIDS+=("$!")
  LOGS+=("$CLUSTER_DIR/$name.log")
}

show_logs() {
  local i
  for i in "${!NAMES[@]}"; do
    printf '\n----- %s (last 40 lines of %s) -----\n' "${NAMES[i]}" "${LOGS[i]}" >&2
    tail -n 40 "${LOGS[i]}" >&2 || true
  done
}

# Fails with every log when one of the started programs has exited.
all_running() {
  local i
  for i in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[i]}" 2>/dev/null; then
      show_logs
      die "${NAMES[i]} exited (its log is above)"
    fi
  done
}

status_of() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true
}

# wait_for URL NAME [STATUS]: until URL answers STATUS (default 200; "any" for any answer at
# all), within the start-up deadline.
wait_for() {
  local url="$1" name="$2" want="${3:-200}" got
  while :; do
    got="$(status_of "$url")"
    if [ "$got" != 000 ] && { [ "$want" = any ] || [ "$got" = "$want" ]; }; then
      return 0
    fi
    all_running
    if [ "$SECONDS" -ge "$READY_DEADLINE" ]; then
      show_logs
      die "$name not ready within 60 s ($url answers $got)"
    fi
    sleep 0.5
  done
}

if [ -n "$CHECK" ]; then
  BALANCER_PORT="${CLUSTER_PORT:-$(free_port)}"
else
  BALANCER_PORT="${CLUSTER_PORT:-3000}"
fi
BALANCER_URL="http://127.0.0.1:$BALANCER_PORT"
EMULATOR_URL="http://127.0.0.1:$(free_port)"

# One sealing key for both nodes: a client secret one node sealed, the other must open.
KEY_FILE="$CLUSTER_DIR/secrets.key"
(umask 077 && head -c 32 /dev/urandom | base64 >"$KEY_FILE")
chmod 600 "$KEY_FILE"
# In a file rather than on the command line, as production would keep it.
STATEMENT_FILE="$CLUSTER_DIR/software-statement.jwt"
(umask 077 && printf '%s\n' "$STATEMENT" >"$STATEMENT_FILE")

say "starting the emulator, two nodes and HAProxy (logs in $CLUSTER_DIR)"
READY_DEADLINE=$((SECONDS + 60))
start emulator env EMULATOR_SOFTWARE_STATEMENT="$STATEMENT" "$EMULATOR_BIN" \
  --listen "${EMULATOR_URL#http://}" --throttling true --state-file "$CLUSTER_DIR/emulator-state.json"
# The nodes ask it for credentials as they start.
wait_for "$EMULATOR_URL/" emulator any

NODE_URLS=()
NODE_INTERNAL_URLS=()
for node in node-1 node-2; do
  port="$(free_port)"
  internal_port="$(free_port)"
  NODE_URLS+=("http://127.0.0.1:$port")
  NODE_INTERNAL_URLS+=("http://127.0.0.1:$internal_port")
  # The Redis URL goes as an environment variable: clap ignores unknown ones, so a binary built
  # before --redis-url existed still starts (without Redis).
  start "$node" env TVE_REDIS_URL="$TVE_TEST_REDIS_URL" LEPTOS_SITE_ROOT="$SITE_ROOT" \
    "$TVE_BIN" \
    --listen "127.0.0.1:$port" \
    --internal-listen "127.0.0.1:$internal_port" \
    --public-url "$BALANCER_URL" \
    --adobe-pass-url "$EMULATOR_URL" \
    --software-statement-file "$STATEMENT_FILE" \
    --store-url "$TVE_TEST_POSTGRES_URL" \
    --secrets-key-file "$KEY_FILE" \
    --trusted-proxies 127.0.0.1 \
    --client-port-header X-Client-Port \
    --tv-simulator true
done

# The nodes first: HAProxy counts a server as up until its first failed check, so starting it
# after the nodes are ready keeps the first requests off a node that is still starting.
wait_for "${NODE_URLS[0]}/readyz" node-1
wait_for "${NODE_URLS[1]}/readyz" node-2

HAPROXY_CFG="$CLUSTER_DIR/haproxy.cfg"
cat >"$HAPROXY_CFG" <<EOF
global
    # Production sizes this to the node count; below the nodes' own --max-connections.
    maxconn 8000
    log stdout format raw local0

defaults
    mode http
    log global
    option httplog
    # The nodes believe X-Forwarded-For from 127.0.0.1 (--trusted-proxies), so per-address
    # limits and Adobe's per-device throttle see the client, not the balancer.
    option forwardfor
    # A request refused by a node that is stopping is sent to another.
    option redispatch
    retries 2
    timeout connect 5s
    timeout http-request 10s
    timeout http-keep-alive 10s
    # Long polls wait up to 30 s and requests are cut at 40 s; event streams send a keep-alive
    # every 15 s. So 60 s of silence means a dead server or client.
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h

frontend site
    bind 127.0.0.1:$BALANCER_PORT
    maxconn 8000
    # The client's source port, which Adobe wants in X-Device-Info (connectionPort). A balancer
    # speaking the PROXY protocol v2 instead (send-proxy-v2) pairs with --proxy-protocol.
    http-request set-header X-Client-Port %[src_port]
    default_backend nodes

backend nodes
    # Round robin with no stickiness: sessions, limits and state live in Redis and PostgreSQL.
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    # Which node answered, for --check and for curious humans.
    http-response set-header x-node %s
    # Every second, so a draining node (503 at once, listeners closed 2 s later) is noticed in time.
    default-server check inter 1s fall 2 rise 2
    server node-1 ${NODE_URLS[0]#http://}
    server node-2 ${NODE_URLS[1]#http://}
EOF
haproxy -c -q -f "$HAPROXY_CFG" || die "HAProxy refuses $HAPROXY_CFG (see above)"
start haproxy haproxy -f "$HAPROXY_CFG" -db
wait_for "$BALANCER_URL/readyz" "the balancer"

if [ -n "${CLUSTER_INFO:-}" ]; then
  mkdir -p "$(dirname "$CLUSTER_INFO")"
  cat >"$CLUSTER_INFO" <<EOF
{
  "balancer": "$BALANCER_URL",
  "emulator": "$EMULATOR_URL",
  "nodes": [
    {"name": "node-1", "url": "${NODE_URLS[0]}", "internal": "${NODE_INTERNAL_URLS[0]}", "pid": ${PIDS[1]}},
    {"name": "node-2", "url": "${NODE_URLS[1]}", "internal": "${NODE_INTERNAL_URLS[1]}", "pid": ${PIDS[2]}}
  ]
}
EOF
fi

if [ -n "$CHECK" ]; then
  say "checking the cluster"
  for path in /readyz /healthz /; do
    got="$(status_of "$BALANCER_URL$path")"
    [ "$got" = 200 ] || die "GET $path through the balancer answered $got, not 200"
    echo "GET $path through the balancer: 200"
  done
  seen=""
  for _ in $(seq 10); do
    seen+="$({ curl -s -o /dev/null -D - --max-time 5 "$BALANCER_URL/healthz" || true; } |
      tr -d '\r' | awk 'tolower($1) == "x-node:" { print $2 }') "
  done
  echo "10 requests through the balancer reached: $seen"
  for node in node-1 node-2; do
    [[ " $seen " == *" $node "* ]] || die "no request reached $node"
  done
  # A device registered on one node is known to the other: one store, one sealing key (node-2
  # opens the client secret node-1 sealed to ask Adobe for the profile).
  registered="$(curl -s --max-time 15 -X POST "${NODE_URLS[0]}/tv/v1/devices" \
    -H 'content-type: application/json' \
    -d "{\"deviceId\": \"cluster-check-$RANDOM$RANDOM\", \"deviceInfo\": {\"model\": \"Check\",
         \"version\": \"1\", \"osName\": \"Linux\", \"osVersion\": \"1\", \"connectionType\": \"LAN\"}}" ||
    true)"
  token="$(printf '%s' "$registered" | sed -n 's/.*"deviceToken":"\([^"]*\)".*/\1/p')"
  [ -n "$token" ] || die "registering a device on node-1 failed: $registered"
  profile="$(curl -s --max-time 15 "${NODE_URLS[1]}/tv/v1/profile" -H "authorization: Bearer $token" || true)"
  [[ "$profile" == *'"authenticated":false'* ]] ||
    die "node-2 does not know the device node-1 registered: $profile"
  echo "a device registered on node-1 is known to node-2: $profile"
  say "cluster check passed"
  exit 0
fi

cat <<EOF

  site and API (balancer)   $BALANCER_URL   (TV simulator: $BALANCER_URL/tv)
  node-1                    ${NODE_URLS[0]}   operators: ${NODE_INTERNAL_URLS[0]}/metrics   pid ${PIDS[1]}
  node-2                    ${NODE_URLS[1]}   operators: ${NODE_INTERNAL_URLS[1]}/metrics   pid ${PIDS[2]}
  Adobe Pass emulator       $EMULATOR_URL
  PostgreSQL                $TVE_TEST_POSTGRES_URL
  Redis                     $TVE_TEST_REDIS_URL
  logs                      $CLUSTER_DIR/*.log

EOF
say "Ctrl-C stops everything"
# Runs until Ctrl-C. A node that stops (kill -TERM its pid to watch the balancer route around
# it) is reported and the other keeps serving; without the emulator, HAProxy or any node left,
# everything stops.
declare -A GONE=()
while :; do
  sleep 1
  nodes_alive=0
  for i in "${!NAMES[@]}"; do
    if kill -0 "${PIDS[i]}" 2>/dev/null; then
      if [[ ${NAMES[i]} == node-* ]]; then
        nodes_alive=$((nodes_alive + 1))
      fi
    elif [ -z "${GONE[${NAMES[i]}]:-}" ]; then
      GONE[${NAMES[i]}]=1
      if [[ ${NAMES[i]} != node-* ]]; then
        show_logs
        die "${NAMES[i]} stopped on its own (its log is above)"
      fi
      say "${NAMES[i]} stopped; the balancer sends everything to the other (log: ${LOGS[i]})"
    fi
  done
  if [ "$nodes_alive" -eq 0 ]; then
    show_logs
    die "every node stopped (their logs are above)"
  fi
done
