#!/usr/bin/env bash
# bench/lvs: requests/s to a VIP load-balanced by vigil-ipvsd (nftables backend on kernels
# without IPVS) against, in the same run, (a) the same client talking to a real server directly
# through the same director (routed, no load balancer) and (b) a second VIP balanced by a minimal
# hand-written nftables DNAT (numgen inc over the same two real servers, no counters): the
# kernel's NAT alone. Rounds alternate (direct, hand DNAT, vigil VIP) so drift hits all three.
#   bench/lvs/run.sh [ROUNDS] [SECONDS] [THREADS]   (as root; prints every round and the medians)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${VIGIL_OUT:-$here/../../out}
rounds=${1:-7}; secs=${2:-5}; threads=${3:-4}
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
id=vglb$$
work=$(mktemp -d /tmp/vigil-bench-lvs.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; kill -KILL "$p" 2>/dev/null || true; done
  for ns in cl dir rs1 rs2; do ip netns del "$id-$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
for ns in cl dir rs1 rs2; do ip netns add "$id-$ns"; ip -n "$id-$ns" link set lo up; done
link() { # A IFA B IFB ADDR_A ADDR_B
  ip -n "$id-$1" link add "$2" type veth peer name "$4" netns "$id-$3"
  ip -n "$id-$1" addr add "$5" dev "$2"; ip -n "$id-$3" addr add "$6" dev "$4"
  ip -n "$id-$1" link set "$2" up; ip -n "$id-$3" link set "$4" up
}
link cl eth0 dir eth0 10.99.1.10/24 10.99.1.1/24
link dir eth1 rs1 eth0 10.99.2.1/24 10.99.2.2/24
link dir eth2 rs2 eth0 10.99.3.1/24 10.99.3.2/24
ip -n "$id-dir" addr add 10.99.1.100/24 dev eth0
ip -n "$id-dir" addr add 10.99.1.101/24 dev eth0
# The baseline load balancer: one rule, the kernel's DNAT, on 10.99.1.101.
ip netns exec "$id-dir" nft -f - <<'NFT'
table ip vglb_base {
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 10.99.1.101 tcp dport 80 dnat to numgen inc mod 2 map { 0 : 10.99.2.2, 1 : 10.99.3.2 }
  }
}
NFT
ip netns exec "$id-dir" sysctl -qw net.ipv4.ip_forward=1
ip -n "$id-cl" route add 10.99.0.0/16 via 10.99.1.1
# The client closes every connection with an RST (load.py), so no TIME_WAIT builds up on either
# side; the state counts printed after every round show it (they must stay flat).
for i in 1 2; do
  ip -n "$id-rs$i" route add default via "10.99.$((i + 1)).1"
  d=$work/rs$i; mkdir -p "$d/www" "$d/tmp"; echo "rs$i" > "$d/www/index.html"
  cat > "$d/nginx.conf" <<NGINX
user root root;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $d/tmp/body; proxy_temp_path $d/tmp/proxy; fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi; scgi_temp_path $d/tmp/scgi;
  server { listen 10.99.$((i + 1)).2:80 backlog=4096; root $d/www; }
}
NGINX
  ip netns exec "$id-rs$i" nginx -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;' & pids+=($!)
done
# Each real server must answer directly before the director is started (nginx exits at once on a
# config error, e.g. "backlog 4096" instead of "backlog=4096"; the first run of this script did).
for i in 1 2; do
  for _ in $(seq 1 50); do ip netns exec "$id-cl" curl -s -m 1 "http://10.99.$((i + 1)).2/" >/dev/null 2>&1 && break; sleep 0.1; done
  ip netns exec "$id-cl" curl -s -m 1 "http://10.99.$((i + 1)).2/" >/dev/null ||
    { echo "real server rs$i (10.99.$((i + 1)).2:80) does not answer"; cat "$work/rs$i/error.log" 2>/dev/null; exit 1; }
done
cat > "$work/keepalived.conf" <<'CONF'
virtual_server 10.99.1.100 80 {
    delay_loop 5
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.99.2.2 80 { TCP_CHECK { connect_timeout 1 } }
    real_server 10.99.3.2 80 { TCP_CHECK { connect_timeout 1 } }
}
CONF
mkdir -p "$work/run"
ip netns exec "$id-dir" "$out/vigil-controld" -f "$work/keepalived.conf" --run-dir "$work/run" > "$work/controld.log" 2>&1 & pids+=($!)
for _ in $(seq 1 200); do
  ip netns exec "$id-cl" curl -s -m 1 http://10.99.1.100/ >/dev/null 2>&1 && break; sleep 0.1
done
ip netns exec "$id-cl" curl -s -m 1 http://10.99.1.100/ >/dev/null || { echo "the VIP does not answer"; cat "$work/controld.log"; exit 1; }
backend=$("$out/vigilctl" --run-dir "$work/run" lvs --json | grep -o '"backend": "[a-z]*"' | head -1 | cut -d'"' -f4)
python=$(command -v python3)
ip netns exec "$id-cl" curl -s -m 1 http://10.99.1.101/ >/dev/null || { echo "the baseline DNAT VIP does not answer"; exit 1; }
direct=(); base=(); vip=()
timewait() { ip netns exec "$id-$1" ss -Htan state time-wait | wc -l; }
arm() { ip netns exec "$id-cl" "$python" "$here/load.py" "$1" 80 "$secs" "$threads"; }
for r in $(seq 1 "$rounds"); do
  # The order rotates (direct first, then the hand DNAT first, then vigil first, ...).
  case $((r % 3)) in
    1) read -r d de < <(arm 10.99.2.2); read -r b be < <(arm 10.99.1.101); read -r v ve < <(arm 10.99.1.100) ;;
    2) read -r b be < <(arm 10.99.1.101); read -r v ve < <(arm 10.99.1.100); read -r d de < <(arm 10.99.2.2) ;;
    0) read -r v ve < <(arm 10.99.1.100); read -r d de < <(arm 10.99.2.2); read -r b be < <(arm 10.99.1.101) ;;
  esac
  echo "round $r: direct $d req/s ($de errors), hand DNAT $b req/s ($be errors), vigil VIP $v req/s ($ve errors) (load $(cut -d' ' -f1 /proc/loadavg))"
  echo "  state after round $r: client TIME_WAIT $(timewait cl), rs1 TIME_WAIT $(timewait rs1), rs2 TIME_WAIT $(timewait rs2), director conntrack $(ip netns exec "$id-dir" cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo n/a)"
  direct+=("$d"); base+=("$b"); vip+=("$v")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
md=$(median "${direct[@]}"); mb=$(median "${base[@]}"); mv=$(median "${vip[@]}")
echo "backend $backend, $threads threads, $rounds rounds of $secs s, one TCP connection per request"
echo "median direct $md req/s, median hand DNAT $mb req/s, median vigil VIP $mv req/s"
echo "ratio vigil VIP/direct $(ratio "$mv" "$md"), vigil VIP/hand DNAT $(ratio "$mv" "$mb"), hand DNAT/direct $(ratio "$mb" "$md")"
"$out/vigilctl" --run-dir "$work/run" lvs --stats
