#!/usr/bin/env bash
# bench/lvs: requests/s to a VIP load-balanced by vigil-ipvsd (nftables backend on kernels
# without IPVS) against the same client talking to a real server directly through the same
# director (routed, no load balancer), in the same run; rounds alternate so drift hits both.
#   bench/lvs/run.sh [ROUNDS] [SECONDS] [THREADS]   (as root; writes bench/results/lvs-requests.txt)
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
ip netns exec "$id-dir" sysctl -qw net.ipv4.ip_forward=1
ip -n "$id-cl" route add 10.99.0.0/16 via 10.99.1.1
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
direct=(); vip=()
for r in $(seq 1 "$rounds"); do
  read -r d de < <(ip netns exec "$id-cl" "$python" "$here/load.py" 10.99.2.2 80 "$secs" "$threads")
  read -r v ve < <(ip netns exec "$id-cl" "$python" "$here/load.py" 10.99.1.100 80 "$secs" "$threads")
  echo "round $r: direct $d req/s ($de errors), VIP $v req/s ($ve errors)"
  direct+=("$d"); vip+=("$v")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
md=$(median "${direct[@]}"); mv=$(median "${vip[@]}")
echo "backend $backend, $threads threads, $rounds rounds of $secs s, one TCP connection per request"
echo "median direct $md req/s, median VIP $mv req/s, ratio VIP/direct $(awk -v a="$mv" -v b="$md" 'BEGIN {printf "%.2f", a / b}')"
"$out/vigilctl" --run-dir "$work/run" lvs --stats
