#!/usr/bin/env bash
# Sets up what is missing, builds, and serves tve-activate on its embedded default at
# http://127.0.0.1:3000 (Adobe Pass emulator in process, SQLite under ./data/). Ctrl-C stops it.
# Extra arguments go to the server (see `--help`); TVE_* environment variables work too.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
bootstrap_build
cd "$ROOT"
say "building and serving on ${TVE_LISTEN:-127.0.0.1:3000}"
exec cargo leptos serve --split -- "$@"
