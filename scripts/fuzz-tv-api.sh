#!/usr/bin/env bash
# OpenAPI-driven fuzz run (schemathesis) against the Streaming App API (/tv/v1).
#
# Reuses the venv and pinned schemathesis of scripts/fuzz-emulator.sh ($HOME/.cache/tve-activate/venv),
# starts the built tve-activate binary on a free port with TVE_STORE_URL=memory: (embedded
# emulator), registers a device, and runs schemathesis over GET /tv/v1/openapi.json with that
# device token and the checks: no 5xx, documented status codes, content types and response
# schemas. Bounded by FUZZ_MAX_EXAMPLES per operation (default 60) and FUZZ_TIME_LIMIT seconds
# (default 90). Exits non-zero on any finding.
#
# Usage: scripts/fuzz-tv-api.sh     (env: CARGO_TARGET_DIR, FUZZ_MAX_EXAMPLES, FUZZ_TIME_LIMIT)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="$HOME/.cache/tve-activate/venv"
schemathesis_version="4.32.5"
max_examples="${FUZZ_MAX_EXAMPLES:-60}"
time_limit="${FUZZ_TIME_LIMIT:-90}"
binary="$target/debug/tve-activate"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "version $schemathesis_version\$"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi
py="$venv/bin/python"

if [ ! -x "$binary" ]; then
  (cd "$repo" && CARGO_TARGET_DIR="$target" cargo build --quiet --bin tve-activate)
fi

work="$(mktemp -d)"
port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
TVE_STORE_URL=memory: TVE_LISTEN="127.0.0.1:$port" TVE_INTERNAL_LISTEN=127.0.0.1:0 RUST_LOG="${FUZZ_SERVER_LOG:-warn}" "$binary" >"$work/server.log" 2>&1 &
server_pid=$!
cleanup() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Waits for the server, saves the OpenAPI document and registers the fuzzing device.
token="$("$py" - "$base" "$work/openapi.json" <<'PY'
import json, sys, time, urllib.request

base, document = sys.argv[1:3]

def call(method, path, body=None):
    request = urllib.request.Request(base + path, data=body, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)

for _ in range(200):
    try:
        spec = call("GET", "/tv/v1/openapi.json")
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("tve-activate did not start")
# Fuzz inputs only (not a change of the API): long-polls on a real code would make each call
# wait up to 30 s, so cap `wait` at 1 s; the event stream of a real code stays open until the
# code is used or runs out, so it is left to the integration tests.
for parameter in spec["paths"]["/tv/v1/activations/{code}"]["get"]["parameters"]:
    if parameter["name"] == "wait":
        parameter["schema"]["maximum"] = 1
del spec["paths"]["/tv/v1/activations/{code}/events"]
with open(document, "w") as f:
    json.dump(spec, f)
device = {"deviceId": "fuzz-tv", "deviceInfo": {"model": "FuzzTV", "version": "1", "osName": "Linux",
          "osVersion": "6", "connectionType": "LAN"}}
print(call("POST", "/tv/v1/devices", json.dumps(device).encode())["deviceToken"])
PY
)"

started=$(date +%s)
status=0
# run inside the temporary folder so schemathesis's own files (.schemathesis/) go away with it
(cd "$work" && timeout "$time_limit" "$venv/bin/schemathesis" run "$work/openapi.json" \
  --url "$base" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$max_examples" \
  --request-timeout 35 \
  --seed 20250101 \
  --suppress-health-check all \
  --no-color) || status=$?
echo "fuzz-tv-api: schemathesis finished in $(( $(date +%s) - started ))s with status $status"
if [ "$status" -ne 0 ]; then
  [ "$status" -eq 124 ] && echo "fuzz-tv-api: stopped at the ${time_limit}s limit"
  echo "fuzz-tv-api: server log:" && tail -n 80 "$work/server.log"
fi
exit "$status"
