#!/bin/sh
# Runs inside the IPVS VM (VmTrafficTests.ConnectionSync): d1 (MASTER) and d2 (BACKUP) run
# vigil-controld with an outside VIP and an inside gateway VIP in one sync group and a LVS-NAT
# virtual server; a client holds one TCP connection to an echo server on rs through the VIP while
# d1 is stopped. $SYNC (env.sh) = on: lvs_sync_daemon eth1 VI_1; off: none.
# Lines "R KEY=VALUE" are results read by the test; the rest is the log.
set -u
. "$VM_SHARE/env.sh"
[ -x "$OUT/vigil-controld" ] || { echo "no $OUT/vigil-controld in the guest"; exit 1; }
VIP=10.60.0.100
GW=10.61.0.254
ms() { echo $(( $(date +%s%N) / 1000000 )); }
T0=$(ms)
log() { echo "[$(( $(ms) - T0 )) ms] $*"; }

ip link add brO type bridge; ip link set brO up
ip link add brI type bridge; ip link set brI up
for n in client d1 d2 rs; do ip netns add $n; ip -n $n link set lo up; done
link() { # NS IFACE BRIDGE ADDR
  ip link add v-$1-$2 type veth peer name $2 netns $1
  ip link set v-$1-$2 master $3 up
  ip -n $1 link set $2 up
  ip -n $1 addr add $4 dev $2
}
link client eth0 brO 10.60.0.2/24
link d1 eth0 brO 10.60.0.3/24
link d2 eth0 brO 10.60.0.4/24
link d1 eth1 brI 10.61.0.3/24
link d2 eth1 brI 10.61.0.4/24
link rs eth0 brI 10.61.0.11/24
ip -n rs route add default via $GW
for d in d1 d2; do ip netns exec $d sysctl -qw net.ipv4.ip_forward=1; done

cat > /tmp/echo.py <<'PY'
import socket, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80))
s.listen(16)
def serve(c):
    while True:
        d = c.recv(4096)
        if not d:
            break
        c.sendall(d)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
# One connection, a line every 200 ms, each echo awaited (5 s at most); one status line per
# exchange in /tmp/client.log; stops at the first error or when /tmp/client.stop appears.
cat > /tmp/client.py <<'PY'
import os, socket, sys, time
log = open("/tmp/client.log", "a", buffering=1)
def now(): return int(time.time() * 1000)
c = socket.create_connection((sys.argv[1], 80), timeout=5)
log.write("connected %d %s\n" % (now(), c.getsockname()))
n = 0
last = now()
maxgap = 0
try:
    while not os.path.exists("/tmp/client.stop"):
        n += 1
        msg = b"line %d\n" % n
        c.sendall(msg)
        got = b""
        while len(got) < len(msg):
            d = c.recv(4096)
            if not d:
                raise ConnectionError("closed by peer")
            got += d
        if got != msg:
            raise ConnectionError("wrong echo %r" % got)
        t = now()
        maxgap = max(maxgap, t - last)
        last = t
        log.write("ok %d %d\n" % (n, t))
        time.sleep(0.2)
    log.write("done ok=%d maxgap=%d\n" % (n, maxgap))
except Exception as e:
    log.write("error %d %s: %s ok=%d maxgap=%d\n" % (now(), type(e).__name__, e, n - 1, maxgap))
PY
ip netns exec rs python3 /tmp/echo.py > /tmp/echo.log 2>&1 &
ECHO=$!

conf() { # NAME STATE PRIORITY
  echo "global_defs {"
  echo "    router_id $1"
  [ "$SYNC" = on ] && echo "    lvs_sync_daemon eth1 VI_1"
  cat <<CONF
}
vrrp_sync_group G {
    group {
        VI_1
        VI_2
    }
}
vrrp_instance VI_1 {
    state $2
    interface eth0
    virtual_router_id 61
    priority $3
    advert_int 1
    virtual_ipaddress {
        $VIP/24
    }
}
vrrp_instance VI_2 {
    state $2
    interface eth1
    virtual_router_id 62
    priority $3
    advert_int 1
    virtual_ipaddress {
        $GW/24
    }
}
virtual_server $VIP 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.61.0.11 80 {
    }
}
CONF
}
conf d1 MASTER 150 > /tmp/d1.conf
conf d2 BACKUP 100 > /tmp/d2.conf
mkdir -p /run/v-d1 /run/v-d2
log "starting d1, d2"
ip netns exec d1 "$OUT/vigil-controld" -f /tmp/d1.conf --run-dir /run/v-d1 > /tmp/d1.log 2>&1 &
D1=$!
ip netns exec d2 "$OUT/vigil-controld" -f /tmp/d2.conf --run-dir /run/v-d2 > /tmp/d2.log 2>&1 &
D2=$!
CLIENT=""

