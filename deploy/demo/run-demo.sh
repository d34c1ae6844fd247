#!/usr/bin/env bash
# make demo: two directors, a client and three nginx real servers in network namespaces on two
# bridges (outside: client and directors; inside: directors and real servers). Vigil runs on both
# directors with deploy/demo/keepalived-r{1,2}.conf (plain keepalived.conf): the client's
# requests to the VIP are load-balanced over the real servers (LVS-NAT; nftables here when the
# kernel has no IPVS), one real server's nginx stops and its health check takes it out of the
# pool, then the master's cable is pulled, the backup takes over both VIPs and the service, the
# cable comes back and the master takes them back. Only addresses inside the namespaces it creates are used; everything it
# starts is stopped by its own pid and the namespaces are removed, even on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${VIGIL_OUT:-$here/../../out}
[ "$(id -u)" = 0 ] || { echo "make demo needs root (network namespaces)" >&2; exit 1; }
for p in vigil-controld vigil-vrrpd vigilctl; do
  [ -x "$out/$p" ] || { echo "$out/$p is missing: run make build" >&2; exit 1; }
done
for t in ip tcpdump ping curl nginx nft; do command -v $t >/dev/null || { echo "$t is missing: run make deps" >&2; exit 1; }; done

id=vgdemo$$
work=$(mktemp -d /tmp/vigil-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  for ns in r1 r2 client sw swin rs1 rs2 rs3; do ip netns del "$id-$ns" 2>/dev/null || true; done
  [ -n "${VIGIL_DEMO_KEEP:-}" ] && cp -r "$work" "$VIGIL_DEMO_KEEP" || true
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
now_ms() { date +%s%3N; }
vctl() { "$out/vigilctl" --run-dir "$work/$1" status; }
state_of() { "$out/vigilctl" --run-dir "$work/$1" status --json 2>/dev/null | grep -o '"state": "[A-Z_]*"' | head -1 | sed 's/.*"INSTANCE_STATE_\(.*\)"/\1/'; }
wait_state() { # router state seconds
  local end=$(( $(now_ms) + $3 * 1000 ))
  while [ "$(now_ms)" -lt "$end" ]; do [ "$(state_of "$1")" = "$2" ] && return 0; sleep 0.02; done
  echo "timed out waiting for $1 to be $2" >&2; return 1
}

# cable HOST IFNAME SWITCH ADDRESS: a veth from the host's namespace to the switch's bridge.
cable() {
  ip -n "$id-$1" link add "$2" type veth peer name "p-$1-$2" netns "$id-$3"
  ip -n "$id-$3" link set "p-$1-$2" master br0 up
  ip -n "$id-$1" addr add "$4" dev "$2"; ip -n "$id-$1" link set "$2" up
}
say "Building the lab: directors r1 and r2, a client, real servers rs1..rs3 (namespaces $id-*)"
for sw in sw swin; do
  ip netns add "$id-$sw"; ip -n "$id-$sw" link add br0 type bridge forward_delay 0; ip -n "$id-$sw" link set br0 up
done
for h in r1 r2 client rs1 rs2 rs3; do ip netns add "$id-$h"; ip -n "$id-$h" link set lo up; done
cable r1 eth0 sw 192.168.77.1/24; cable r1 eth1 swin 10.77.0.1/24
cable r2 eth0 sw 192.168.77.2/24; cable r2 eth1 swin 10.77.0.2/24
cable client eth0 sw 192.168.77.100/24
for h in r1 r2; do ip netns exec "$id-$h" sysctl -qw net.ipv4.ip_forward=1; done
echo "  outside 192.168.77.0/24: r1 .1, r2 .2, client .100, VIP .10"
echo "  inside  10.77.0.0/24:    r1 .1, r2 .2, real servers .11 .12 .13, gateway VIP .254"
for i in 1 2 3; do
  cable "rs$i" eth0 swin "10.77.0.1$i/24"
  ip -n "$id-rs$i" route add default via 10.77.0.254
  mkdir -p "$work/rs$i/www" "$work/rs$i/tmp"
  echo "rs$i" > "$work/rs$i/www/index.html"
  cat > "$work/rs$i/nginx.conf" <<NGINX
user root root;
worker_processes 1;
pid $work/rs$i/nginx.pid;
error_log $work/rs$i/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $work/rs$i/tmp/body; proxy_temp_path $work/rs$i/tmp/proxy;
  fastcgi_temp_path $work/rs$i/tmp/fastcgi; uwsgi_temp_path $work/rs$i/tmp/uwsgi; scgi_temp_path $work/rs$i/tmp/scgi;
  server { listen 10.77.0.1$i:80; root $work/rs$i/www; }
}
NGINX
  ip netns exec "$id-rs$i" nginx -e "$work/rs$i/error.log" -c "$work/rs$i/nginx.conf" -g 'daemon off;' &
  pids+=($!); eval "nginx_rs$i=\$!"
done
lvs() { "$out/vigilctl" --run-dir "$work/$1" lvs; }
# fetch N: N requests to the VIP from the client, counted by the real server that answered.
fetch() {
  for _ in $(seq 1 "$1"); do ip netns exec "$id-client" curl -s -m 2 http://192.168.77.10/ || echo "(no answer)"; done | sort | uniq -c | sed 's/^ */  /'
}

say "Starting vigil-controld on both routers (keepalived.conf from deploy/demo)"
for h in r1 r2; do
  mkdir -p "$work/$h"
  ip netns exec "$id-$h" "$out/vigil-controld" -f "$here/keepalived-$h.conf" --run-dir "$work/$h" >"$work/$h.log" 2>&1 &
  pids+=($!)
