#!/bin/sh
# Runs inside the IPVS VM (see IpvsdVmFixture): every case under /tmp/out/cases by keepalived and
# then by Vigil, and the special scenarios; what ipvsadm sees goes to /tmp/out/results.
. /tmp/out/env.sh
R=/tmp/out/results
mkdir -p "$R"
log() { echo "$(date +%T) $*" >> "$R/log"; }

ip link set lo up
ip link add v0 type veth peer name v1
ip addr add 10.0.0.254/24 dev v0
ip -6 addr add fd00::fe/64 dev v0 nodad
ip link set v0 up
ip link set v1 up

# Until `ipvsadm -Sn` is non-empty and the same twice 0.5 s apart (at most 30 s), or still
# empty after 8 s (a configuration that programs nothing).
wait_table() {
  local prev="" cur="" tries=0
  while [ $tries -lt 60 ]; do
    cur=$(ipvsadm -Sn 2>/dev/null)
    [ -n "$cur" ] && [ "$cur" = "$prev" ] && return 0
    [ -z "$cur" ] && [ $tries -ge 16 ] && return 1
    prev=$cur; tries=$((tries+1)); sleep 0.5
  done
  return 1
}

stop_pid() {
  local i=0
  kill -TERM "$1" 2>/dev/null
  while kill -0 "$1" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

reset_ipvs() {
  ipvsadm -C
  ipvsadm --set 900 120 300
  ipvsadm --stop-daemon master 2>/dev/null
  ipvsadm --stop-daemon backup 2>/dev/null
}

run_keepalived() { # NAME CONF FLAGS...
  local name=$1 conf=$2
  shift 2
  keepalived -n -l -D "$@" -f "$conf" -p "/run/k-$name.pid" -r "/run/kv-$name.pid" -c "/run/kc-$name.pid" > "$R/$name.keepalived.log" 2>&1 &
  PID=$!
}

run_vigil() { # NAME CONF FLAGS...
  local name=$1 conf=$2
  shift 2
  mkdir -p "/run/v-$name"
  "$OUT/vigil-controld" "$@" -f "$conf" --run-dir "/run/v-$name" > "$R/$name.vigil.log" 2>&1 &
  PID=$!
}

for f in /tmp/out/cases/*.conf; do
  n=$(basename "$f" .conf)
  log "case $n"
  reset_ipvs
  run_keepalived "$n" "$f" -C
  wait_table || log "$n: keepalived programmed nothing"
  log "$n: keepalived table read"
  ipvsadm -Sn | sort > "$R/$n.keepalived"
  ipvsadm -L --timeout > "$R/$n.keepalived.timeout"
  stop_pid $PID
  ipvsadm -Sn > "$R/$n.keepalived.after"

  reset_ipvs
  run_vigil "$n" "$f" -C
  wait_table || log "$n: vigil programmed nothing"
  log "$n: vigil table read"
  ipvsadm -Sn | sort > "$R/$n.vigil"
  ipvsadm -L --timeout > "$R/$n.vigil.timeout"
  ipvsadm -Ln > "$R/$n.ipvsadm-Ln"
  "$OUT/vigilctl" --run-dir "/run/v-$n" lvs > "$R/$n.vigilctl" 2>&1
  ipvsadm -Ln --stats > "$R/$n.ipvsadm-stats"
  "$OUT/vigilctl" --run-dir "/run/v-$n" lvs --stats > "$R/$n.vigilctl-stats" 2>&1
  "$OUT/vigilctl" --run-dir "/run/v-$n" lvs --json > "$R/$n.json" 2>&1
  stop_pid $PID
  ipvsadm -Sn > "$R/$n.vigil.after"
done

# Out-of-band edits are put back at the next reconcile; nothing is written while nothing changes.
log "oob"
reset_ipvs
run_vigil oob /tmp/out/oob.conf -C
wait_table
ipvsadm -Sn | sort > "$R/oob.before"
"$OUT/vigilctl" --run-dir /run/v-oob lvs --json > "$R/oob.json0"
ipvsadm -d -t 10.0.0.1:80 -r 10.0.1.2:80
ipvsadm -e -t 10.0.0.1:80 -r 10.0.1.3:80 -m -w 9
ipvsadm -A -t 10.0.0.1:81 -s rr
sleep 7
ipvsadm -Sn | sort > "$R/oob.after"
"$OUT/vigilctl" --run-dir /run/v-oob lvs --json > "$R/oob.json1"
sleep 11
"$OUT/vigilctl" --run-dir /run/v-oob lvs --json > "$R/oob.json2"
stop_pid $PID
ipvsadm -Sn | sort > "$R/oob.stopped"

# lvs_sync_daemon follows the VRRP instance: backup before it is MASTER, master after.
for who in keepalived vigil; do
  log "sync $who"
  reset_ipvs
  run_$who "sync-$who" /tmp/out/sync.conf
  # The first daemon seen: the instance starts BACKUP (Vigil starts slower under emulation).
  i=0
  while [ -z "$(ipvsadm -L --daemon)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  ipvsadm -L --daemon > "$R/sync.$who.early"
  sleep 8
  ipvsadm -L --daemon > "$R/sync.$who.master"
  stop_pid $PID
  ipvsadm -L --daemon > "$R/sync.$who.stopped"
done

log "done"
echo done > "$R/done"
