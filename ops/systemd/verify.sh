#!/usr/bin/env bash
# Checks the systemd unit without installing it (make test runs it where systemd-analyze
# exists): `systemd-analyze verify` in a throwaway root holding the unit, systemd's own units and
# a stand-in for the binary, failing on any complaint (verify itself only warns); then
# `systemd-analyze security --offline` failing above an exposure of 2.0 ("OK" ends at 4.9).
set -euo pipefail

unit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tve-activate.service"
units=""
for dir in /usr/lib/systemd/system /lib/systemd/system; do
  [ -f "$dir/sysinit.target" ] && units="$dir" && break
done
if [ -z "$units" ]; then
  echo "ops/systemd/verify.sh: no systemd units on this machine to verify against" >&2
  exit 1
fi

root="$(mktemp -d /tmp/tve-unit.XXXXXX)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd" "$root/etc/systemd/system" "$root/opt/tve-activate/bin"
cp -R "$units" "$root/usr/lib/systemd/system"
ln -s usr/lib "$root/lib"
printf '#!/bin/sh\n' >"$root/opt/tve-activate/bin/tve-activate"
chmod 755 "$root/opt/tve-activate/bin/tve-activate"
cp "$unit" "$root/etc/systemd/system/"

complaints="$(systemd-analyze verify --root="$root" /etc/systemd/system/tve-activate.service 2>&1)" || true
if [ -n "$complaints" ]; then
  echo "$complaints" >&2
  echo "ops/systemd/verify.sh: systemd-analyze verify complains about tve-activate.service" >&2
  exit 1
fi
exposure="$(systemd-analyze security --offline=yes --threshold=20 "$unit" 2>&1 | tail -1)" || {
  echo "$exposure" >&2
  echo "ops/systemd/verify.sh: the unit's sandbox is weaker than it was (exposure above 2.0)" >&2
  exit 1
}
echo "ops/systemd/verify.sh: the unit verifies; ${exposure#→ }"