done
wait_state r1 MASTER 20 && wait_state r2 BACKUP 20
say "vigilctl status on r1"; vctl r1
say "vigilctl status on r2"; vctl r2

say "Load balancing: 12 requests from the client to the VIP (rr over three real servers)"
for _ in $(seq 1 100); do ip netns exec "$id-client" curl -s -m 1 http://192.168.77.10/ >/dev/null && break; sleep 0.1; done
fetch 12
say "vigilctl lvs on r1 (what ipvsadm -Ln would print)"; lvs r1

say "Stopping rs2's nginx: its HTTP_GET fails (delay_loop 1, retry 1, delay_before_retry 1)"
t_rs=$(now_ms)
kill -TERM "$nginx_rs2"
while lvs r1 | grep -q 10.77.0.12; do
  [ $(( $(now_ms) - t_rs )) -lt 20000 ] || { echo "rs2 did not leave the pool in 20 s" >&2; exit 1; }
  sleep 0.1
done
echo "  rs2 left the pool $(( $(now_ms) - t_rs )) ms after its nginx stopped"
fetch 9
lvs r1

ip netns exec "$id-client" tcpdump -Z root --immediate-mode -U -n -i eth0 -w "$work/lan.pcap" 'ip proto 112 or arp' >/dev/null 2>&1 &
pids+=($!)
ip netns exec "$id-client" ping -D -n -i 0.1 -W 1 192.168.77.10 >"$work/ping.txt" 2>&1 &
ping_pid=$!; pids+=($ping_pid)
sleep 2

say "Pulling r1's outside cable (its switch port goes down; the sync group moves the inside VIP too)"
t0=$(now_ms)
ip -n "$id-sw" link set p-r1-eth0 down
wait_state r2 MASTER 20
t1=$(now_ms)
echo "  r2 reports MASTER $((t1 - t0)) ms after the cable was pulled"
echo "  (it waited Master_Down_Interval = 3 x advert_int + skew (256-100)/256 s = 3609 ms from r1's last advert)"
sleep 2
say "vigilctl status on r2"; vctl r2
say "The service, now through r2: 8 requests"; fetch 8

say "Plugging r1 back in: it has priority 150 and preempts"
t2=$(now_ms)
ip -n "$id-sw" link set p-r1-eth0 up
wait_state r1 MASTER 20
t3=$(now_ms)
wait_state r2 BACKUP 20
echo "  r1 reports MASTER again $((t3 - t2)) ms after the cable came back"
echo "  (its link came up as BACKUP; it ignores r2's lower-priority adverts and takes over when its own"
echo "   master down timer expires, as RFC 3768 and keepalived do with preemption)"
sleep 1
kill -INT "$ping_pid" 2>/dev/null || true; sleep 0.5
say "vigilctl status on r1"; vctl r1
say "The service, back through r1: 8 requests"; fetch 8

say "Timeline, as the client saw it (its capture of VRRP and ARP, and its pings)"
# Times are seconds since the cable was pulled; fail-back times since it came back.
tcpdump -n -tt -r "$work/lan.pcap" 2>/dev/null | awk -v t0="$t0" -v t2="$t2" '
  function rel(t, base) { return t - base / 1000 }
  /VRRP/ {
    src = $3; t = $1
    if (t * 1000 < t2) {
      if (src == "192.168.77.1" && t * 1000 < t0 + 50) last_r1 = t
      if (src == "192.168.77.2" && !first_r2) first_r2 = t
    } else {
      if (src == "192.168.77.2") last_r2 = t
      if (src == "192.168.77.1" && !first_r1) first_r1 = t
    }
  }
  /ARP, Request who-has 192\.168\.77\.10 .*tell 192\.168\.77\.10,/ {
    if (first_r2 && !garp2 && $1 * 1000 < t2) garp2 = $1
    if (first_r1 && !garp1 && $1 * 1000 >= t2) garp1 = $1
  }
  END {
    printf "  failover (cable pulled at 0.000 s):\n"
    printf "    %8.3f s  last advert from r1\n", rel(last_r1, t0)
    printf "    %8.3f s  first advert from r2 (%.0f ms after r1s last advert; Master_Down_Interval is 3609 ms)\n", rel(first_r2, t0), (first_r2 - last_r1) * 1000
    if (garp2) printf "    %8.3f s  first gratuitous ARP for the VIP from r2\n", rel(garp2, t0)
    printf "  fail-back (cable back at 0.000 s):\n"
    printf "    %8.3f s  first advert from r1 (preempting)\n", rel(first_r1, t2)
    printf "    %8.3f s  last advert from r2\n", rel(last_r2, t2)
    if (garp1) printf "    %8.3f s  first gratuitous ARP for the VIP from r1\n", rel(garp1, t2)
  }'
# Pings: a missing icmp_seq between two answers is a lost ping; which phase it belongs to is
# decided by the time of the answer after the gap.
awk -v t2="$t2" '
  /icmp_seq=/ {
    ts = substr($1, 2, length($1) - 2); seq = $0; sub(/.*icmp_seq=/, "", seq); sub(/ .*/, "", seq)
    if (prev && seq > prev + 1) { if (ts * 1000 < t2) lost1 += seq - prev - 1; else lost2 += seq - prev - 1 }
    prev = seq; answered++
  }
  END { printf "  client pings every 100 ms: %d answered, %d lost during failover, %d lost during fail-back\n", answered, lost1, lost2 }' "$work/ping.txt"
echo
echo "Logs: r1 and r2 controld/vrrpd lines follow (last 8 each)."
tail -n 8 "$work/r1.log" | sed 's/^/  r1 | /'
tail -n 8 "$work/r2.log" | sed 's/^/  r2 | /'
say "Demo done; cleaning up"
