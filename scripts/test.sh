#!/usr/bin/env bash
# Sets up what is missing, then runs every check: formatting, lints (server, app for the server,
# app for the browser), unit and integration tests, OpenAPI-driven fuzzing, and the Playwright
# suite against the built binary, with throwaway PostgreSQL and Redis servers (or those named by
# TVE_TEST_POSTGRES_URL / TVE_TEST_REDIS_URL), and Debian's nats-server for the event stream's
# test (TVE_TEST_NATS_SERVER, exported by bootstrap_services). Exits non-zero on the first failure.
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
# The failover drills' tools were installed above: without them the drills fail, not skip.
TVE_TEST_FAILOVER_REQUIRED=1 cargo test
say "tests: app"
cargo test -p app --features ssr

say "fuzz: the emulator against Adobe's OpenAPI (schemathesis)"
scripts/fuzz-emulator.sh

say "building the site"
cargo leptos build --split

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
say "game night, short (make gameday runs it in full), on the same release build"
scripts/gameday.sh --short

say "the release folder (scripts/release.sh): started as is, it serves the site"
# In a subshell: its EXIT trap stops the server and removes the folder, leaving services.sh's.
(
  dir="$(mktemp -d /tmp/tve-release.XXXXXX)"
  pid=""
  stop() {
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
  }
  trap stop EXIT
  scripts/release.sh "$dir/tve-activate"
  cd "$dir/tve-activate"
  fail() { echo "release check: $*" >&2; [ ! -f server.log ] || tail -20 server.log >&2; exit 1; }

  # Every setting the binary reads from the environment is in the env file it ships with.
  for name in $(./tve-activate --help | tr -s ' \n' ' ' | grep -o '\[env: [A-Z_]*' | cut -d' ' -f2 | sort -u); do
    grep -Eq "^#?$name=" tve-activate.env.example || fail "tve-activate.env.example lacks $name"
  done

  port="$(free_port)"
  internal="$(free_port)"
  base="http://127.0.0.1:$port"
  env -u LEPTOS_SITE_ROOT RUST_LOG=warn ./tve-activate --listen "127.0.0.1:$port" \
    --internal-listen "127.0.0.1:$internal" >server.log 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || fail "the server exited"
    sleep 0.3
  done
  curl -fsS -o /dev/null "$base/healthz" || fail "/healthz does not answer"
  curl -fsS -o page.html "$base/activate" || fail "/activate does not answer"
  # What the page loads from the service: <link href>, <script src>, <img src>, and the
  # wasm and JavaScript its hydration script names.
  assets="$(python3 - page.html <<'PY'
import re, sys
from html.parser import HTMLParser

class Loads(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        url = attrs.get("href") if tag == "link" else attrs.get("src") if tag in ("script", "img") else None
        if url and url.startswith("/") and not url.startswith("//"):
            self.found.add(url)

page = open(sys.argv[1]).read()
loads = Loads()
loads.feed(page)
loads.found.update(re.findall(r"/pkg/[A-Za-z0-9._-]+", page))
print("\n".join(sorted(loads.found)))
PY
)"
  for kind in css js wasm; do
    grep -q "^/pkg/.*\.$kind\$" <<<"$assets" || fail "/activate loads no .$kind from /pkg"
  done
  for asset in $assets; do
    curl -fsS -o /dev/null "$base$asset" || fail "$asset (loaded by /activate) does not answer"
  done
  wasm="$(grep '^/pkg/.*\.wasm$' <<<"$assets" | head -1)"
  [ "$(curl -fsS -o /dev/null -w '%{content_type}' "$base$wasm")" = application/wasm ] ||
    fail "$wasm is not served as application/wasm"
  curl -fsS "http://127.0.0.1:$internal/metrics" >metrics.txt || fail "/metrics does not answer"
  python3 "$ROOT/ops/check.py" --exposition metrics.txt
  echo "release folder: /healthz, /metrics, /activate and the $(wc -l <<<"$assets") files it loads answer"
)
