#!/bin/sh
# Runs inside the IPVS VM (VmTrafficTests.LvsDr): client, director, rs1, rs2 namespaces on one
# bridge; the director runs vigil-controld (VRRP VIP + LVS-DR virtual server, TCP_CHECKs).
# Lines "R KEY=VALUE" are results read by the test; the rest is the log.
set -u
. "$VM_SHARE/env.sh"
[ -x "$OUT/vigil-controld" ] || { echo "no $OUT/vigil-controld in the guest"; exit 1; }
VIP=10.50.0.100
ms() { echo $(( $(date +%s%N) / 1000000 )); }
T0=$(ms)
log() { echo "[$(( $(ms) - T0 )) ms] $*"; }

# The guest kernel cannot autoload modules (its modprobe path is in the initramfs): named
# counters need nft_objref.
modprobe nf_tables 2>/dev/null; modprobe nft_objref 2>/dev/null
ip link add br0 type bridge
ip link set br0 up
i=0
for n in client dir rs1 rs2; do
  ip netns add $n
  ip link add v-$n type veth peer name eth0 netns $n
  ip link set v-$n master br0 up
  ip -n $n link set lo up
  ip -n $n link set eth0 up
done
ip -n client addr add 10.50.0.2/24 dev eth0
ip -n dir addr add 10.50.0.3/24 dev eth0
ip -n rs1 addr add 10.50.0.11/24 dev eth0
ip -n rs2 addr add 10.50.0.12/24 dev eth0
for r in rs1 rs2; do
  ip -n $r addr add $VIP/32 dev lo
  ip netns exec $r sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
    net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
  mkdir -p /tmp/www-$r
  echo $r > /tmp/www-$r/index.html
done
ip netns exec rs1 python3 -m http.server 80 --bind 0.0.0.0 --directory /tmp/www-rs1 > /tmp/rs1.log 2>&1 &
RS1=$!
ip netns exec rs2 python3 -m http.server 80 --bind 0.0.0.0 --directory /tmp/www-rs2 > /tmp/rs2.log 2>&1 &
RS2=$!

MAC_DIR=$(ip netns exec dir cat /sys/class/net/eth0/address)
MAC_RS1=$(ip netns exec rs1 cat /sys/class/net/eth0/address)
MAC_RS2=$(ip netns exec rs2 cat /sys/class/net/eth0/address)
# Who the client's HTTP replies come from (by source MAC), and what the director sees of them.
if ip netns exec client nft -f - <<NFT
table inet t {
  counter from_dir {}
  counter from_rs1 {}
  counter from_rs2 {}
  chain in {
    type filter hook prerouting priority 0;
    ip saddr $VIP tcp sport 80 ether saddr $MAC_DIR counter name from_dir
    ip saddr $VIP tcp sport 80 ether saddr $MAC_RS1 counter name from_rs1
    ip saddr $VIP tcp sport 80 ether saddr $MAC_RS2 counter name from_rs2
  }
}
NFT
then
  ip netns exec dir nft -f - <<NFT
table inet t {
  counter replies {}
  counter requests {}
  chain in {
    type filter hook prerouting priority 0;
    iifname eth0 ip saddr $VIP tcp sport 80 counter name replies
    iifname eth0 ip daddr $VIP tcp dport 80 counter name requests
  }
}
NFT
  echo "R nft=yes"
else
  echo "R nft=no"
fi
counter() { ip netns exec $1 nft list counter inet t $2 2>/dev/null | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

cat > /tmp/dir.conf <<CONF
global_defs {
    router_id dir
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 50
    priority 150
    advert_int 1
    virtual_ipaddress {
        $VIP/24
    }
}
virtual_server $VIP 80 {
    delay_loop 1
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.50.0.11 80 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
    real_server 10.50.0.12 80 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
CONF
mkdir -p /run/vd
log "starting vigil-controld"
ip netns exec dir "$OUT/vigil-controld" -f /tmp/dir.conf --run-dir /run/vd > /tmp/dir.log 2>&1 &
VIGIL=$!

fin() {
  kill -TERM $VIGIL 2>/dev/null
  i=0; while kill -0 $VIGIL 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL $VIGIL $RS1 $RS2 2>/dev/null
  echo "--- vigil log"; tail -n 60 /tmp/dir.log
}
trap fin EXIT

i=0
while [ $i -lt 400 ]; do
  ip -n dir addr show dev eth0 | grep -q "inet $VIP/" \
    && [ "$(ip netns exec dir ipvsadm -Ln | grep -c -- '-> 10.50.0.1[12]:80 *Route *1')" = 2 ] && break
  sleep 0.1; i=$((i+1))
done
log "director ready (VIP held, 2 Route destinations): $i"
echo "R ready_ms=$(( $(ms) - T0 ))"
echo "--- ipvsadm -Ln"
ip netns exec dir ipvsadm -Ln
echo "--- end"
ip netns exec client ip neigh flush dev eth0 2>/dev/null

requests() { # N TAG
  local rs1=0 rs2=0 fail=0 n=0 body
  while [ $n -lt $1 ]; do
    body=$(ip netns exec client curl -s --max-time 3 http://$VIP/)
    case "$body" in rs1) rs1=$((rs1+1));; rs2) rs2=$((rs2+1));; *) fail=$((fail+1));; esac
    n=$((n+1))
  done
  echo "R $2=rs1:$rs1,rs2:$rs2,fail:$fail"
}
requests 10 split1
echo "R client_from_dir=$(counter client from_dir)"
echo "R client_from_rs1=$(counter client from_rs1)"
echo "R client_from_rs2=$(counter client from_rs2)"
echo "R dir_replies=$(counter dir replies)"
echo "R dir_requests=$(counter dir requests)"
echo "R client_neigh_vip=$(ip netns exec client ip neigh show $VIP | awk '{print $5}')"
echo "R mac_dir=$MAC_DIR"

log "killing rs1's server (pid $RS1)"
KILLED=$(ms)
kill -TERM $RS1
wait $RS1 2>/dev/null
i=0
while [ $i -lt 300 ]; do
  ip netns exec dir ipvsadm -Ln | grep -q -- '-> 10.50.0.11:80 *Route *[1-9]' || break
  sleep 0.1; i=$((i+1))
done
echo "R rs1_removed_ms=$(( $(ms) - KILLED ))"
echo "--- ipvsadm -Ln after"
ip netns exec dir ipvsadm -Ln
echo "--- end"
requests 10 split2
echo "R after_kill_ms=$(( $(ms) - KILLED ))"
echo "R total_ms=$(( $(ms) - T0 ))"
