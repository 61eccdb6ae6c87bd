#!/usr/bin/env bash
# OpenAPI-driven fuzz run (schemathesis) against the standalone Adobe Pass emulator.
#
# Creates (once) a Python venv under $HOME/.cache/tve-activate/venv with a pinned schemathesis,
# starts target/debug/adobe-pass-emulator with throttling off, gets a DCR token, applies the
# emulator's documented OpenAPI exceptions (GET /__emulator/openapi-exceptions) to Adobe's
# restApiV2.json, and runs schemathesis with the checks: no 5xx (no faults are injected, so any
# 5xx is a bug), documented status codes, content types and response schemas. Bounded by
# FUZZ_MAX_EXAMPLES per operation (default 15). Exits non-zero on any finding.
#
# Usage: scripts/fuzz-emulator.sh        (env: CARGO_TARGET_DIR, FUZZ_MAX_EXAMPLES, SPEC_DIR)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
spec="${SPEC_DIR:-$repo/spec/adobe-pass}"
venv="$HOME/.cache/tve-activate/venv"
schemathesis_version="4.32.5"
max_examples="${FUZZ_MAX_EXAMPLES:-15}"
binary="$target/debug/adobe-pass-emulator"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "version $schemathesis_version\$"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi
py="$venv/bin/python"

if [ ! -x "$binary" ]; then
  (cd "$repo" && CARGO_TARGET_DIR="$target" cargo build --quiet --bin adobe-pass-emulator)
fi

work="$(mktemp -d)"
port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
"$binary" --listen "127.0.0.1:$port" --throttling false >"$work/emulator.log" 2>&1 &
emulator_pid=$!
cleanup() {
  kill "$emulator_pid" 2>/dev/null || true
  wait "$emulator_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Waits for the emulator, registers, gets a token and writes the patched OpenAPI.
token="$("$py" - "$base" "$spec/openapi/restApiV2.json" "$work/restApiV2.json" <<'PY'
import json, sys, time, urllib.parse, urllib.request

base, source, patched = sys.argv[1:4]

# The X-Device-Info every call carries (DCR requires it, §4).
device_info = "eyJtb2RlbCI6ImZ1enoiLCJ2ZXJzaW9uIjoiMSIsIm9zTmFtZSI6IkxpbnV4Iiwib3NWZXJzaW9uIjoiNiIsImNvbm5lY3Rpb25UeXBlIjoiTEFOIn0="

def call(method, path, body=None, content_type=None):
    request = urllib.request.Request(base + path, data=body, method=method)
    request.add_header("X-Device-Info", device_info)
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)

for _ in range(100):
    try:
        exceptions = call("GET", "/__emulator/openapi-exceptions")
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("the emulator did not start")

statement = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJ0dmUtYWN0aXZhdGUtZW11bGF0b3IiLCJzdWIiOiJ0dmUtYWN0aXZhdGUiLCJzZXJ2aWNlX3Byb3ZpZGVyIjoiUkVGMzAiLCJzY29wZXMiOlsiYXBpOmNsaWVudDp2MiJdfQ."
client = call("POST", "/o/client/register", json.dumps({"software_statement": statement}).encode(), "application/json")
form = urllib.parse.urlencode({"client_id": client["client_id"], "client_secret": client["client_secret"], "grant_type": "client_credentials"})
token = call("POST", "/o/client/token", form.encode(), "application/x-www-form-urlencoded")["access_token"]

with open(source) as f:
    spec = json.load(f)
for exception in exceptions:
    for pointer in exception["pointers"]:
        segments = [s.replace("~1", "/").replace("~0", "~") for s in pointer.split("/")[1:]]
        node = spec
        for segment in segments[:-1]:
            node = node.setdefault(segment, {})
        node[segments[-1]] = json.loads(exception["replacement"])
# Fuzz inputs only (not an exception): the emulator serves one service provider, so fix it to
# reach past the invalid_parameter_service_provider check.
for item in spec["paths"].values():
    for operation in item.values():
        for parameter in operation.get("parameters", []):
            if parameter.get("name") == "serviceProvider":
                parameter["schema"] = {"type": "string", "enum": ["REF30"]}
spec["servers"] = [{"url": base + "/api/v2"}]
with open(patched, "w") as f:
    json.dump(spec, f)
print(token)
PY
)"

started=$(date +%s)
status=0
# run inside the temporary folder so schemathesis's own files (.schemathesis/) go away with it
(cd "$work" && "$venv/bin/schemathesis" run "$work/restApiV2.json" \
  --url "$base/api/v2" \
  -H "Authorization: Bearer $token" \
  -H "Accept: application/json;charset=utf-8" \
  -H "AP-Device-Identifier: fingerprint ZnV6ei1kZXZpY2U=" \
  -H "X-Device-Info: eyJtb2RlbCI6ImZ1enoiLCJ2ZXJzaW9uIjoiMSIsIm9zTmFtZSI6IkxpbnV4Iiwib3NWZXJzaW9uIjoiNiIsImNvbm5lY3Rpb25UeXBlIjoiTEFOIn0=" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$max_examples" \
  --request-timeout 10 \
  --seed 20250101 \
  --suppress-health-check all \
  --no-color) || status=$?
echo "fuzz-emulator: schemathesis finished in $(( $(date +%s) - started ))s with status $status"
if [ "$status" -ne 0 ]; then
  echo "fuzz-emulator: emulator log:" && tail -n 50 "$work/emulator.log"
fi
exit "$status"
