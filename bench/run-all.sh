#!/usr/bin/env bash
# make bench: every benchmark, results written under bench/results/. Benchmarks are measurements,
# not tests: run them on a quiet machine (other load skews wall times; CPU and allocation figures
# less so) and commit the results they write.
set -euo pipefail
cd "$(dirname "$0")/.."
run() { echo; echo "== $1"; shift; "$@"; }
run "RPC: Vigil.Rpc vs bare Kestrel HTTP/2 (bench/results/rpc.md)" \
  dotnet run -c Release --project bench/rpc -- 5 5 bench/results/rpc.md
run "Config: parse + validate of 1,000 instances / 2,000 virtual servers (bench/results/config.md)" \
  dotnet run -c Release --project bench/config
run "Checkers: 10,000 TCP_CHECKs at delay_loop 1 (bench/results/checkers.md)" \
  dotnet run -c Release --project bench/checkers
run "Failover: Vigil and keepalived in the same lab (bench/results/failover.md)" \
  dotnet run -c Release --project bench/failover -- --out bench/results/failover.md
run "Footprint: RSS/PSS and startup of a VRRP-only node vs keepalived and the AOT gRPC floor (bench/results/footprint.md)" \
  bash bench/footprint/run.sh
run "LVS: requests/s through a vigil-ipvsd VIP vs direct and a hand-written nft DNAT (bench/results/lvs-requests.txt; see lvs.md)" \
  bash -c 'bash bench/lvs/run.sh 7 5 4 | tee bench/results/lvs-requests.txt'
run "LVS: programming 1000 x 10 by vigil-ipvsd vs nft -f / ipvsadm -R (bench/results/lvs-reconcile.txt; see lvs.md)" \
  bash -c 'bash bench/lvs/reconcile.sh 1000 10 5 | tee bench/results/lvs-reconcile.txt'
