#!/usr/bin/env bash
# bench/lvs reconcile: how long vigil-ipvsd takes to program VS virtual servers x RS real servers
# from nothing, and a reconcile pass that finds nothing to change, against loading the very same
# table with the backend's own tool in the same repetition (ipvsadm -R for IPVS, nft -f for nftables).
# Every repetition is a fresh namespace and a fresh vigil-controld; medians at the end.
#   bench/lvs/reconcile.sh [VS] [RS] [REPS]   (as root; in a namespace of its own, or in the IPVS VM)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${VIGIL_OUT:-$here/../../out}
vs=${1:-1000}; rs=${2:-10}; reps=${3:-5}
work=$(mktemp -d /tmp/vigil-bench-reconcile.XXXXXX)
ns=
pid=
stop() {
  [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; kill -KILL "$pid" 2>/dev/null || true; }
  pid=
  [ -n "$ns" ] && { ip netns del "$ns" 2>/dev/null || true; ip netns del "$ns-base" 2>/dev/null || true; }
  ns=
}
cleanup() { stop; rm -rf "$work"; }
trap cleanup EXIT
{
  for v in $(seq 0 $((vs - 1))); do
    echo "virtual_server 10.$((10 + v / 250)).$((v % 250)).1 80 {"
    echo "    lb_algo wrr"; echo "    lb_kind NAT"; echo "    protocol TCP"
    for r in $(seq 1 "$rs"); do echo "    real_server 10.200.$((v / 250)).$(( (v % 250) )) $((8000 + r)) { weight $r }"; done
    echo "}"
  done
} > "$work/keepalived.conf"
counter() { "$out/vigilctl" --run-dir "$work/run" --timeout 60 lvs --json | grep -o "\"$1\": \"[0-9]*\"" | grep -o '[0-9]*' | head -1; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
firsts=(); idles=(); bases=(); backend=; services=
for rep in $(seq 1 "$reps"); do
  ns=vgrc$$-$rep
  # In a namespace when we can (nftables tables are per namespace; IPVS too).
  in_ns=(); if ip netns add "$ns" 2>/dev/null; then in_ns=(ip netns exec "$ns"); "${in_ns[@]}" ip link set lo up; else ns=; fi
  rm -rf "$work/run"; mkdir -p "$work/run"
  "${in_ns[@]}" "$out/vigil-controld" -C -f "$work/keepalived.conf" --run-dir "$work/run" > "$work/controld.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 1200); do
    [ -n "$(counter last_change_reconcile_micros 2>/dev/null || true)" ] && break; sleep 0.5
  done
  first=$(counter last_change_reconcile_micros)
  services=$("$out/vigilctl" --run-dir "$work/run" --timeout 60 lvs --json | grep -c '"scheduler"' || true)
  r0=$(counter reconciles)
  for _ in $(seq 1 60); do [ "$(counter reconciles)" -gt "$r0" ] && break; sleep 0.5; done
  idle=$(counter last_reconcile_micros)
  backend=$("$out/vigilctl" --run-dir "$work/run" lvs --json | grep -o '"backend": "[a-z]*"' | head -1 | cut -d'"' -f4)
  # The baseline: the same table, dumped, loaded by the backend's own tool into an empty table.
  if [ "$backend" = ipvs ]; then
    "${in_ns[@]}" ipvsadm -Sn > "$work/table"
    kill -TERM "$pid"; wait "$pid" || true; pid=
    "${in_ns[@]}" ipvsadm -C
    t0=$(date +%s%N); "${in_ns[@]}" ipvsadm -R < "$work/table"; t1=$(date +%s%N)
    "${in_ns[@]}" ipvsadm -C
  else
    "${in_ns[@]}" nft list table inet vigil_lvs > "$work/table"
    kill -TERM "$pid"; wait "$pid" || true; pid=
    ip netns add "$ns-base"
    t0=$(date +%s%N); ip netns exec "$ns-base" nft -f "$work/table"; t1=$(date +%s%N)
  fi
  base=$(( (t1 - t0) / 1000 ))
  echo "rep $rep: vigil first reconcile $((first / 1000)) ms, idle reconcile $((idle / 1000)) ms, baseline $((base / 1000)) ms (load $(cut -d' ' -f1 /proc/loadavg))"
  firsts+=("$first"); idles+=("$idle"); bases+=("$base")
  stop
done
mf=$(median "${firsts[@]}"); mi=$(median "${idles[@]}"); mb=$(median "${bases[@]}")
tool=$([ "$backend" = ipvs ] && echo 'ipvsadm -R' || echo 'nft -f')
echo "backend $backend: $services services of $rs real servers, $reps repetitions (medians)"
echo "vigil-ipvsd first reconcile (programs everything): $(awk -v a="$mf" 'BEGIN {printf "%.0f", a / 1000}') ms"
echo "vigil-ipvsd reconcile with nothing to change:      $(awk -v a="$mi" 'BEGIN {printf "%.0f", a / 1000}') ms"
echo "baseline, the same table loaded by $tool: $(awk -v a="$mb" 'BEGIN {printf "%.0f", a / 1000}') ms"
echo "ratio first reconcile / baseline: $(awk -v a="$mf" -v b="$mb" 'BEGIN {printf "%.2f", a / b}')"
echo "ratio idle reconcile / baseline: $(awk -v a="$mi" -v b="$mb" 'BEGIN {printf "%.2f", a / b}')"
