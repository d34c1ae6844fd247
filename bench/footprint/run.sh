#!/usr/bin/env bash
# bench/footprint: publishes the floor server, and both it and vigil a second time without
# dehydration and PIE (the variant measured beside the default), then runs run.py as root.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d /tmp/vigil-footprint-build.XXXXXX); trap 'rm -rf "$tmp"' EXIT
flags="-p:IlcDehydrate=false -p:PositionIndependentExecutable=false"
pub() { dotnet publish "$1" -c Release -r linux-x64 -p:PublishAot=true -p:UseAppHost=true --nologo -v:q -o "$2" ${3:-}; }
pub bench/footprint/floor/Vigil.Bench.FootprintFloor.csproj "$tmp/floor"
pub bench/footprint/floor/Vigil.Bench.FootprintFloor.csproj "$tmp/floor-np" "$flags"
pub services/vigil/Vigil.Programs.csproj "$tmp/vigil-np" "$flags"
for l in vigil-controld vigil-vrrpd; do ln -sfn vigil "$tmp/vigil-np/$l"; done
FOOTPRINT_FLOOR="$tmp/floor/vigil-footprint-floor" VARIANT_OUT="$tmp/vigil-np" \
  VARIANT_FLOOR="$tmp/floor-np/vigil-footprint-floor" VARIANT_NAME="no-PIE" VARIANT_FLAGS="$flags" \
  /usr/bin/python3 bench/footprint/run.py
