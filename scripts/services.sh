# Throwaway PostgreSQL and Redis servers for the tests, on free loopback ports under a temporary
# folder; sourced by scripts/test.sh (and scripts/cluster.sh). Servers already given through
# TVE_TEST_POSTGRES_URL / TVE_TEST_REDIS_URL are used as they are and left alone.
#
#   bootstrap_services   installs Debian's postgresql, redis-server, haproxy and etcd-server, and
#                        Patroni (PyPI) in a venv, when missing; exports TVE_TEST_PATRONI for the
#                        PostgreSQL failover drill (tests/postgres_failover.rs)
#   services_start       starts what is not given and exports both URLs
#   services_stop        stops what services_start started (also on exit)
#   bootstrap_nats       (run by bootstrap_services) Debian's nats-server when missing, exported
#                        as TVE_TEST_NATS_SERVER for the event stream's test

PGBIN=""
PATRONI_VERSION="4.1.5"
PSYCOPG_VERSION="3.3.9"
SERVICES_DIR=""
STARTED_POSTGRES=""
STARTED_REDIS=""

bootstrap_services() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  command -v etcd >/dev/null || missing+=(etcd-server)
  # Patroni's venv is made with Debian's Python, which needs python3-venv.
  /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian's ${missing[*]} for the several-node tests"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
  fi
  PGBIN="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"
  bootstrap_nats
  bootstrap_patroni
}

# Patroni in a venv of its own. Patroni starts PostgreSQL, which refuses to run as root, so as
# root it runs as the postgres account and its venv must be readable by it: then the venv is
# under /var/cache rather than root's private home.
bootstrap_patroni() {
  local venv="$HOME/.cache/tve-activate/patroni"
  [ "$(id -u)" -ne 0 ] || venv="/var/cache/tve-activate/patroni"
  if [ "$("$venv/bin/patroni" --version 2>/dev/null)" != "patroni $PATRONI_VERSION" ]; then
    say "installing Patroni $PATRONI_VERSION (PyPI) in $venv for the PostgreSQL failover drill"
    mkdir -p "$(dirname "$venv")"
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "patroni[etcd3]==$PATRONI_VERSION" \
      "psycopg[binary]==$PSYCOPG_VERSION"
  fi
  export TVE_TEST_PATRONI="$venv/bin/patroni"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs a command as the owner of the data folder (initdb and postgres refuse to run as root).
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}

services_start() {
  SERVICES_DIR="$(mktemp -d /tmp/tve-services.XXXXXX)"
  chmod 755 "$SERVICES_DIR"
  trap services_stop EXIT
  if [ -z "${TVE_TEST_POSTGRES_URL:-}" ]; then
    local port dir="$SERVICES_DIR/postgres"
    port="$(free_port)"
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres "$dir"
    if ! as_postgres "'$PGBIN/initdb' -D '$dir/data' -A trust -U postgres >'$dir/init.log' 2>&1" ||
      ! as_postgres "'$PGBIN/pg_ctl' -D '$dir/data' -w -l '$dir/server.log' \
        -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off\" start >>'$dir/init.log' 2>&1"; then
      cat "$dir"/*.log >&2
      echo "cannot start a throwaway PostgreSQL (see above)" >&2
      return 1
    fi
    STARTED_POSTGRES="$dir/data"
    export TVE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    say "PostgreSQL for the tests on port $port"
  fi
  if [ -z "${TVE_TEST_REDIS_URL:-}" ]; then
    local port dir="$SERVICES_DIR/redis"
    port="$(free_port)"
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
    for _ in $(seq 50); do
      redis-cli -p "$port" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    STARTED_REDIS="$dir"
    export TVE_TEST_REDIS_URL="redis://127.0.0.1:$port"
    say "Redis for the tests on port $port"
  fi
}

services_stop() {
  if [ -n "$STARTED_POSTGRES" ]; then
    as_postgres "'$PGBIN/pg_ctl' -D '$STARTED_POSTGRES' -m immediate stop >/dev/null 2>&1" || true
    STARTED_POSTGRES=""
  fi
  if [ -n "$STARTED_REDIS" ] && [ -f "$STARTED_REDIS/redis.pid" ]; then
    kill "$(cat "$STARTED_REDIS/redis.pid")" 2>/dev/null || true
    STARTED_REDIS=""
  fi
  if [ -n "$SERVICES_DIR" ]; then
    rm -rf "$SERVICES_DIR"
    SERVICES_DIR=""
  fi
}

# Debian's nats-server for the event stream's JetStream test (tests/events.rs), which starts one
# of its own on a free port; exported as TVE_TEST_NATS_SERVER.
bootstrap_nats() {
  local binary
  binary="$(PATH="$PATH:/usr/sbin:/sbin" command -v nats-server || true)"
  if [ -z "$binary" ]; then
    say "installing Debian's nats-server for the event stream's test"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y nats-server
    binary="$(PATH="$PATH:/usr/sbin:/sbin" command -v nats-server)"
  fi
  export TVE_TEST_NATS_SERVER="${TVE_TEST_NATS_SERVER:-$binary}"
}