stop() {
  kill -TERM $1 2>/dev/null
  i=0; while kill -0 $1 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL $1 2>/dev/null
}
fin() {
  touch /tmp/client.stop
  [ -n "$CLIENT" ] && { sleep 0.5; kill -KILL $CLIENT 2>/dev/null; }
  stop $D1; stop $D2
  kill -KILL $ECHO 2>/dev/null
  echo "--- client log (head and tail)"; head -n 3 /tmp/client.log; tail -n 5 /tmp/client.log
  echo "--- d1 log"; tail -n 40 /tmp/d1.log
  echo "--- d2 log"; tail -n 40 /tmp/d2.log
}
trap fin EXIT

has() { ip -n $1 addr show dev $2 | grep -q "inet $3/"; }
i=0
while [ $i -lt 400 ]; do
  has d1 eth0 $VIP && has d1 eth1 $GW \
    && ip netns exec d1 ipvsadm -Ln | grep -q -- '-> 10.61.0.11:80 *Masq' \
    && ip netns exec d2 ipvsadm -Ln | grep -q -- '-> 10.61.0.11:80 *Masq' \
    && { [ "$SYNC" != on ] || { ip netns exec d1 ipvsadm -L --daemon | grep -q master \
         && ip netns exec d2 ipvsadm -L --daemon | grep -q backup; }; } && break
  sleep 0.1; i=$((i+1))
done
echo "R ready_ms=$(( $(ms) - T0 ))"
echo "R d2_holds_vip_before=$(has d2 eth0 $VIP && echo yes || echo no)"
echo "--- d1 ipvsadm -Ln; --daemon"; ip netns exec d1 ipvsadm -Ln; ip netns exec d1 ipvsadm -L --daemon
echo "--- d2 ipvsadm -Ln; --daemon"; ip netns exec d2 ipvsadm -Ln; ip netns exec d2 ipvsadm -L --daemon
echo "--- end"

ip netns exec client python3 /tmp/client.py $VIP &
CLIENT=$!
# The connection going (5 exchanges) and, with sync, on d2 (IPVS syncs a connection at its 3rd packet).
i=0
while [ $i -lt 200 ]; do
  [ "$(grep -c '^ok' /tmp/client.log 2>/dev/null)" -ge 5 ] \
    && { [ "$SYNC" != on ] || ip netns exec d2 ipvsadm -Lnc | grep -q 'ESTABLISHED.*10.61.0.11:80'; } && break
  sleep 0.1; i=$((i+1))
done
sleep 1
echo "R ok_before=$(grep -c '^ok' /tmp/client.log)"
echo "--- d1 ipvsadm -Lnc"; ip netns exec d1 ipvsadm -Lnc
echo "--- d2 ipvsadm -Lnc"; ip netns exec d2 ipvsadm -Lnc
echo "--- end"
echo "R d1_conn=$(ip netns exec d1 ipvsadm -Lnc | grep -c 'ESTABLISHED.*10.60.0.100:80.*10.61.0.11:80')"
echo "R d2_conn_before=$(ip netns exec d2 ipvsadm -Lnc | grep -c 'ESTABLISHED.*10.60.0.100:80.*10.61.0.11:80')"

log "stopping d1's vigil-controld (pid $D1)"
STOPPED=$(ms)
kill -TERM $D1
i=0
while [ $i -lt 300 ]; do has d2 eth0 $VIP && has d2 eth1 $GW && break; sleep 0.1; i=$((i+1)); done
echo "R takeover_ms=$(( $(ms) - STOPPED ))"
OK_AT_TAKEOVER=$(grep -c '^ok' /tmp/client.log)
sleep 6
echo "R d1_exited=$(kill -0 $D1 2>/dev/null && echo no || echo yes)"
echo "R d1_holds_vip_after=$(has d1 eth0 $VIP && echo yes || echo no)"
echo "R ok_at_takeover=$OK_AT_TAKEOVER"
echo "R ok_after=$(grep -c '^ok' /tmp/client.log)"
echo "R client_alive=$(kill -0 $CLIENT 2>/dev/null && echo yes || echo no)"
echo "--- d2 ipvsadm -Lnc after"; ip netns exec d2 ipvsadm -Lnc
echo "--- end"
touch /tmp/client.stop
i=0; while kill -0 $CLIENT 2>/dev/null && [ $i -lt 70 ]; do sleep 0.1; i=$((i+1)); done
echo "R client_end=$(grep -E '^(done|error)' /tmp/client.log | tail -n 1)"
echo "R total_ms=$(( $(ms) - T0 ))"
