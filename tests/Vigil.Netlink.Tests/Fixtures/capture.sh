#!/usr/bin/env bash
# Regenerates the strace captures of iproute2 requests used by the byte-for-byte tests.
# Each case runs in a fresh network namespace holding a veth pair (eth0 + peer0, plus a
# second pair eth1 + peer1); the fixture keeps the command, the ifindex of each interface
# and strace's complete output (decoded call plus hex dump of every sendmsg/sendto).
# Usage (root): [CAPTURE_OUT=DIR] tests/Vigil.Netlink.Tests/Fixtures/capture.sh [case-name ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cases="$here/cases.txt"
out="${CAPTURE_OUT:-$here/ip}"  # CAPTURE_OUT: write elsewhere (the live parity test does)
mkdir -p "$out"
ns="vgcap$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT

while IFS='|' read -r name setup cmd; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  name=$(echo "$name" | xargs); setup=$(echo "$setup" | xargs); cmd=$(echo "$cmd" | xargs)
  if [[ $# -gt 0 && ! " $* " == *" $name "* ]]; then continue; fi
  cleanup
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link add eth0 type veth peer name peer0
  ip -n "$ns" link add eth1 type veth peer name peer1
  ip -n "$ns" link set eth0 up; ip -n "$ns" link set peer0 up
  ip -n "$ns" addr add 10.1.2.254/24 dev eth0
  ip -n "$ns" -6 addr add 2001:db8::fe/64 dev eth0 nodad
  if [[ -n "$setup" ]]; then
    # shellcheck disable=SC2086
    ip netns exec "$ns" sh -c "$setup"
  fi
  {
    echo "# command: $cmd"
    [[ -n "$setup" ]] && echo "# setup: $setup"
    echo "# ifindex: $(ip -n "$ns" -o link show | sed -n 's/^\([0-9]*\): \([^:@]*\).*/\2=\1/p' | tr '\n' ' ' | sed 's/ $//')"
    echo "# iproute2: $(ip -V)"
    # shellcheck disable=SC2086
    ip netns exec "$ns" strace -f -e trace=sendmsg,sendto -e write=all -xx -s 4096 $cmd 2>&1 >/dev/null || true
  } > "$out/$name.strace"
  echo "captured $name"
done < "$cases"
