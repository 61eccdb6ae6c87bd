#!/usr/bin/env bash
# Sets up what is missing, builds the optimised server and site, and gathers what a server needs
# in one folder (`make release`):
#
#   scripts/release.sh [FOLDER]     FOLDER: else $TVE_RELEASE_DIR, else dist/tve-activate
#
#   tve-activate               starts bin/tve-activate with the site beside it: the folder runs
#                              as is (`./tve-activate`, settings as flags or TVE_* variables)
#   bin/tve-activate           the server
#   bin/adobe-pass-emulator    the standalone Adobe Pass emulator, for test beds
#   bin/hash.txt               the site's file hashes, when the build put them in the names
#   site/                      the built site (wasm, JavaScript, CSS, public files)
#   tve-activate.env.example   every setting as an environment variable
#   tve-activate.service       the systemd unit
#   VERSION                    the commit it was built from
#
# docs/deploy.md ("Install on a server") installs it in /opt/tve-activate with systemd.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
DEST="${1:-${TVE_RELEASE_DIR:-$ROOT/dist/tve-activate}}"
case "$DEST" in /*) ;; *) DEST="$PWD/$DEST" ;; esac
bootstrap_build
cd "$ROOT"

# Written into every release folder, so only one of ours is ever replaced.
MARK=".tve-activate-release"
SITE="$ROOT/target/site" # site-root in Cargo.toml: beside the workspace, whatever CARGO_TARGET_DIR
BIN="$CARGO_TARGET_DIR/release"

if [ -e "$DEST" ] && [ ! -e "$DEST/$MARK" ] && [ -n "$(ls -A "$DEST" 2>/dev/null)" ]; then
  echo "release: $DEST exists and is not a release folder; name an empty or new one" >&2
  exit 1
fi

say "building the release site and server (cargo leptos build --release --split --precompress)"
# --split: pages in wasm chunks of their own; --precompress: brotli and gzip twins the server
# sends as they are (docs/performance.md, "Page weight").
cargo leptos build --release --split --precompress
say "building the standalone emulator (cargo build --release --bin adobe-pass-emulator)"
cargo build --release --bin adobe-pass-emulator

for built in "$BIN/tve-activate" "$BIN/adobe-pass-emulator"; do
  [ -e "$built" ] || { echo "release: $built is missing after the build" >&2; exit 1; }
done
# The stylesheet, under its hashed name (hash-files in Cargo.toml).
compgen -G "$SITE/pkg/tve-activate*.css" >/dev/null ||
  { echo "release: no stylesheet in $SITE/pkg after the build" >&2; exit 1; }

say "gathering the release in $DEST"
rm -rf "$DEST"
mkdir -p "$DEST/bin"
touch "$DEST/$MARK"
install -m 755 "$BIN/tve-activate" "$BIN/adobe-pass-emulator" "$DEST/bin/"
# With hash-files on, cargo-leptos gives the site's files hashed names and lists the hashes in
# hash.txt beside the binary, where the server looks for it (src/http/site.rs). It writes the
# file either way: ship it only when it names this site's wasm, or the server would warn.
wasm_hash="$(awk -F': *' '$1 == "wasm" { print $2 }' "$BIN/hash.txt" 2>/dev/null || true)"
if [ -n "$wasm_hash" ] && [ -f "$SITE/pkg/tve-activate.$wasm_hash.wasm" ]; then
  install -m 644 "$BIN/hash.txt" "$DEST/bin/"
fi
cp -R "$SITE" "$DEST/site"
install -m 644 ops/systemd/tve-activate.env.example ops/systemd/tve-activate.service "$DEST/"
cat >"$DEST/tve-activate" <<'EOF'
#!/bin/sh
# Starts tve-activate with the site that came with it. Settings: flags (./tve-activate --help)
# or TVE_* environment variables (tve-activate.env.example). Without TVE_STORE_URL the store is
# ./data/tve-activate.db under the current folder.
here=$(cd "$(dirname "$0")" && pwd)
LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$here/site}"
export LEPTOS_SITE_ROOT
exec "$here/bin/tve-activate" "$@"
EOF
chmod 755 "$DEST/tve-activate"
{
  echo "tve-activate $(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)"
  echo "commit $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$DEST/VERSION"

say "release ready: $DEST ($(du -sh "$DEST" | cut -f1)); try it: cd $DEST && ./tve-activate"
