#!/usr/bin/env bash
# Regenerates the captures of the kernel's rtnetlink replies used by the decoder tests: in a
# fresh namespace with known addresses, a macvlan, routes and rules, each `ip` listing runs under
# strace (recvmsg hex dumps = what the kernel sent) and once more with -j (iproute2's reading of
# the same state, the reference the decoders are compared with).
# Usage (root): tests/Vigil.Netlink.Tests/Fixtures/capture-replies.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/kernel"
mkdir -p "$out"
ns="vgrep$$"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns add "$ns"
run() { ip netns exec "$ns" "$@"; }
run ip link set lo up
run ip link add eth0 type veth peer name peer0
run ip link set eth0 up
run ip link set peer0 up
run ip link add link eth0 name vrrp.7 address 00:00:5e:00:01:07 type macvlan mode private
run ip link add link eth0 name mv1 type macvlan mode bridge
run ip link set vrrp.7 up
run ip addr add 10.1.2.3/24 brd + dev eth0 label eth0:vip
run ip addr add 192.168.10.1/32 dev eth0 scope host
run ip addr add 10.5.0.1/24 dev eth0 valid_lft 300 preferred_lft 100
run ip addr add 10.4.0.1 peer 10.4.0.2/32 dev eth0
run ip addr add 2001:db8::10/64 dev eth0 nodad
run ip addr add 2001:db8:1::1/64 dev eth0 noprefixroute nodad home
run ip addr add fe80::5:1/64 dev eth0 scope link nodad
run ip route add 10.20.0.0/16 via 10.1.2.1 dev eth0 table 100 metric 50 proto keepalived
run ip route add blackhole 10.23.0.0/16 table 100
run ip route add 10.26.0.0/16 table 100 nexthop via 10.1.2.1 dev eth0 weight 1 nexthop via 10.1.2.2 dev eth0 weight 3
run ip route add 10.25.0.0/16 via 192.0.2.1 dev eth0 onlink table 100
run ip -6 route add 2001:db8:100::/48 via 2001:db8::1 dev eth0 metric 1024 table 5000
run ip rule add from 10.1.2.3 table 100 priority 100
run ip rule add fwmark 0x10/0xff table 102 prio 102
run ip rule add iif eth0 oif lo table 103 prio 104
run ip rule add prio 109 goto 200
run ip rule add not from 10.1.0.0/16 table 5000 prio 110 protocol keepalived
run ip rule add prio 111 l3mdev
run ip -6 rule add from 2001:db8::/64 table 120 prio 120
capture() {
  local name=$1; shift
  {
    echo "# command: $*"
    echo "# iproute2: $(ip -V)"
    run strace -f -e trace=recvmsg -e read=all -xx -s 65536 "$@" 2>&1 >/dev/null
  } > "$out/$name.strace"
  run "${@:1:1}" -j "${@:2}" > "$out/$name.json"
  echo "captured $name"
}
capture links ip -d link show
capture addresses ip addr show
capture routes-v4 ip -4 route show table all
capture routes-v6 ip -6 route show table all
capture rules-v4 ip rule show
capture rules-v6 ip -6 rule show
