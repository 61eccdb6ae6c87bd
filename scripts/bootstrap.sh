# Installs what building and testing tve-activate needs, only when it is missing or of another
# version, and says what it installs. Sourced by scripts/run.sh and scripts/test.sh.
#
#   bootstrap_build   the wasm32 target, cargo-leptos, wasm-bindgen-cli, and wasm-opt for
#                     release builds (npm binaryen; Debian's is too old to hydrate)
#   bootstrap_e2e     Debian's chromium and the end2end npm packages
#   bootstrap_ops     promtool, from Debian's prometheus, for the alert rules in ops/

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.10"
BINARYEN_VERSION="132.0.0"
# npm's binaryen, outside the clone like the build output.
BINARYEN_DIR="$HOME/.cache/tve-activate/binaryen"
# Build output lives outside the clone so fresh clones (CI) reuse it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tve-activate/target}"
export PATH="$HOME/.cargo/bin:$BINARYEN_DIR/node_modules/.bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# The wasm-bindgen version pinned in Cargo.lock; the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

bootstrap_build() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "installing the Rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 17 minutes on 2 cores, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads --force
  fi
  local wanted
  wanted="$(wasm_bindgen_version)"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wanted" ]; then
    say "installing wasm-bindgen-cli $wanted (matches Cargo.lock)"
    # No --locked: its lock file pins a crate the registry no longer serves.
    cargo install wasm-bindgen-cli --version "$wanted" --force
  fi
  if [ "$(wasm-opt --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
    say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION) for release builds"
    mkdir -p "$BINARYEN_DIR"
    npm install --prefix "$BINARYEN_DIR" --no-audit --no-fund --no-save "binaryen@$BINARYEN_VERSION"
  fi
}

bootstrap_e2e() {
  if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
    say "installing Debian's chromium for the browser tests"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium
  fi
  local stamp="$ROOT/end2end/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$ROOT/end2end/package-lock.json" -nt "$stamp" ]; then
    say "installing the end2end npm packages (npm ci)"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
  fi
}

bootstrap_ops() {
  if ! command -v promtool >/dev/null; then
    say "installing Debian's prometheus for promtool (checks and unit tests of ops/prometheus)"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus
    # Only promtool is wanted. The package enables a Prometheus server, which would hold :9090,
    # the default --internal-listen; where its start went ahead (systemd, or an init without
    # policy-rc.d), stop it and keep it from starting at boot.
    if [ -d /run/systemd/system ]; then
      $sudo systemctl disable --now prometheus.service >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/prometheus ]; then
      $sudo /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    fi
  fi
}
